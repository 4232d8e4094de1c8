"""AWS limits, checked on every plan: each planned value against botocore's service models
(:mod:`.api_models`) and against documented quotas no model carries (:mod:`.quotas`).

:func:`check_plans` returns a :class:`LimitsReport`: the violations (one line each: stack, resource,
field, size and limit), how many values were checked, how many were unknown until apply (skipped,
counted) and which planned resource types no mapping covers (not checked, counted).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_platform.harness import SECRET_MASK, UNKNOWN
from mlops_platform.limits import api_models, quotas

#: Not AWS resources: providers, stack references, the components' own types.
_NOT_RESOURCES = ("pulumi:", "mlops:")


def is_unknown(value: Any) -> bool:
    """Unknown until apply, or a secret the plan does not show: skipped and counted, never passed."""
    return value == UNKNOWN or value == SECRET_MASK


@dataclass(frozen=True)
class LimitViolation:
    stack: str
    resource: str
    type: str
    field: str
    size: str
    limit: str
    source: str

    def line(self) -> str:
        return (f"limit: stack {self.stack}, resource {self.resource} ({self.type}), {self.field}: "
                f"{self.size}, limit {self.limit} ({self.source})")


@dataclass
class LimitsReport:
    violations: list[LimitViolation] = field(default_factory=list)
    checked: int = 0
    """Values checked against a model constraint or a documented quota."""
    unknown: int = 0
    """Values unknown until apply: skipped, never passed."""
    not_checked: Counter = field(default_factory=Counter)
    """Planned resource type -> resources of it no mapping covers."""

    def extend(self, other: LimitsReport) -> None:
        self.violations += other.violations
        self.checked += other.checked
        self.unknown += other.unknown
        self.not_checked.update(other.not_checked)

    def summary(self) -> str:
        return (f"limits: {self.checked:,} values checked against AWS's service models and quotas, "
                f"{len(self.violations)} over a limit; {self.unknown:,} unknown until apply (skipped); "
                f"{sum(self.not_checked.values()):,} resources of {len(self.not_checked)} types not checked "
                f"(no API mapping)")


def _default_tags(records) -> dict[str, dict[str, str]]:
    """Provider URN -> its ``defaultTags`` (the engine passes the provider's inputs as JSON strings)."""
    tags = {}
    for record in records:
        if record.type.startswith("pulumi:providers:"):
            default = record.inputs.get("defaultTags")
            if isinstance(default, str):
                try:
                    default = json.loads(default)
                except ValueError:
                    default = None
            if isinstance(default, dict) and isinstance(default.get("tags"), dict):
                tags[record.urn] = default["tags"]
    return tags


def check_records(stack: str, records: list, checks: tuple[quotas.Check, ...] = quotas.CHECKS,
                  models: bool = True) -> LimitsReport:
    """Check one stack's planned records (``harness.ResourceRecord``): each value against botocore's
    models (``models``) and the documented quotas (``checks``)."""
    report = LimitsReport()
    for record in records if models else []:
        if not record.custom or record.type.startswith(_NOT_RESOURCES):
            continue
        if record.type not in api_models.MAPPING:
            report.not_checked[record.type] += 1
            continue
        for prop, constraint in api_models.constraints_for(record.type):
            for value in api_models.values_at(record.inputs, prop):
                if is_unknown(value):
                    report.unknown += 1
                    continue
                report.checked += 1
                problem = api_models.check_value(value, constraint.rule)
                if problem:
                    report.violations.append(LimitViolation(stack, record.name, record.type, prop, *problem,
                                                            f"botocore {constraint.source}"))
    tally = quotas.Tally()
    context = quotas.QuotaContext(records, is_unknown, _default_tags(records))
    for check in checks:
        for finding in check(context, tally):
            report.violations.append(LimitViolation(stack, finding.resource, finding.type, finding.field,
                                                    finding.size, finding.limit, finding.source))
    report.checked += tally.checked
    report.unknown += tally.unknown
    return report


def check_plans(plans: Mapping[str, Any]) -> LimitsReport:
    """Check every planned stack (``harness.StackPlan`` by name)."""
    report = LimitsReport()
    # A role's policies may be declared by other stacks of its account (a model project's stack
    # attaches to roles of exp): count them per account, over the account's stacks together.
    accounts: dict[tuple[str, str], list[str]] = {}
    for name, plan in plans.items():
        accounts.setdefault((plan.project, plan.account_id), []).append(name)
    per_stack = tuple(check for check in quotas.CHECKS if check is not quotas.role_policies)
    for (_, account), names in accounts.items():
        shared = len(names) > 1
        for name in names:
            report.extend(check_records(name, plans[name].resources, per_stack if shared else quotas.CHECKS))
        if shared:
            label = f"{min(names, key=len)} (account {account}, its {len(names)} stacks together)"
            records = [record for name in names for record in plans[name].resources]
            report.extend(check_records(label, records, (quotas.role_policies,), models=False))
    return report
