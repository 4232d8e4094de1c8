"""The Security Hub CSPM controls of tools/securityhub_controls.yaml, and the check that every policy's
``SH:<id>`` ref names one of them (tests/policies/test_securityhub_refs.py runs it on the pack).

Run: ``python tools/securityhub_controls.py`` prints each cited ref the list does not hold (none: exit 0).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_guard.model import GuardPolicy

DATA = Path(__file__).resolve().parent / "securityhub_controls.yaml"
SECURITY_HUB_FRAMEWORK = "AWS-FSBP"
"""The framework ``define`` gives an ``SH:`` ref (every Security Hub control id, whatever its standard)."""
FSBP = "AWS-FSBP"
FSBP_TABLE_PREFIXES = {"API Gateway": "APIGateway", "EC2/VPC": "EC2", "Step Functions": "StepFunctions", "CloudWatch Logs": "CloudWatch"}
"""Service name in tools/fsbp_controls.yaml -> the control id prefix (the service's name where absent)."""


@dataclass(frozen=True)
class Control:
    """One Security Hub CSPM control as AWS's user guide lists it."""

    id: str
    title: str
    standards: tuple[str, ...]
    """Standards whose page lists it (AWS-FSBP, AWS-AI-SBP); else the frameworks of its Related requirements."""
    source: str
    """The control's section on its service page."""


def load(path: Path = DATA) -> dict[str, Control]:
    """Control id -> control, for every control of the data file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, Control] = {}
    for service in data["services"].values():
        for control_id, control in service["controls"].items():
            anchor = control_id.lower().replace(".", "-")
            found[control_id] = Control(
                control_id, control["title"], tuple(control["standards"]), f"{service['page']}#{anchor}"
            )
    return found


def cited(policies: Iterable[GuardPolicy]) -> list[tuple[str, str]]:
    """(policy name, control id) for every ``SH:`` ref of the policies."""
    return [
        (gp.name, ref.id) for gp in policies for ref in gp.references if ref.framework == SECURITY_HUB_FRAMEWORK
    ]


def unknown_refs(policies: Iterable[GuardPolicy], controls: Mapping[str, Control]) -> list[str]:
    """``"<policy>: SH:<id>"`` for each cited control id that is not in ``controls``."""
    return [f"{name}: SH:{control_id}" for name, control_id in cited(policies) if control_id not in controls]


def fsbp_table_mismatches(table: Mapping[str, Mapping[str, Mapping[str, str]] | None], controls: Mapping[str, Control]) -> list[str]:
    """Where the FSBP table (tools/fsbp_controls.yaml ``services``) differs from the list's FSBP controls.

    Each service must list exactly the list's AWS-FSBP controls of its prefix, each under AWS's title.
    """
    found = []
    for service, listed in table.items():
        prefix = FSBP_TABLE_PREFIXES.get(service, service)
        expected = {c.id: c.title for c in controls.values() if c.id.split(".")[0] == prefix and FSBP in c.standards}
        got = {control_id: control["title"] for control_id, control in (listed or {}).items()}
        found += [f"{service}: {c} is an FSBP control the table leaves out" for c in sorted(expected.keys() - got.keys())]
        found += [f"{service}: {c} is not an FSBP control of {DATA.name}" for c in sorted(got.keys() - expected.keys())]
        found += [
            f"{service}: {c} is titled {got[c]!r}, AWS's title is {expected[c]!r}"
            for c in sorted(got.keys() & expected.keys())
            if got[c] != expected[c]
        ]
    return found


if __name__ == "__main__":
    from mlops_guard.registry import ALL_POLICIES

    missing = unknown_refs(ALL_POLICIES, load())
    for line in missing:
        print(f"not a Security Hub control in {DATA.name}: {line}")
    sys.exit(1 if missing else 0)
