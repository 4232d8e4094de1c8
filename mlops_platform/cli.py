"""The ``mlops-platform`` command line.

Each command lives in its own module under ``mlops_platform.commands`` and adds itself here through
``register(app)``, so the modules stay independent of each other. Options every command shares
(``-C``/``--cwd``, ``--version``) and the one error style (``error: ...``, exit 2) live here.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException, UsageError  # typer 0.29 vendors click
from typer.core import TyperGroup

from mlops_platform.commands import access, bootstrap, check, deploy, doctor, plan
from mlops_platform.commands import common, pins, policy_config, report, scaffold, stacks


class _Commands(TyperGroup):
    """Usage errors (unknown option, bad value, missing argument) in the same one-line style as
    every other error: ``error: <what is wrong> (see `<command> --help`)``, exit code 2."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            returned = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                    standalone_mode=False, **extra)
        except UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else "mlops-platform"
            message = error.format_message().rstrip(".").replace(" (Possible options: ", " (did you mean ")
            typer.echo(f"error: {message[:1].lower()}{message[1:]} (see `{command} --help`)", err=True)
            returned = error.exit_code
        except ClickException as error:
            typer.echo(f"error: {error.format_message()}", err=True)
            returned = error.exit_code
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            returned = 1
        finally:
            common.choose_directory(None)  # -C holds for this invocation only
        code = returned if isinstance(returned, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="mlops-platform",
    cls=_Commands,
    help="Plan, check, bootstrap and deploy the multi-account MLOps platform.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def package_version() -> str:
    try:
        return version("mlops-platform")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mlops-platform {package_version()}")
        raise typer.Exit(0)


@app.callback()
def _root(
    cwd: Annotated[
        Path | None,
        typer.Option("--cwd", "-C", metavar="DIR", file_okay=False,
                     help="Work on the project at or above DIR instead of the working directory."),
    ] = None,
    show_version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit.")
    ] = False,
) -> None:
    """Plan, check, bootstrap and deploy the multi-account MLOps platform.

    The project is the nearest directory, from the working directory (or -C DIR) upwards, that
    holds Pulumi.yaml and organization.yaml.
    """
    common.show_program_warnings()
    try:
        common.choose_directory(cwd)
    except common.NoProjectError as error:
        raise common.fail(str(error)) from None


for _module in (plan, check, deploy, bootstrap, doctor, access):
    _module.register(app)
for _module in (policy_config, report, scaffold, pins, stacks):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
