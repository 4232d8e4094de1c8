"""The data types every rule module shares: a resource, a rule's report and a policy definition.

Rules are plain functions over plain data so they are tested without Pulumi. ``define`` builds each
:class:`GuardPolicy` from the decorator on its check function, ``registry`` turns them into CrossGuard
policies for the real CLI, ``engine`` runs them offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
Kind = Literal["resource", "stack"]


@dataclass(frozen=True)
class Resource:
    """One resource as the rules see it: its inputs, camelCase, as the engine passes them."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Input name -> URNs of the resources that input depends on."""
    parent: str | None = None
    custom: bool = True
    source: tuple[str, int] | None = None
    """Repo-relative file and line that declared the resource, when known."""
    context: bool = False
    """Declared by another stack (e.g. the platform stack a serving stack uses): looked up, never judged."""

    @property
    def tags(self) -> Mapping[str, Any]:
        tags = self.props.get("tags")
        return tags if isinstance(tags, Mapping) else {}


@dataclass
class Finding:
    policy: str
    urn: str
    message: str


@dataclass
class Report:
    """What one policy found for one resource (or one stack)."""

    default_urn: str
    violations: list[Finding] = field(default_factory=list)
    not_evaluated: list[Finding] = field(default_factory=list)
    policy: str = ""

    def violation(self, message: str, urn: str | None = None) -> None:
        self.violations.append(Finding(self.policy, urn or self.default_urn, message))

    def unknown(self, reason: str, urn: str | None = None) -> None:
        """A value check met a value that is not known yet: neither passed nor failed."""
        self.not_evaluated.append(Finding(self.policy, urn or self.default_urn, reason))


ResourceCheck = Callable[[Resource, Mapping[str, Any], Report], None]
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any], Report], None]


@dataclass(frozen=True)
class Reference:
    """An external control the policy implements (Security Hub, CIS, checkov)."""

    framework: Literal["AWS-FSBP", "CIS", "checkov", "AWS-AI-SBP"]
    id: str

    @property
    def tag(self) -> str:
        prefix = {"AWS-FSBP": "securityhub", "CIS": "cis", "checkov": "checkov", "AWS-AI-SBP": "securityhub"}
        return f"{prefix[self.framework]}:{self.id}"


@dataclass(frozen=True)
class GuardPolicy:
    """A guardrail: metadata plus the function that checks it (built by ``define``, never by hand)."""

    name: str
    description: str
    severity: Severity
    area: str
    check: Callable[..., None]
    """The check as the engine and the server run it (with the platform deploy exemption applied)."""
    control: str
    """The guardrail catalogue control it implements (shared/reference/guardrails.md §2)."""
    kind: Kind = "resource"
    types: tuple[str, ...] = ()
    """Resource type tokens a resource policy applies to (stack policies: the types they read)."""
    references: tuple[Reference, ...] = ()
    remediation: str = ""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of this policy's configuration (with defaults)."""
    uses_context: bool = False
    """A stack policy that may look up resources of other stacks (offline gate only)."""
    exempt_platform_deploy_role: bool = False
    """The check skips the platform deploy role and the managed policies tagged for it."""

    @property
    def tags(self) -> list[str]:
        return [self.area, *(r.tag for r in self.references)]
