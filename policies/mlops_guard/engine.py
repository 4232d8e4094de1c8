"""Run the pack offline over resource records: the policy gate's core.

Resource policies run on every resource whose type they name; stack policies run once per stack
over all of its resources. A policy that crashes fails closed (a mandatory violation naming it).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mlops_guard.config import PackConfig
from mlops_guard.model import GuardPolicy, Report, Resource
from mlops_guard.registry import ALL_POLICIES, RESOURCE_POLICIES, STACK_POLICIES

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Violation:
    policy: str
    urn: str
    resource_type: str
    enforcement_level: str
    severity: str
    message: str
    stack: str = ""
    source: tuple[str, int] | None = None
    """Repo-relative file and line to point at (SARIF); None means the stack or input file."""


@dataclass(frozen=True)
class NotEvaluated:
    policy: str
    urn: str
    reason: str


@dataclass
class GateResult:
    violations: list[Violation] = field(default_factory=list)
    not_evaluated: list[NotEvaluated] = field(default_factory=list)
    resource_urns: set[str] = field(default_factory=set)
    policies_applied: set[str] = field(default_factory=set)
    stacks: list[str] = field(default_factory=list)

    @property
    def resources_evaluated(self) -> int:
        return len(self.resource_urns)

    @property
    def mandatory(self) -> int:
        return sum(1 for v in self.violations if v.enforcement_level == "mandatory")

    @property
    def advisory(self) -> int:
        return sum(1 for v in self.violations if v.enforcement_level == "advisory")

    def extend(self, other: GateResult) -> None:
        """Merge another result, dropping exact duplicates (known and preview runs overlap)."""
        seen_v = set(self.violations)
        self.violations += [v for v in other.violations if v not in seen_v]
        seen_n = set(self.not_evaluated)
        self.not_evaluated += [n for n in other.not_evaluated if n not in seen_n]
        self.resource_urns |= other.resource_urns
        self.policies_applied |= other.policies_applied
        self.stacks += [s for s in other.stacks if s not in self.stacks]


def stack_urn(stack: str, project: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{ROOT_STACK_TYPE}::{project}-{stack}"


_BY_TYPE: dict[str, list[GuardPolicy]] = defaultdict(list)
for _gp in RESOURCE_POLICIES:
    for _token in _gp.types:
        _BY_TYPE[_token].append(_gp)


def applicable_policies(resource_types: Iterable[str]) -> set[str]:
    """Names of the policies that apply to at least one of these resource types."""
    types = set(resource_types)
    return {gp.name for gp in ALL_POLICIES if types & set(gp.types)}


def evaluate_stack(
    resources: Sequence[Resource],
    config: PackConfig,
    *,
    stack: str,
    project: str,
    source_for: Mapping[str, tuple[str, int]] | None = None,
    context: Sequence[Resource] = (),
) -> GateResult:
    """Evaluate every enabled policy against one stack's resources.

    ``context`` are resources of other stacks this one uses (a serving stack's platform stack):
    policies that declare ``uses_context`` may look them up; nothing judges them here.
    """
    result = GateResult(stacks=[stack])
    root_urn = stack_urn(stack, project)
    evaluated = [r for r in resources if r.type != ROOT_STACK_TYPE]
    result.resource_urns = {r.urn for r in evaluated}
    types = {r.urn: r.type for r in evaluated}
    sources = dict(source_for or {})
    sources.update({r.urn: r.source for r in evaluated if r.source})
    levels = {gp.name: config.level(gp.name) for gp in ALL_POLICIES}

    def record(gp: GuardPolicy, report: Report) -> None:
        level = levels[gp.name]
        for finding in report.violations:
            result.violations.append(
                Violation(
                    policy=gp.name,
                    urn=finding.urn,
                    resource_type=types.get(finding.urn, ROOT_STACK_TYPE),
                    enforcement_level="mandatory" if level == "remediate" else level,
                    severity=gp.severity,
                    message=finding.message,
                    stack=stack,
                    source=sources.get(finding.urn),
                )
            )
        result.not_evaluated += [NotEvaluated(gp.name, f.urn, f.message) for f in report.not_evaluated]

    for res in evaluated:
        for gp in _BY_TYPE.get(res.type, ()):
            if levels[gp.name] == "disabled":
                continue
            result.policies_applied.add(gp.name)
            report = Report(default_urn=res.urn, policy=gp.name)
            try:
                gp.check(res, config.config(gp.name), report)
            except Exception as exc:  # noqa: BLE001 - fail closed, never pass a crashing rule
                report.violation(f"{res.name}: policy failed to run ({exc.__class__.__name__}: {exc})")
            record(gp, report)

    present = set(types.values())
    for gp in STACK_POLICIES:
        if levels[gp.name] == "disabled" or not present & set(gp.types):
            continue
        result.policies_applied.add(gp.name)
        report = Report(default_urn=root_urn, policy=gp.name)
        looked_up = [*evaluated, *(dataclasses.replace(r, context=True) for r in context)] if gp.uses_context else evaluated
        try:
            gp.check(looked_up, config.config(gp.name), report)
        except Exception as exc:  # noqa: BLE001
            report.violation(f"policy failed to run ({exc.__class__.__name__}: {exc})")
        record(gp, report)
    return result


def check_resource(gp: GuardPolicy, res: Resource, config: PackConfig | None = None) -> Report:
    """Run one resource policy on one resource (tests and tools)."""
    report = Report(default_urn=res.urn, policy=gp.name)
    gp.check(res, (config or PackConfig()).config(gp.name), report)
    return report


def check_stack(gp: GuardPolicy, resources: Sequence[Resource], config: PackConfig | None = None, urn: str = "stack") -> Report:
    """Run one stack policy on a list of resources (tests and tools)."""
    report = Report(default_urn=urn, policy=gp.name)
    gp.check(list(resources), (config or PackConfig()).config(gp.name), report)
    return report
