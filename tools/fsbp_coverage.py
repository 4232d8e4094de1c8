"""Print the README's Security Hub coverage table: every FSBP control for the services the platform
deploys (tools/fsbp_controls.yaml, with its AWS source), the policies that cite it (``refs`` "SH:<id>")
or why none does. tests/policies/test_fsbp_coverage.py compares the README with this output.

Run: ``python tools/fsbp_coverage.py``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from mlops_guard.registry import ALL_POLICIES

DATA = Path(__file__).resolve().parent / "fsbp_controls.yaml"
BEGIN = "<!-- fsbp-coverage:begin -->"
END = "<!-- fsbp-coverage:end -->"


def load() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def citing_policies() -> dict[str, list[str]]:
    """FSBP control id -> names of the policies that cite it."""
    cited: dict[str, list[str]] = defaultdict(list)
    for gp in ALL_POLICIES:
        for ref in gp.references:
            if ref.framework == "AWS-FSBP":
                cited[ref.id].append(gp.name)
    return cited


def rows() -> list[tuple[str, str, str, str]]:
    """(service, control id, title, enforced by / why not) for every control of the data file."""
    data, cited = load(), citing_policies()
    found = []
    for service, controls in data["services"].items():
        for control_id, control in (controls or {}).items():
            policies = cited.get(control_id)
            if policies:
                verdict = ", ".join(f"`{p}`" for p in policies)
            else:
                reason = control.get("none", "")
                verdict = f"none: {data['reasons'].get(reason, reason)}" if reason else ""
            found.append((service, control_id, control["title"], verdict))
    return found


def render() -> str:
    data = load()
    table = rows()
    covered = sum(1 for *_, verdict in table if not verdict.startswith("none"))
    lines = [
        BEGIN,
        f"{covered} of {len(table)} FSBP controls for these services are enforced before deployment "
        f"(source: {data['source']}).",
        "",
        "| Service | Control | Title | Enforced by |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s} | {c} | {t} | {v} |" for s, c, t, v in table]
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
