"""What every command shares: the project it works on, one error style, the progress line.

* The project is found like git and pulumi find theirs: from the working directory (or ``-C DIR``)
  upwards, the nearest directory holding ``Pulumi.yaml`` and ``organization.yaml``
  (``mlops_core.paths.find_project_root``); ``MLOPS_PLATFORM_ROOT`` names one explicitly.
* Bad input is ``error: <what is wrong>`` on stderr, one line per problem, and exit code 2.
* A step that takes more than a moment shows one progress line on stderr, redrawn in place; never
  when stderr is not a terminal or ``CI`` is set, so logs and pipes stay clean.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from mlops_core.paths import ORGANIZATION_FILE, PROJECT_FILE, ROOT_ENV, find_project_root
from mlops_platform.progress_line import ProgressLine, progress_enabled, progress_line

__all__ = [
    "BadInput", "NoProjectError", "ProgressLine", "StackOption", "choose_directory", "fail", "progress_enabled",
    "progress_line", "project_root", "relative_to_cwd", "show_program_warnings", "write_output",
]

EXIT_BAD_INPUT = 2

StackOption = Annotated[
    list[str] | None, typer.Option("--stack", "-s", metavar="NAME", help="Stack (repeatable); default: all.")
]


class BadInput(Exception):
    """Bad input to a command (an option, a file): the message is what is wrong, one line."""


class NoProjectError(BadInput):
    """No project at or above the directory the command was pointed at."""


_chosen_root: Path | None = None


def choose_directory(directory: Path | None) -> None:
    """Work on the project at or above ``directory`` (``-C``/``--cwd``); None: the working directory."""
    global _chosen_root
    _chosen_root = None
    if directory is None:
        return
    if not directory.is_dir():
        raise NoProjectError(f"-C {directory}: no such directory")
    root = find_project_root(directory.resolve())
    if root is None:
        raise NoProjectError(f"-C {directory}: no {PROJECT_FILE} and {ORGANIZATION_FILE} in it or any directory above it")
    _chosen_root = root


def project_root() -> Path:
    """The project this command works on: ``-C``, else ``MLOPS_PLATFORM_ROOT``, else found from the
    working directory. Raises :class:`NoProjectError` when there is none (never another checkout)."""
    if _chosen_root is not None:
        return _chosen_root
    explicit = os.environ.get(ROOT_ENV)
    if explicit:
        return Path(explicit).resolve()
    found = find_project_root(Path.cwd())
    if found is None:
        raise NoProjectError(
            f"no {PROJECT_FILE} and {ORGANIZATION_FILE} in {Path.cwd()} or above: run inside a checkout or pass -C DIR"
        )
    return found


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``error: <line>`` for every line of ``message`` to stderr; return the Exit to raise."""
    for line in str(message).splitlines() or [""]:
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(code)


def write_output(text: str, out: Path | None) -> None:
    """A command's report: to ``out`` (its directory created) or stdout, ending in one newline.
    An unwritable ``out`` is bad input (exit 2)."""
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"--out {out}: cannot write ({exc.strerror})") from None


def relative_to_cwd(path: Path) -> str:
    """``path`` as a user would type it from here (relative when below the working directory)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


class _OncePerRun(logging.Filter):
    """Drop a message already shown in this run (the programs run once per pass: one warning, once)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _LowerCaseLevel(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def show_program_warnings() -> logging.Handler:
    """Warnings the programs log under the mock runtime (it logs to the root logger) as
    ``warning: <message>`` lines on stderr, each distinct message once per run."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "mlops_platform", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_LowerCaseLevel())
    handler.addFilter(_OncePerRun())
    handler.mlops_platform = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return handler
