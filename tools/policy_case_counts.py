"""Print the README table of how many cases the policy tests hold per policy.

Counts the case data the parametrized tests in tests/policies/ run (golden fixtures per resource
type, one-field mutations, unknown-value cases, forbidden types, stack mutations and unknowns, and
the every-form cases of forms.yaml), so the README figure cannot drift: tests/policies/
test_case_counts.py compares the README with this output. Run: ``python tools/policy_case_counts.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlops_guard.registry import ALL_POLICIES

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "policies" / "fixtures"
#: Stack policies with further golden stacks of their own (each a ``golden`` list and its ``mutations``).
VARIANT_FIXTURES = {"audit-evidence-locked": "audit_archive.yaml"}
BEGIN = "<!-- policy-case-counts:begin -->"
END = "<!-- policy-case-counts:end -->"


def _load(name: str) -> Any:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8")) or {}


def case_counts() -> dict[str, dict[str, int]]:
    """Policy name -> {"golden", "mutations", "unknown", "forms"} case counts."""
    golden, cases, stack_cases, forms = _load("golden.yaml"), _load("cases.yaml"), _load("stack_cases.yaml"), _load("forms.yaml")
    counts: dict[str, dict[str, int]] = {}
    for gp in ALL_POLICIES:
        data = (cases if gp.kind == "resource" else stack_cases).get(gp.name, {})
        form_cases = (forms.get(gp.kind, {}) or {}).get(gp.name, [])
        counts[gp.name] = {
            "golden": sum(1 for t in gp.types if t in golden) if gp.kind == "resource" else 1,
            "mutations": len(data.get("mutations", [])) + len(data.get("forbidden_types", [])),
            "unknown": len(data.get("unknown", [])),
            "forms": len(form_cases),
        }
        if gp.name in VARIANT_FIXTURES:
            variants = [v for v in _load(VARIANT_FIXTURES[gp.name]).values() if isinstance(v, dict) and "golden" in v]
            counts[gp.name]["golden"] += len(variants)
            counts[gp.name]["mutations"] += sum(len(v.get("mutations", [])) for v in variants)
    return counts


def render() -> str:
    lines = [BEGIN, "| Policy | Golden | Mutations | Unknown values | Forms | Total |", "|---|---:|---:|---:|---:|---:|"]
    grand = 0
    for name, c in case_counts().items():
        total = sum(c.values())
        grand += total
        lines.append(f"| `{name}` | {c['golden']} | {c['mutations']} | {c['unknown']} | {c['forms']} | {total} |")
    lines.append(f"| **all {len(ALL_POLICIES)} policies** | | | | | **{grand}** |")
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
