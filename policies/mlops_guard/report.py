"""Gate output: plain text, the JSON summary, and SARIF 2.1.0 for GitHub code scanning.

Every format carries each finding's remediation and external references (Security Hub, CIS,
checkov). A result may come from several passes over the same stacks (with known outputs, and as a
first preview sees them); what one pass could not evaluate and another did is not "not evaluated".
Text shows one line per pass about what could not be evaluated and why (``verbose`` lists them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_guard.engine import GateResult, NotEvaluated, Violation
from mlops_guard.registry import BY_NAME, PACK_NAME, tags_of

SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}
#: Items of a listed value (``a, b, c``) shown in text before the rest is counted.
LIST_ITEMS_SHOWN = 5

Passes = Sequence[tuple[str, GateResult]]

#: Why a check could not be evaluated, from the rule's own words (first match wins).
REASONS = (
    ("not declared in this stack", "declared outside the stack (another stack or account owns it)"),
    ("until the pipeline runs", "known only when the pipeline runs"),
    ("which these rules do not know", "a shape these rules do not read"),
    ("until apply", "values computed by AWS, unknown until apply"),
    ("known at apply", "values computed by AWS, unknown until apply"),
)
OTHER_REASON = "other"


def reason_kind(reason: str) -> str:
    return next((kind for phrase, kind in REASONS if phrase in reason), OTHER_REASON)


def references_of(policy: str) -> list[str]:
    gp = BY_NAME.get(policy)
    return [r.tag for r in gp.references] if gp else []


def policy_entry(policy: str) -> dict[str, Any]:
    """What a reader needs to act on a finding of ``policy``."""
    gp = BY_NAME.get(policy)
    if gp is None:
        return {"description": "", "severity": "", "control": "", "references": [], "remediation": ""}
    return {
        "description": gp.description,
        "severity": gp.severity,
        "control": gp.control,
        "references": references_of(policy),
        "remediation": gp.remediation,
    }


def shorten(message: str, keep: int = LIST_ITEMS_SHOWN) -> str:
    """A long listed value (``a, b, c, ...``) cut to its first ``keep`` items and a count."""

    def cut(match: re.Match[str]) -> str:
        items = match.group(0).split(", ")
        return ", ".join(items[:keep]) + f", ... ({len(items)} in all)"

    return re.sub(r"[^\s,()]+(?:, [^\s,()]+){%d,}" % (keep + 1), cut, message)


def _check_key(item: NotEvaluated) -> tuple[str, str, str]:
    """A check is a policy on a resource; a stack policy's reason names the resource it is about."""
    return item.policy, item.urn, item.reason.partition(": ")[0]


class _PassIndex:
    """The passes over one set of stacks, with each pass's open checks as a set."""

    def __init__(self, result: GateResult, passes: Passes | None) -> None:
        self.passes = list(passes) if passes else [("input", result)]
        self.open = [{_check_key(n) for n in own.not_evaluated} for _, own in self.passes]

    def resolved(self, item: NotEvaluated, position: int) -> bool:
        """Another pass over the same resource (or stack) evaluated this check."""
        for index, (_, other) in enumerate(self.passes):
            covered = item.urn in other.resource_urns or _stack_of(item.urn) in other.stacks
            if index == position or not covered or item.policy not in other.policies_applied:
                continue
            if _check_key(item) not in self.open[index]:
                return True
        return False


def _stack_of(urn: str) -> str:
    return urn.removeprefix("urn:pulumi:").partition("::")[0]


def pass_summaries(result: GateResult, passes: Passes | None) -> list[dict[str, Any]]:
    """Per pass: how many checks it could not evaluate, why, and how many another pass evaluated."""
    index = _PassIndex(result, passes)
    summaries = []
    for position, (name, own) in enumerate(index.passes):
        unique = sorted(set(own.not_evaluated), key=lambda n: (n.policy, n.urn, n.reason))
        resolved = [n for n in unique if index.resolved(n, position)]
        summaries.append({
            "pass": name,
            "notEvaluated": len(unique),
            "byReason": dict(sorted(Counter(reason_kind(n.reason) for n in unique).items())),
            "evaluatedInAnotherPass": len(resolved),
        })
    return summaries


def still_not_evaluated(result: GateResult, passes: Passes | None) -> list[NotEvaluated]:
    """Checks no pass could evaluate (one entry per policy and resource it is about)."""
    index = _PassIndex(result, passes)
    open_items: dict[tuple[str, str, str], NotEvaluated] = {}
    for position, (_, own) in enumerate(index.passes):
        for item in own.not_evaluated:
            if not index.resolved(item, position):
                open_items.setdefault(_check_key(item), item)
    return sorted(open_items.values(), key=lambda n: (n.policy, n.urn, n.reason))


