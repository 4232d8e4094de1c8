"""The README's per-policy case table is what tools/policy_case_counts.py prints from the fixtures."""

from __future__ import annotations

import importlib.util
import re

from mlops_core.paths import REPO_ROOT

SPEC = importlib.util.spec_from_file_location("policy_case_counts", REPO_ROOT / "tools" / "policy_case_counts.py")
assert SPEC is not None and SPEC.loader is not None
COUNTS = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(COUNTS)


def _readme_table() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(re.escape(COUNTS.BEGIN) + r".*?" + re.escape(COUNTS.END), readme, re.DOTALL)
    assert found, "README.md has no policy case table (run python tools/policy_case_counts.py)"
    return found.group(0)


def test_readme_case_table_matches_the_fixtures() -> None:
    assert _readme_table() == COUNTS.render(), "README policy case table is stale: run python tools/policy_case_counts.py"

