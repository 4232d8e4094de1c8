"""The ``mlops-platform`` command line.

Each command lives in its own module under ``mlops_platform.commands`` and adds itself here through
``register(app)``, so the modules stay independent of each other.
"""

from __future__ import annotations

import typer

from mlops_platform.commands import access, bootstrap, check, deploy, doctor, plan

app = typer.Typer(
    name="mlops-platform",
    help="Plan, check, bootstrap and deploy the multi-account MLOps platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Plan, check, bootstrap and deploy the multi-account MLOps platform."""


for _module in (plan, check, deploy, bootstrap, doctor, access):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
