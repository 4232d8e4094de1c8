"""Readers for the EXP plan's IAM documents and an EventBridge pattern matcher (test helpers)."""

from __future__ import annotations

import json
from typing import Any

from mlops_platform.harness import ResourceRecord, StackPlan


def document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def role_policies(plan: StackPlan) -> dict[str, list[dict[str, Any]]]:
    """Role name -> its own identity policy documents: inline (RolePolicy resources) and the managed
    policies declared for it alone (children of the role, attached to it; not the shared guardrails)."""
    policies: dict[str, list[dict[str, Any]]] = {}
    for record in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        policies.setdefault(record.inputs["role"], []).append(document(record.inputs["policy"]))
    roles = {r.urn: r.inputs.get("name") for r in plan.of_type("aws:iam/role:Role")}
    own = {r.urn: r for r in plan.of_type("aws:iam/policy:Policy") if r.parent in roles}
    for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        for urn in attachment.property_dependencies.get("policyArn", []):
            if urn in own and roles[own[urn].parent] == attachment.inputs["role"]:
                policies.setdefault(attachment.inputs["role"], []).append(document(own[urn].inputs["policy"]))
    return policies


def combined(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}


def by_name(plan: StackPlan, name: str) -> ResourceRecord:
    matches = [r for r in plan.resources if r.name == name]
    assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
    return matches[0]


def matches_pattern(pattern: Any, event: Any) -> bool:
    """EventBridge matching for the pattern subset the platform uses (value lists, nested objects)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(key in event and matches_pattern(value, event[key]) for key, value in pattern.items())
    if isinstance(pattern, list):
        return event in pattern
    raise ValueError(f"unsupported pattern element {pattern!r}")
