"""``mlops-platform stacks``: the platform's stacks in deploy order, as CI's matrix jobs need them.

Every stack file's stack the organisation uses, and after each EXP stack its model projects' stacks
(``exp.<project>``, no file of their own). ``--project-stacks`` keeps only those; ``--json`` prints a
JSON list (what ``fromJSON`` in a GitHub Actions matrix reads).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from mlops_core.config import ConfigError
from mlops_platform.commands.common import fail, project_root


def register(app: typer.Typer) -> None:
    @app.command()
    def stacks(
        project_stacks: Annotated[bool, typer.Option("--project-stacks", help="Only the model projects' stacks (exp.<project>).")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON list instead of a name per line.")] = False,
        state_moves: Annotated[
            bool, typer.Option("--state-moves", help="Print the `pulumi state move` script that splits a deployed EXP stack.")
        ] = False,
    ) -> None:
        """List the platform stacks in deploy order (the model projects' stacks after their EXP stack)."""
        from mlops_core.config import account_stack_of, load_organization
        from mlops_platform.commands.deploy import platform_stacks
        from mlops_platform.deployer.graph import build_graph

        try:
            root = project_root()
            org = load_organization(root)
            graph = build_graph(platform_stacks(root, org), has_data_account=org.has_data_account)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        names = [name for wave in graph.waves() for name in wave]
        if state_moves:
            from mlops_platform.project_split import state_move_script

            typer.echo(state_move_script(org), nl=False)
            return
        if project_stacks:
            names = [name for name in names if account_stack_of(name) is not None]
        typer.echo(json.dumps(names) if as_json else "\n".join(names))
