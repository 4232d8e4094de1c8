"""One progress line on stderr for a step that takes more than a few seconds.

Redrawn in place with the step's elapsed seconds; cleared when the step ends; never shown when
stderr is not a terminal or ``CI`` is set, so logs, pipes and CI output stay clean. Standard library
only: ``make plan`` runs this file (``python3 mlops_platform/progress_line.py LABEL -- COMMAND...``)
around the first ``pip install``, before anything else is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO


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


def run_with_progress(label: str, command: Sequence[str], stream: TextIO | None = None) -> int:
    """Run ``command`` with a progress line ``label``; its exit code."""
    with progress_line(stream) as line:
        line.show(label)
        return subprocess.run(list(command), check=False).returncode


def main(argv: Sequence[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: progress_line.py LABEL -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    return run_with_progress(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
