"""Deploying stacks in graph order: per wave, previews with policies, confirmations, then ups.

For each wave of the graph (stacks that do not depend on each other):

1. every stack whose upstream failed, was refused or skipped in this run is *skipped*;
2. the others are previewed in parallel (up to ``max_stacks``) with the policy pack; a failed preview
   or a mandatory violation *fails* the stack;
3. stacks whose preview shows no change are *unchanged* (so a re-run after a failure resumes where it
   stopped, without touching what is already deployed); with ``--preview-only`` the rest are *previewed*;
4. INT and PROD need a confirmation, asked one stack at a time, unless ``--yes`` (CI, where the
   GitHub environment's required reviewers are the gate); declined stacks are *skipped*;
5. the confirmed stacks are updated in parallel; a failed up *fails* the stack.

A fault of the environment (held lock, missing passphrase, credentials or CLI) stops the command with
one line and exit code 2; a failed stack gives exit code 1 after the closing table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mlops_core.roles import APPROVAL_STAGES
from mlops_platform.deployer.errors import DeployerError
from mlops_platform.deployer.graph import StackGraph
from mlops_platform.deployer.progress import Progress
from mlops_platform.deployer.runner import (
    OperationResult,
    StackOperationError,
    StackRunner,
    StackTarget,
    is_deployed,
)

#: Roles deployed only after an explicit confirmation when run interactively.
CONFIRM_ROLES = frozenset(APPROVAL_STAGES)
#: States that make every downstream stack skip.
BLOCKING_STATES = frozenset({"failed", "skipped", "refused"})


@dataclass
class DeployOptions:
    preview_only: bool = False
    yes: bool = False
    max_stacks: int = 4
    confirm: Callable[[str], bool] | None = None
    """Asks the user; ``None`` means no one can answer (declines unless ``yes``)."""


@dataclass
class DeployReport:
    states: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(state in BLOCKING_STATES for state in self.states.values())


def check_upstream_deployed(
    graph: StackGraph, selected: list[str], targets: Mapping[str, StackTarget], runner: StackRunner
) -> None:
    """With ``--stack``, the upstream stacks outside the selection must already be deployed."""
    chosen = set(selected)
    needed = sorted({up for name in selected for up in graph.ancestors(name)} - chosen)
    missing = [name for name in needed if not is_deployed(runner, targets[name])]
    if missing:
        raise DeployerError(
            f"upstream stack(s) not deployed yet: {', '.join(missing)} (deploy them first, or add --stack for each)"
        )


def deploy(
    graph: StackGraph,
    targets: Mapping[str, StackTarget],
    runner: StackRunner,
    progress: Progress,
    options: DeployOptions,
    selected: list[str] | None = None,
) -> DeployReport:
    """Deploy (or preview) the selected stacks, default all, in graph order; see the module docstring."""
    if options.max_stacks < 1:
        raise DeployerError(f"--max-stacks {options.max_stacks}: must be at least 1")
    if selected:
        check_upstream_deployed(graph, selected, targets, runner)
    waves = graph.waves(selected)
    report = DeployReport()
    progress.register([name for wave in waves for name in wave])

    def set_state(name: str, phase: str, state: str, reason: str = "") -> None:
        report.states[name], report.reasons[name] = state, reason
        progress.state(name, phase, state, reason)

    def forward(name: str) -> Callable:
        return lambda phase, event: progress.engine_event(name, phase, event)

    def run(name: str, operation: str) -> OperationResult | None:
        set_state(name, operation, "previewing" if operation == "preview" else "deploying")
        call = runner.preview if operation == "preview" else runner.up
        try:
            result = call(targets[name], forward(name))
        except StackOperationError as error:
            progress.result(name, error.result)
            set_state(name, operation, "failed", error.reason)
            return None
        progress.result(name, result)
        return result

    with ThreadPoolExecutor(max_workers=options.max_stacks, thread_name_prefix="stack") as pool:
        for wave in waves:
            runnable = []
            for name in wave:
                blocked = sorted(up for up in graph.ancestors(name) if report.states.get(up) in BLOCKING_STATES)
                if blocked:
                    set_state(name, "preview", "skipped", f"upstream {', '.join(blocked)} did not succeed")
                else:
                    runnable.append(name)

            previews = dict(zip(runnable, pool.map(lambda n: run(n, "preview"), runnable)))
            to_update = []
            for name in runnable:
                preview = previews[name]
                if preview is None:
                    continue
                if not preview.has_changes:
                    set_state(name, "preview", "unchanged")
                elif options.preview_only:
                    set_state(name, "preview", "previewed")
                elif graph.nodes[name].role in CONFIRM_ROLES and not options.yes and not _confirmed(name, preview, options):
                    reason = "not confirmed" if options.confirm else "needs --yes when not run interactively"
                    set_state(name, "preview", "skipped", reason)
                else:
                    to_update.append(name)

            for name, result in zip(to_update, pool.map(lambda n: run(n, "up"), to_update)):
                if result is not None:
                    set_state(name, "up", "succeeded")
    return report


def _confirmed(name: str, preview: OperationResult, options: DeployOptions) -> bool:
    if options.confirm is None:
        return False
    changes = ", ".join(f"{op} {count}" for op, count in sorted(preview.changes.items()) if op != "same")
    return options.confirm(f"deploy stack {name} ({changes})?")
