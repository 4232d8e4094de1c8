"""``drift``: what differs between each stack's state and the cloud, without changing anything.

Each stack gets ``pulumi refresh --preview-only``; a resource the refresh would update or delete has
drifted (someone changed or removed it outside Pulumi). The command exits 1 when any stack drifted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlops_platform.deployer.progress import Progress
from mlops_platform.deployer.runner import CHANGE_OPS, OperationResult, StackRunner, StackTarget, Step


@dataclass
class DriftResult:
    stack: str
    drifted: list[Step] = field(default_factory=list)
    """Resources the refresh would change (op, URN, type, changed properties)."""
    changes: dict[str, int] = field(default_factory=dict)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted) or any(count for op, count in self.changes.items() if op in CHANGE_OPS)


def drifted_steps(result: OperationResult) -> list[Step]:
    """Resources a refresh preview would change, once each (the runner turns refresh steps with
    differences into ``update`` and vanished resources into ``delete``)."""
    drifted: dict[str, Step] = {}
    for step in result.steps:
        if step.op in CHANGE_OPS or (step.op == "refresh" and step.diffs):
            drifted.setdefault(step.urn, step)
    return list(drifted.values())


def detect_drift(targets: list[StackTarget], runner: StackRunner, progress: Progress) -> list[DriftResult]:
    """Refresh-preview every target in order; the stacks must exist."""
    progress.register([target.name for target in targets])
    results = []
    for target in targets:
        progress.state(target.name, "refresh", "refreshing")
        outcome = runner.refresh_preview(target, lambda op, event, name=target.name: progress.engine_event(name, op, event))
        drift = DriftResult(target.name, drifted_steps(outcome), dict(outcome.changes))
        progress.result(target.name, outcome)
        progress.state(target.name, "refresh", "failed" if drift.has_drift else "unchanged",
                       f"{len(drift.drifted) or sum(drift.changes.get(op, 0) for op in CHANGE_OPS)} drifted"
                       if drift.has_drift else "no drift")
        results.append(drift)
    return results
