"""Progress of a deploy: a live per-stack view, or ``--json`` newline-delimited events, and a closing table.

Both views get the same calls from the orchestrator (``state``, ``engine_event``, ``result``) and keep
the same per-stack record, so the closing table (created / updated / deleted, policy findings,
duration) is the same whichever view ran. JSON events are objects ``{"stack", "phase", "type", ...}``,
one per line on stdout; ``type`` is ``state``, ``resource``, ``resource-failed``, ``policy``,
``diagnostic``, ``summary`` or, at the end, ``result``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from pulumi.automation.events import EngineEvent
from rich.console import Console
from rich.live import Live
from rich.table import Table

from mlops_platform.deployer.runner import OperationResult

#: Final states; everything else is in progress.
FINAL_STATES = ("succeeded", "unchanged", "previewed", "failed", "skipped", "refused")
_STYLE = {"succeeded": "green", "unchanged": "green", "previewed": "cyan", "failed": "red", "skipped": "yellow",
          "refused": "red"}


@dataclass
class StackProgress:
    """What the closing table shows for one stack."""

    stack: str
    state: str = "queued"
    reason: str = ""
    created: int = 0
    updated: int = 0
    deleted: int = 0
    mandatory: int = 0
    advisory: int = 0
    started: float | None = None
    finished: float | None = None
    changes: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    """Policy findings of the preview (policy, enforcementLevel, urn, message), shown under the table."""

    @property
    def duration(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started


def event_record(stack: str, phase: str, event: EngineEvent) -> dict[str, Any] | None:
    """The JSON record of an engine event, or ``None`` for events not worth streaming."""
    base = {"stack": stack, "phase": phase}
    if event.resource_pre_event and event.resource_pre_event.metadata:
        meta = event.resource_pre_event.metadata
        return {**base, "type": "resource", "op": getattr(meta.op, "value", str(meta.op)), "urn": meta.urn,
                "resourceType": meta.type}
    if event.res_op_failed_event and event.res_op_failed_event.metadata:
        meta = event.res_op_failed_event.metadata
        return {**base, "type": "resource-failed", "op": getattr(meta.op, "value", str(meta.op)), "urn": meta.urn}
    if event.policy_event:
        policy = event.policy_event
        return {**base, "type": "policy", "policy": policy.policy_name, "policyPack": policy.policy_pack_name,
                "enforcementLevel": policy.enforcement_level, "message": policy.message, "urn": policy.resource_urn}
    if event.diagnostic_event and event.diagnostic_event.severity in ("error", "warning"):
        diag = event.diagnostic_event
        return {**base, "type": "diagnostic", "severity": diag.severity, "message": diag.message.strip(),
                "urn": diag.urn}
    if event.summary_event:
        summary = event.summary_event
        return {**base, "type": "summary", "resourceChanges": dict(summary.resource_changes or {}),
                "durationSeconds": summary.duration_seconds}
    return None


class Progress:
    """Per-stack bookkeeping shared by the views; subclasses decide how to show it."""

    def __init__(self, title: str = "deploy") -> None:
        self.title = title
        self.stacks: dict[str, StackProgress] = {}
        self._lock = threading.RLock()

    def register(self, stacks: list[str]) -> None:
        with self._lock:
            for name in stacks:
                self.stacks.setdefault(name, StackProgress(name))
        self._refresh()

    def state(self, stack: str, phase: str, state: str, reason: str = "") -> None:
        with self._lock:
            record = self.stacks.setdefault(stack, StackProgress(stack))
            if record.started is None and state not in ("queued", "skipped"):
                record.started = time.monotonic()
            record.state, record.reason = state, reason
            if state in FINAL_STATES and record.started is not None:
                record.finished = time.monotonic()
        self._emit({"stack": stack, "phase": phase, "type": "state", "state": state, "reason": reason})
        self._refresh()

    def engine_event(self, stack: str, phase: str, event: EngineEvent) -> None:
        record = event_record(stack, phase, event)
        if record is None:
            return
        with self._lock:
            progress = self.stacks.setdefault(stack, StackProgress(stack))
            # The up re-evaluates the same policies as its preview: count the preview's findings only.
            if record["type"] == "policy" and phase != "up":
                if record["enforcementLevel"] == "mandatory":
                    progress.mandatory += 1
                else:
                    progress.advisory += 1
                progress.findings.append(record)
        self._emit(record)
        self._refresh()

    def result(self, stack: str, result: OperationResult) -> None:
        """Record the counts of the operation that decides the stack's table row (up, or preview)."""
        with self._lock:
            progress = self.stacks.setdefault(stack, StackProgress(stack))
            changes = result.changes
            progress.changes = dict(changes)
            progress.created = changes.get("create", 0)
            progress.updated = changes.get("update", 0) + changes.get("replace", 0)
            progress.deleted = changes.get("delete", 0)
        self._refresh()

    def close(self) -> None:
        """Show the closing table."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the user answers a question."""
        yield

    # Hooks for the views.
    def _emit(self, record: dict[str, Any]) -> None:
        pass

    def _refresh(self) -> None:
        pass

    def table(self) -> Table:
        # Narrow terminals wrap a cell (overflow="fold") instead of cutting it to "succee…".
        table = Table(title=self.title)
        for column in ("stack", "state", "created", "updated", "deleted", "policy (mandatory/advisory)",
                       "duration", "detail"):
            table.add_column(column, overflow="fold", min_width=9 if column == "state" else None)
        with self._lock:
            for progress in self.stacks.values():
                style = _STYLE.get(progress.state, "")
                table.add_row(
                    progress.stack, f"[{style}]{progress.state}[/]" if style else progress.state,
                    str(progress.created), str(progress.updated), str(progress.deleted),
                    f"{progress.mandatory}/{progress.advisory}", f"{progress.duration:.1f}s", progress.reason,
                )
        return table


