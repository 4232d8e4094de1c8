"""Who may reach into which account, read from the plan itself (never drawn by hand).

From every planned resource's policy documents:

* **trust**: a role's trust policy (``assumeRolePolicy``) allows a principal of another account, or
  a federated identity provider (SAML, GitHub's OIDC), to assume it;
* **access**: a resource policy (bucket, key, repository, event bus, model package group, ...)
  grants a principal of another account, or an identity policy names another account's resources
  (a Lake Formation grant names the role it is for);
* **events**: an EventBridge target is another account's event bus.

VPC endpoint policies name every platform account on purpose (a perimeter, not a flow) and are
left out. Each flow keeps the services and a few example resources it was read from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_platform.harness import ResourceRecord, StackPlan

TRUST, ACCESS, EVENTS = "trust", "access", "events"
KINDS = (TRUST, ACCESS, EVENTS)
PERIMETER_TYPES = ("aws:ec2/vpcEndpoint:VpcEndpoint",)
EVENT_TARGET_TYPE = "aws:cloudwatch/eventTarget:EventTarget"
LAKE_FORMATION_TYPE = "aws:lakeformation/permissions:Permissions"
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:(\d{12})?:")
_EXAMPLES = 3


@dataclass(frozen=True)
class Account:
    """A node of the diagram: a planned stack's account, or a principal outside the plan."""

    key: str
    label: str
    detail: str = ""
    planned: bool = True


@dataclass
class Flow:
    """``source`` reaches into ``target``: assumes its roles, uses its resources, or sends it events."""

    source: str
    target: str
    kind: str
    services: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)
    resources: set[str] = field(default_factory=set)
    """Names of the planned resources this flow was read from."""

    def add(self, service: str, example: str) -> None:
        self.services.add(service)
        self.resources.add(example)
        if example not in self.examples and len(self.examples) < _EXAMPLES:
            self.examples.append(example)

    @property
    def label(self) -> str:
        """What the arrow says: the roles a trust opens, else the services used."""
        if self.kind == TRUST:
            return f"{len(self.resources)} role{'s' if len(self.resources) != 1 else ''}"
        return ", ".join(sorted(self.services))


def _document(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, Mapping) else None


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not document:
        return []
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else statements
    return [s for s in statements if isinstance(s, Mapping) and s.get("Effect") == "Allow"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_keys(statement: Mapping[str, Any]) -> list[str]:
    """Account IDs and federated providers a statement's Principal names."""
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return []
    keys = []
    for value in _as_list(principal.get("AWS", [])):
        account = _account_of(str(value))
        if account:
            keys.append(account)
    for value in _as_list(principal.get("Federated", [])):
        keys.append(_federated_key(str(value)))
    return keys


def _account_of(value: str) -> str | None:
    if re.fullmatch(r"\d{12}", value):
        return value
    match = _ARN_ACCOUNT.match(value)
    return match.group(2) if match and match.group(2) else None


def _federated_key(value: str) -> str:
    """``arn:aws:iam::1:saml-provider/corp`` -> ``saml:corp``; an OIDC provider -> ``oidc:<host>``."""
    if ":saml-provider/" in value:
        return "saml:" + value.rpartition("/")[2]
    if ":oidc-provider/" in value:
        return "oidc:" + value.partition(":oidc-provider/")[2]
    return "federated:" + value


def _service_of_type(type_token: str) -> str:
    """``aws:s3/bucketPolicy:BucketPolicy`` -> ``s3``; EventBridge lives in pulumi-aws's cloudwatch module."""
    module = type_token.split(":")[1].split("/")[0] if type_token.count(":") >= 2 else type_token
    return "events" if "eventBus" in type_token or "event" in type_token.split("/")[-1].lower() else module


def _service_of(arn: str) -> str:
    match = _ARN_ACCOUNT.match(arn)
    return match.group(1) if match else "?"


class _Flows:
    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str, str], Flow] = {}

    def add(self, source: str, target: str, kind: str, service: str, example: str) -> None:
        if source == target:
            return
        flow = self.by_key.setdefault((source, target, kind), Flow(source, target, kind))
        flow.add(service, example)


def _record_flows(record: ResourceRecord, account: str, flows: _Flows) -> None:
    if record.type in PERIMETER_TYPES:
        return
    inputs = record.inputs
    if record.type == "aws:iam/role:Role":
        for statement in _statements(_document(inputs.get("assumeRolePolicy"))):
            for key in _principal_keys(statement):
                flows.add(key, account, TRUST, "iam", record.name)
    for name in ("policy", "resourcePolicy", "accessPolicy"):
        document = _document(inputs.get(name))
        for statement in _statements(document):
            for key in _principal_keys(statement):  # a resource policy granting another account
                flows.add(key, account, ACCESS, _service_of_type(record.type), record.name)
            if "Principal" not in statement:  # an identity policy naming other accounts' resources
                for resource in _as_list(statement.get("Resource", [])):
                    other = _account_of(str(resource))
                    if other:
                        flows.add(account, other, ACCESS, _service_of(str(resource)), record.name)
    if record.type == EVENT_TARGET_TYPE:
        target = _account_of(str(inputs.get("arn", "")))
        if target:
            flows.add(account, target, EVENTS, "events", record.name)
    if record.type == LAKE_FORMATION_TYPE:
        principal = _account_of(str(inputs.get("principal", "")))
        if principal:
            flows.add(principal, account, ACCESS, "lakeformation", record.name)


def account_flows(plans: Mapping[str, StackPlan]) -> tuple[list[Account], list[Flow]]:
    """The accounts of the planned stacks (and principals outside them) and the flows between them."""
    flows = _Flows()
    accounts: dict[str, Account] = {}
    for name, plan in plans.items():
        if plan.account_id and plan.account_id not in accounts:
            accounts[plan.account_id] = Account(plan.account_id, plan.role.upper(), f"{plan.account_id} (stack {name})")
        for record in plan.resources:
            _record_flows(record, plan.account_id, flows)
    for flow in flows.by_key.values():
        for key in (flow.source, flow.target):
            if key not in accounts:
                accounts[key] = _outside(key)
    ordered = sorted(flows.by_key.values(), key=lambda f: (KINDS.index(f.kind), f.source, f.target))
    return list(accounts.values()), ordered


def _outside(key: str) -> Account:
    if key.startswith("saml:"):
        return Account(key, "Corporate IdP (SAML)", key.partition(":")[2], planned=False)
    if key.startswith("oidc:"):
        return Account(key, "OIDC provider", key.partition(":")[2], planned=False)
    if key.startswith("federated:"):
        return Account(key, "Federated provider", key.partition(":")[2], planned=False)
    return Account(key, f"AWS {key}", "an account outside the platform", planned=False)


def flow_rows(accounts: Iterable[Account], flows: Iterable[Flow]) -> list[dict[str, str]]:
    """The flows as table rows (the diagram's text form)."""
    labels = {a.key: a.label for a in accounts}
    return [
        {
            "from": labels.get(f.source, f.source),
            "to": labels.get(f.target, f.target),
            "kind": f.kind,
            "services": ", ".join(sorted(f.services)),
            "examples": ", ".join(f.examples),
        }
        for f in flows
    ]