def _ordered(violations: Sequence[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: (v.enforcement_level != "mandatory", v.policy, v.urn, v.message))


def to_json(result: GateResult, passes: Passes | None = None, counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    violations = _ordered(result.violations)
    named = sorted({v.policy for v in violations} | {n.policy for n in result.not_evaluated})
    document: dict[str, Any] = {
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
        "policies": {name: policy_entry(name) for name in named},
        "passes": pass_summaries(result, passes),
        "notEvaluatedInAnyPass": [
            {"policy": n.policy, "urn": n.urn, "reason": n.reason} for n in still_not_evaluated(result, passes)
        ],
    }
    if counts is not None:
        document["counts"] = dict(counts)
    return document


def _reasons_text(by_reason: Mapping[str, int]) -> str:
    return "; ".join(f"{number} {kind}" for kind, number in by_reason.items())


def _not_evaluated_lines(result: GateResult, passes: Passes | None, verbose: bool) -> list[str]:
    lines = []
    for summary in pass_summaries(result, passes):
        if not summary["notEvaluated"]:
            lines.append(f"pass '{summary['pass']}': every applicable check evaluated")
            continue
        line = f"pass '{summary['pass']}': {summary['notEvaluated']} check(s) not evaluated ({_reasons_text(summary['byReason'])})"
        if summary["evaluatedInAnotherPass"]:
            every = summary["evaluatedInAnotherPass"] == summary["notEvaluated"]
            line += f"; {'all' if every else summary['evaluatedInAnotherPass']} evaluated in another pass"
        lines.append(line)
    if verbose:
        for name, own in passes or [("input", result)]:
            for item in sorted(set(own.not_evaluated), key=lambda n: (n.policy, n.urn, n.reason)):
                lines.append(f"  [{name.split(' (')[0]}] {item.policy}: {item.reason}")
    elif result.not_evaluated:
        lines.append("  (--verbose lists each one)")
    return lines


def to_text(result: GateResult, passes: Passes | None = None, *, verbose: bool = False,
            counts: Mapping[str, int] | None = None) -> str:
    lines: list[str] = []
    by_policy: dict[str, list[Violation]] = {}
    for v in _ordered(result.violations):
        by_policy.setdefault(v.policy, []).append(v)
    for policy, found in by_policy.items():
        entry = policy_entry(policy)
        refs = ", ".join(entry["references"])
        lines.append(f"{found[0].enforcement_level.upper():9} {found[0].severity:8} {policy} "
                     f"(control {entry['control']}{'; ' + refs if refs else ''})")
        for v in found:
            lines.append(f"  {shorten(v.message)}")
            lines.append(f"      {v.urn}")
        if entry["remediation"]:
            lines.append(f"  remediation: {entry['remediation']}")
    lines += _not_evaluated_lines(result, passes, verbose)
    remaining = len(still_not_evaluated(result, passes))
    if counts is not None:
        resources = f"{counts['toCreate']} resources"
    else:
        resources = f"{result.resources_evaluated + len(result.stacks)} resources"
    lines.append(
        f"{resources} in {len(result.stacks)} stack(s), "
        f"{len(result.policies_applied)} policies applied: "
        f"{result.mandatory} mandatory, {result.advisory} advisory violation(s), "
        f"{remaining} not evaluated in any pass"
    )
    return "\n".join(lines) + "\n"


def _fingerprint(v: Violation) -> str:
    return hashlib.sha256(f"{v.policy}\0{v.urn}\0{v.message}".encode()).hexdigest()


def to_sarif(result: GateResult, *, default_location: str) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy; each result once, located at the declaring source line if
    known, else at ``default_location`` (the stack file or the input file), repo-relative."""
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
    seen: set[str] = set()
    for v in sorted(result.violations, key=lambda v: (v.policy, v.urn, v.message, v.source or ("", 0))):
        fingerprint = _fingerprint(v)
        if fingerprint in seen:  # the same finding from another pass (or another source guess)
            continue
        seen.add(fingerprint)
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
                "partialFingerprints": {"mlopsGuardViolation/v1": fingerprint},
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


def render(result: GateResult, fmt: str, *, default_location: str = "Pulumi.yaml", passes: Passes | None = None,
           verbose: bool = False, counts: Mapping[str, int] | None = None) -> str:
    if fmt == "json":
        return json.dumps(to_json(result, passes, counts), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(result, default_location=default_location), indent=2) + "\n"
    return to_text(result, passes, verbose=verbose, counts=counts)
