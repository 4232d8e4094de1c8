"""`mlops-platform plan` output: Pulumi-like totals, deploy order, protected resources marked in text
and JSON, --summary, and one resource count everywhere (plan, check, README)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.cli import app
from mlops_platform.plan_view import count_plans

RUNNER = CliRunner()
#: The deployer's waves: the model projects' stacks run after exp, beside res.
DEPLOY_ORDER = ["data", "exp", "exp.spot-weld-qa", "exp.weld-gun-pm", "res", "dev", "int", "prod"]


@pytest.fixture(scope="module")
def plan_text(platform_plans) -> str:
    result = RUNNER.invoke(app, ["plan"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def plan_json(platform_plans) -> dict:
    result = RUNNER.invoke(app, ["plan", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_header_names_the_project(plan_text: str) -> None:
    assert plan_text.splitlines()[0].startswith(f"Project {REPO_ROOT} "), plan_text.splitlines()[0]


def test_stacks_are_listed_in_deploy_order(plan_text: str) -> None:
    order = re.findall(r"^Stack (\S+) ", plan_text, flags=re.M)
    assert order == DEPLOY_ORDER, f"plan lists {order}, the deployer runs {DEPLOY_ORDER}"


def test_the_totals_line_counts_what_pulumi_would_create(plan_text: str, platform_plans) -> None:
    # Each Stack resource counts; what a stack only reads (StackReference) is not created.
    expected = sum(1 for p in platform_plans.values() for r in p.resources if r.type != "pulumi:pulumi:StackReference") + len(platform_plans)
    (line,) = [l for l in plan_text.splitlines() if l.startswith("Resources: ")]
    assert line.startswith(f"Resources: + {expected} to create ("), line


def test_the_totals_add_up_to_the_stack_lines(plan_text: str) -> None:
    per_stack = [int(n) for n in re.findall(r"^Stack .*: \+ (\d+) to create", plan_text, flags=re.M)]
    total = int(re.search(r"^Resources: \+ (\d+) to create", plan_text, flags=re.M).group(1))
    assert sum(per_stack) == total, f"stack lines add up to {sum(per_stack)}, the totals say {total}"


def test_protected_resources_are_marked_in_text(plan_text: str, platform_plans) -> None:
    protected = next(r for r in platform_plans["res"].resources if r.protect and r.custom)
    unprotected = next(r for r in platform_plans["res"].resources if not r.protect and r.custom)
    assert re.search(rf"{re.escape(protected.name)}  \[protected\]$", plan_text, flags=re.M), protected.name
    assert not re.search(rf"  {re.escape(unprotected.name)}  \[protected\]$", plan_text, flags=re.M), unprotected.name


def test_protected_resources_are_marked_in_json(plan_json: dict, platform_plans) -> None:
    marked = {r["name"] for r in plan_json["stacks"]["res"]["resources"] if r["protect"]}
    expected = {r.name for r in platform_plans["res"].resources if r.protect}
    assert marked == expected and marked, f"JSON marks {len(marked)} protected, the plan has {len(expected)}"


def test_json_totals_match_the_text(plan_json: dict, platform_plans) -> None:
    assert plan_json["totals"]["toCreate"] == count_plans(platform_plans).to_create
    assert list(plan_json["stacks"]) == DEPLOY_ORDER, list(plan_json["stacks"])


def test_summary_is_one_line_per_stack(platform_plans) -> None:
    result = RUNNER.invoke(app, ["plan", "--summary"])
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 0 and len(lines) == 1 + len(DEPLOY_ORDER) + 1, lines
    assert lines[-1].startswith("Resources: + "), lines[-1]


def test_check_counts_the_same_resources_as_plan(platform_plans, preview_plans) -> None:
    result = RUNNER.invoke(app, ["check"])
    total = count_plans(platform_plans).to_create
    assert result.stdout.strip().splitlines()[-1].startswith(f"{total} resources in {len(DEPLOY_ORDER)} stack(s)"), result.stdout[-400:]


def test_the_readme_quotes_the_plan_s_count(platform_plans) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    total = count_plans(platform_plans).to_create
    quoted = {int(n) for n in re.findall(r"\+ (\d+) to create", readme)}
    assert quoted == {total}, f"README quotes {sorted(quoted)} to create, the plan counts {total}"
