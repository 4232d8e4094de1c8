"""How a plan is counted and ordered, the same way for ``plan``, ``check`` and ``report``.

Counts follow ``pulumi preview``'s summary: every resource the engine would create, which is each
custom resource, each component, each explicit provider and each stack's own ``pulumi:pulumi:Stack``
resource (the harness does not record that one, so it is added here). Stack references are reads,
counted apart. Stacks are listed in deploy order (the deployer's graph), serving stacks last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlops_platform.harness import PLATFORM_PROJECT, ResourceRecord, StackPlan

PROVIDER_PREFIX = "pulumi:providers:"
READ_TYPES = ("pulumi:pulumi:StackReference",)


@dataclass(frozen=True)
class Counts:
    """What a preview of these stacks would create (and read)."""

    resources: int = 0
    components: int = 0
    providers: int = 0
    stacks: int = 0
    reads: int = 0
    protected: int = 0

    @property
    def to_create(self) -> int:
        return self.resources + self.components + self.providers + self.stacks

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.resources, self.components, self.providers, self.stacks, self.reads, self.protected)

    def to_json(self) -> dict[str, int]:
        return {
            "toCreate": self.to_create,
            "resources": self.resources,
            "components": self.components,
            "providers": self.providers,
            "stacks": self.stacks,
            "reads": self.reads,
            "protected": self.protected,
        }

    def breakdown(self) -> str:
        parts = [_plural(self.resources, "resource"), _plural(self.components, "component"),
                 _plural(self.providers, "provider"), _plural(self.stacks, "stack")]
        if self.reads:
            parts.append(f"{_plural(self.reads, 'stack reference')} read")
        if self.protected:
            parts.append(f"{self.protected} protected")
        return ", ".join(parts)

    def totals_line(self) -> str:
        """Pulumi's summary line, then what the number is made of."""
        return f"Resources: + {self.to_create} to create ({self.breakdown()})"


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def kind_of(record: ResourceRecord) -> str:
    """``resource``, ``component``, ``provider`` or ``read``."""
    if record.type.startswith(PROVIDER_PREFIX):
        return "provider"
    if record.type in READ_TYPES:
        return "read"
    return "resource" if record.custom else "component"


def count(records: Iterable[ResourceRecord], stacks: int = 1) -> Counts:
    records = list(records)
    kinds = Counter(kind_of(r) for r in records)
    protected = sum(1 for r in records if r.protect)
    return Counts(kinds["resource"], kinds["component"], kinds["provider"], stacks, kinds["read"], protected)


def count_plans(plans: Mapping[str, StackPlan]) -> Counts:
    total = Counts()
    for plan in plans.values():
        total = total + count(plan.resources)
    return total


def deploy_order(plans: Mapping[str, StackPlan], has_data_account: bool) -> list[str]:
    """Stack names in the order the deployer runs them (platform stacks by graph wave, then serving)."""
    from mlops_platform.deployer.graph import GraphError, build_graph

    platform = {name: plan.role for name, plan in plans.items() if plan.project == PLATFORM_PROJECT}
    try:
        graph = build_graph(platform, has_data_account=has_data_account)
        ordered = [name for wave in graph.waves() for name in wave if name in platform]
    except GraphError:
        ordered = sorted(platform)
    ordered += [name for name in platform if name not in ordered]
    return ordered + sorted(name for name in plans if name not in platform)


def in_deploy_order(plans: Mapping[str, StackPlan], has_data_account: bool) -> dict[str, StackPlan]:
    return {name: plans[name] for name in deploy_order(plans, has_data_account)}
