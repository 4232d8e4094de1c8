"""``mlops-platform pins check`` and ``pins bump NAME==VERSION ...``: the version pins of pyproject,
constraints, the policy pack's requirements and the images' tags, kept in agreement
(``mlops_platform.pins``). Exit 0 agreed or bumped, 1 they disagree, 2 bad input."""

from __future__ import annotations

from typing import Annotated

import typer

from mlops_platform.commands.common import BadInput, fail, project_root
from mlops_platform.pins import PinError, bump, disagreements


def register(app: typer.Typer) -> None:
    pins = typer.Typer(help="Check or bump the version pins (pyproject, constraints, pack, images).", no_args_is_help=True)

    @pins.command("check")
    def check() -> None:
        """Exit 1, one line per pin, where a file disagrees with constraints.txt."""
        try:
            found = disagreements(project_root())
        except (BadInput, PinError) as error:
            raise fail(str(error)) from None
        if found:
            raise fail("\n".join(str(d) for d in found), 1)
        typer.echo("pins agree: pyproject.toml, constraints.txt, policies/requirements.txt, images/*/VERSION")

    @pins.command("bump")
    def bump_command(
        requests: Annotated[list[str], typer.Argument(metavar="NAME==VERSION...", help="New versions, e.g. pulumi-aws==7.52.0.")],
    ) -> None:
        """Set new versions everywhere they are pinned; new image tags where the images change."""
        try:
            root = project_root()
            changes = bump(root, requests)
            found = disagreements(root)
        except (BadInput, PinError) as error:
            raise fail(str(error)) from None
        for line in changes or ["nothing to change: those versions are pinned already"]:
            typer.echo(line)
        if found:
            raise fail("\n".join(str(d) for d in found), 1)
        if changes:
            typer.echo("next: `make clean test` installs the new pins from scratch; pip names any conflict in constraints.txt")

    app.add_typer(pins, name="pins")
