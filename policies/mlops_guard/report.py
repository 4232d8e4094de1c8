"""Gate output: plain text, the JSON summary, and SARIF 2.1.0 for GitHub code scanning."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mlops_guard.engine import GateResult, Violation
from mlops_guard.registry import BY_NAME, PACK_NAME, tags_of

SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


def to_json(result: GateResult) -> dict[str, Any]:
    violations = sorted(result.violations, key=lambda v: (v.enforcement_level != "mandatory", v.policy, v.urn, v.message))
    return {
        "violations": [
            {
                "policy": v.policy,
                "urn": v.urn,
                "resourceType": v.resource_type,
                "enforcementLevel": v.enforcement_level.lower(),
                "severity": v.severity.lower(),
                "message": v.message,
            }
            for v in violations
        ],
        "summary": {
            "resourcesEvaluated": result.resources_evaluated,
            "policiesApplied": len(result.policies_applied),
            "notEvaluated": [
                {"policy": n.policy, "urn": n.urn, "reason": n.reason}
                for n in sorted(result.not_evaluated, key=lambda n: (n.policy, n.urn, n.reason))
            ],
            "mandatory": result.mandatory,
            "advisory": result.advisory,
        },
    }


def to_text(result: GateResult) -> str:
    lines = []
    for v in sorted(result.violations, key=lambda v: (v.enforcement_level != "mandatory", v.policy, v.urn)):
        lines.append(f"{v.enforcement_level.upper():9} {v.severity:8} {v.policy}: {v.message}")
        lines.append(f"          {v.urn}")
    if result.not_evaluated:
        lines.append(f"not evaluated ({len(result.not_evaluated)}): values known only at apply time")
        for n in sorted(result.not_evaluated, key=lambda n: (n.policy, n.urn))[:50]:
            lines.append(f"  {n.policy}: {n.reason}")
        if len(result.not_evaluated) > 50:
            lines.append(f"  ... and {len(result.not_evaluated) - 50} more (use --format json)")
    lines.append(
        f"{result.resources_evaluated} resources in {len(result.stacks)} stack(s), "
        f"{len(result.policies_applied)} policies applied: "
        f"{result.mandatory} mandatory, {result.advisory} advisory violation(s), "
        f"{len(result.not_evaluated)} not evaluated"
    )
    return "\n".join(lines) + "\n"


def _fingerprint(v: Violation) -> str:
    return hashlib.sha256(f"{v.policy}\0{v.urn}\0{v.message}".encode()).hexdigest()


def to_sarif(result: GateResult, *, default_location: str) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy; each result located at the declaring source line if known,
    else at ``default_location`` (the stack file or the input file), repo-relative."""
    used = sorted({v.policy for v in result.violations})
    rules = []
    for name in used:
        gp = BY_NAME[name]
        rules.append(
            {
                "id": name,
                "name": name,
                "shortDescription": {"text": gp.description},
                "fullDescription": {"text": gp.description},
                "help": {"text": gp.remediation or gp.description},
                "properties": {"tags": tags_of(gp), "security-severity": SECURITY_SEVERITY[gp.severity]},
            }
        )
    index = {name: i for i, name in enumerate(used)}
    results = []
    for v in sorted(result.violations, key=lambda v: (v.policy, v.urn, v.message)):
        uri, line = v.source or (default_location.replace("{stack}", v.stack), 1)
        results.append(
            {
                "ruleId": v.policy,
                "ruleIndex": index[v.policy],
                "level": "error" if v.enforcement_level == "mandatory" else "warning",
                "message": {"text": f"{v.message} ({v.urn})"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": max(int(line), 1)},
                        }
                    }
                ],
                "partialFingerprints": {"mlopsGuardViolation/v1": _fingerprint(v)},
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": PACK_NAME, "informationUri": "https://www.pulumi.com/docs/insights/policy/", "rules": rules}},
                "results": results,
            }
        ],
    }


def render(result: GateResult, fmt: str, *, default_location: str = "Pulumi.yaml") -> str:
    if fmt == "json":
        return json.dumps(to_json(result), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(result, default_location=default_location), indent=2) + "\n"
    return to_text(result)
