"""The README gives a new user exactly two commands and quotes figures the code produces."""

from __future__ import annotations

from mlops_core.paths import REPO_ROOT
from mlops_platform.costs import README_END, README_START, readme_table


def test_readme_cost_table_matches_the_endpoint_lists() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert section == readme_table(), "README cost table is stale: run `.venv/bin/python -m mlops_platform.costs`"


def test_readme_names_make_plan_and_make_test() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    assert "make plan" in text and "make test" in text


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
