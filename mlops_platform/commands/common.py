"""What every command shares: the project it works on, one error style, the progress line.

* The project is found like git and pulumi find theirs: from the working directory (or ``-C DIR``)
  upwards, the nearest directory holding ``Pulumi.yaml`` and ``organization.yaml``
  (``mlops_core.paths.find_project_root``); ``MLOPS_PLATFORM_ROOT`` names one explicitly.
* Bad input is ``error: <what is wrong>`` on stderr, one line per problem, and exit code 2.
* A step that takes more than a moment shows one progress line on stderr, redrawn in place; never
  when stderr is not a terminal or ``CI`` is set, so logs and pipes stay clean.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer

from mlops_core.paths import ORGANIZATION_FILE, PROJECT_FILE, ROOT_ENV, find_project_root

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


def relative_to_cwd(path: Path) -> str:
    """``path`` as a user would type it from here (relative when below the working directory)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


# --- the progress line ---------------------------------------------------------------------------


def progress_enabled(stream: TextIO | None = None) -> bool:
    """Progress lines only for a person at a terminal: never with ``CI`` set or into a pipe or file."""
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressLine:
    """One status line on stderr, rewritten in place (``\\r``) with the step's elapsed seconds, cleared
    when done. A daemon thread redraws it twice a second while a long step runs.

    ``enabled`` defaults to :func:`progress_enabled`; disabled, it writes nothing at all.
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self._text = ""
        self._started = time.monotonic()
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def show(self, text: str) -> None:
        """Start a step: its text, with seconds counted from now."""
        if not self.enabled:
            return
        with self._lock:
            self._text, self._started = text, time.monotonic()
        self._draw()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progress-line", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            if not self._text:
                return
            line = f"{self._text} ... {time.monotonic() - self._started:.0f} s"
            self.stream.write("\r" + line.ljust(self._width))
            self.stream.flush()
            self._width = len(line)

    def clear(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.enabled and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
            self._width, self._text = 0, ""


@contextmanager
def progress_line(stream: TextIO | None = None, enabled: bool | None = None) -> Iterator[ProgressLine]:
    """A :class:`ProgressLine` that is cleared (and its thread stopped) however the block ends."""
    line = ProgressLine(stream, enabled)
    try:
        yield line
    finally:
        line.clear()
