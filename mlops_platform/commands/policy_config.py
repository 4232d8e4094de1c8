"""``mlops-platform policy-config``: rewrite ``policies/config/<role>.json`` from ``organization.yaml``.

Those files are what the Pulumi CLI gets as ``--policy-pack-config`` (``pulumi preview --policy-pack
policies``, the deployer). ``make plan`` runs this first; ``--check`` changes nothing and exits 1
when a file is stale (CI). The offline gate never needs them: it derives the same documents itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_core.config import ConfigError
from mlops_platform.commands.common import BadInput, fail, project_root, relative_to_cwd


def register(app: typer.Typer) -> None:
    @app.command("policy-config")
    def policy_config(
        check_only: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if a file is stale.")] = False,
    ) -> None:
        """Rewrite policies/config/<role>.json (the Pulumi CLI's --policy-pack-config) from organization.yaml."""
        from mlops_platform.policy_config import stale_files, stale_message, write_all

        try:
            root = project_root()
            if check_only:
                stale = stale_files(root)
                if stale:
                    raise fail(stale_message(stale, root), 1)
                typer.echo("policies/config/: up to date")
                return
            written = write_all(root)
        except (BadInput, ConfigError) as error:
            raise fail(str(error)) from None
        for path in written:
            typer.echo(f"wrote {relative_to_cwd(path)}")
        if not written:
            typer.echo("policies/config/: up to date")
