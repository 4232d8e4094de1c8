"""`mlops-platform add` and `remove` edit organization.yaml like a careful person would: only the
lines that change, comments and layout kept, validated before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_core.config import load_organization
from mlops_platform.cli import app


def _run(root: Path, *args: str):
    return CliRunner().invoke(app, ["-C", str(root), *args])


def _text(root: Path) -> str:
    return (root / "organization.yaml").read_text()


def test_add_project_then_remove_it_gives_back_the_file(repo_copy: Path) -> None:
    before = _text(repo_copy)
    added = _run(repo_copy, "add", "project", "paint-shop-qa", "--data-set", "welding_sensors", "--columns", "cycle_count,fault")
    assert added.exit_code == 0, added.output
    assert load_organization(repo_copy).project("paint-shop-qa").data_access[0].columns == ["cycle_count", "fault"]
    removed = _run(repo_copy, "remove", "project", "paint-shop-qa")
    assert removed.exit_code == 0 and _text(repo_copy) == before, "add then remove must leave the file as it was"


def test_adding_keeps_every_comment_and_line(repo_copy: Path) -> None:
    before = _text(repo_copy).splitlines()
    assert _run(repo_copy, "add", "scientist", "hana", "--persona", "lead", "--projects", "weld-gun-pm").exit_code == 0
    after = _text(repo_copy).splitlines()
    missing = [line for line in before if line not in after]
    assert not missing, f"lines lost or changed by `add scientist`: {missing}"
    assert len(after) == len(before) + 3, "a data scientist is three new lines"


def test_an_added_scientist_joins_the_project(repo_copy: Path) -> None:
    assert _run(repo_copy, "add", "scientist", "hana", "--persona", "scientist", "--projects", "spot-weld-qa").exit_code == 0
    assert [p.name for p in load_organization(repo_copy).members("spot-weld-qa")][-1] == "hana"


def test_an_operator_persona_goes_to_operators(repo_copy: Path) -> None:
    assert _run(repo_copy, "add", "scientist", "ola", "--persona", "auditor").exit_code == 0
    assert "ola" in [o.name for o in load_organization(repo_copy).operators]


def test_removing_a_project_takes_it_out_of_people_s_projects(repo_copy: Path) -> None:
    result = _run(repo_copy, "remove", "project", "spot-weld-qa")
    assert result.exit_code == 0, result.output
    org = load_organization(repo_copy)
    assert "spot-weld-qa" not in {p.name for p in org.model_projects}
    assert all("spot-weld-qa" not in p.projects for p in org.data_scientists), [p.projects for p in org.data_scientists]
    assert "# No robot_id" not in _text(repo_copy), "the removed project's own comment goes with it"
    assert "# Data sets of the DATA account's lake" in _text(repo_copy), "the next section's comment stays"


def test_offboarding_a_person(repo_copy: Path) -> None:
    assert _run(repo_copy, "remove", "scientist", "bob").exit_code == 0
    assert "bob" not in {p.name for p in load_organization(repo_copy).data_scientists}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["add", "project", "Bad_Name"], "modelProjects[2].name"),
        (["add", "project", "new-proj", "--data-set", "nope"], "unknown data set 'nope'"),
        (["add", "scientist", "zed", "--persona", "wizard"], "--persona wizard"),
        (["add", "scientist", "zed", "--persona", "scientist", "--projects", "nope"], "unknown project 'nope'"),
        (["add", "scientist", "alice", "--persona", "lead"], "already exists"),
        (["remove", "scientist", "nobody"], "no user named 'nobody'"),
    ],
)
def test_bad_input_writes_nothing(repo_copy: Path, args: list[str], fragment: str) -> None:
    before = _text(repo_copy)
    result = _run(repo_copy, *args)
    assert result.exit_code == 2 and fragment in result.stderr, f"{args}: {result.stderr!r}"
    assert all(line.startswith("error: ") for line in result.stderr.strip().splitlines()), result.stderr
    assert _text(repo_copy) == before, f"{args}: organization.yaml changed despite the error"
