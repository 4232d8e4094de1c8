"""Lint IAM documents offline: parliament for structure, policy_sentry for (action, condition key) pairs.

parliament 1.6.4's bundled database predates some condition keys (e.g. ``kms:ResourceAliases``),
so its UNKNOWN_CONDITION_FOR_ACTION findings are replaced by a check against policy_sentry's newer
Service Authorization Reference data. ``Resource: "*"`` is allowed where an action has no resource
type (checked separately by the guardrail pack).
"""

from __future__ import annotations

import json
from typing import Any

from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_action_data

GLOBAL_PREFIX = "aws:"


def _condition_keys(action: str) -> set[str]:
    service, _, name = action.partition(":")
    data = get_action_data(service, name).get(service, [])
    return {key.lower() for entry in data for key in entry["condition_keys"]}


def lint_findings(policy: dict[str, Any]) -> list[str]:
    findings = [
        f"{f.issue}: {f.detail}"
        for f in analyze_policy_string(json.dumps(policy)).findings
        if f.issue not in ("RESOURCE_STAR", "UNKNOWN_CONDITION_FOR_ACTION")
    ]
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for block in statement.get("Condition", {}).values():
            for key in block:
                if key.lower().startswith(GLOBAL_PREFIX):
                    continue
                for action in actions:
                    if key.lower() not in _condition_keys(action):
                        findings.append(f"{statement['Sid']}: {key} is not a condition key of {action}")
    return findings
