"""`mlops-platform stacks`: every platform stack in deploy order, the model projects' stacks included,
as CI's matrix jobs read them; `--state-moves` prints the split of a deployed exp stack."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from mlops_platform.cli import app

RUNNER = CliRunner()


def test_stacks_lists_the_project_stacks_after_exp_and_before_the_stages() -> None:
    result = RUNNER.invoke(app, ["stacks"])
    names = result.stdout.split()
    assert result.exit_code == 0 and names.index("exp") < names.index("exp.weld-gun-pm") < names.index("dev"), result.output


def test_project_stacks_as_json_are_one_per_model_project() -> None:
    result = RUNNER.invoke(app, ["stacks", "--project-stacks", "--json"])
    assert result.exit_code == 0 and sorted(json.loads(result.stdout)) == ["exp.spot-weld-qa", "exp.weld-gun-pm"], result.output


def test_a_new_model_project_gets_a_stack_without_a_stack_file(repo_copy: Path) -> None:
    org = yaml.safe_load((repo_copy / "organization.yaml").read_text())
    org["modelProjects"].append({**org["modelProjects"][1], "name": "paint-shop-qa"})
    (repo_copy / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    result = RUNNER.invoke(app, ["-C", str(repo_copy), "stacks", "--project-stacks", "--json"])
    assert result.exit_code == 0 and "exp.paint-shop-qa" in json.loads(result.stdout), result.output
    assert not (repo_copy / "Pulumi.exp.paint-shop-qa.yaml").exists()


def test_state_moves_print_three_moves_per_project() -> None:
    result = RUNNER.invoke(app, ["stacks", "--state-moves"])
    moves = [line for line in result.stdout.splitlines() if line.startswith("pulumi state move")]
    assert result.exit_code == 0 and len(moves) == 3 * 2, result.stdout
    assert "--source exp --dest exp.weld-gun-pm" in moves[0], moves[0]


def test_a_broken_organisation_is_one_line_per_problem_and_exit_2(repo_copy: Path) -> None:
    (repo_copy / "organization.yaml").write_text("modelProjects: 3\n")
    result = RUNNER.invoke(app, ["-C", str(repo_copy), "stacks"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and all(line.startswith("error: organization.yaml: ") for line in lines), result.output
    assert any("modelProjects" in line for line in lines), result.output
