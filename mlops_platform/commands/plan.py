"""`mlops-platform plan`: not wired yet."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