class LiveProgress(Progress):
    """A rich live table on stderr, updated from engine events; the closing table at the end.

    The live view starts with the first stacks registered, so an error before any stack ran is just
    its one line, without an empty table.
    """

    def __init__(self, console: Console | None = None, title: str = "deploy") -> None:
        super().__init__(title)
        self.console = console or Console(stderr=True)
        self._live: Live | None = None

    def register(self, stacks: list[str]) -> None:
        if self._live is None and stacks:
            self._live = Live(self.table(), console=self.console, refresh_per_second=4, transient=True)
            self._live.start()
        super().register(stacks)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self.table())

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self.console.print(self.table())
            for line in self.finding_lines():
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def finding_lines(self) -> list[str]:
        """Each policy finding under the table: stack, level, policy and message, then the resource."""
        lines = []
        with self._lock:
            for progress in self.stacks.values():
                for finding in progress.findings:
                    lines.append(f"{progress.stack}: {str(finding.get('enforcementLevel', '')).upper()} "
                                 f"{finding.get('policy')}: {finding.get('message', '')}")
                    lines.append(f"    {finding.get('urn') or '(stack)'}")
        return lines

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self._live is None:
            yield
            return
        self._live.stop()
        try:
            yield
        finally:
            self._live.start()


class JsonProgress(Progress):
    """Newline-delimited JSON events on ``stream`` (stdout by default), one ``result`` per stack at the end."""

    def __init__(self, stream: IO[str] | None = None, title: str = "deploy") -> None:
        super().__init__(title)
        self.stream = stream or sys.stdout

    def _emit(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.stream.write(json.dumps(record, sort_keys=True) + "\n")
            self.stream.flush()

    def close(self) -> None:
        for progress in self.stacks.values():
            self._emit({
                "stack": progress.stack, "phase": "done", "type": "result", "state": progress.state,
                "reason": progress.reason, "created": progress.created, "updated": progress.updated,
                "deleted": progress.deleted, "policyMandatory": progress.mandatory,
                "policyAdvisory": progress.advisory, "durationSeconds": round(progress.duration, 3),
            })
