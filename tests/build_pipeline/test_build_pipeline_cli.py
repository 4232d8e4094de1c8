"""`mlops-platform plan --stack exp.<project>` (JSON) and the first preview, where no ID is known yet."""

from __future__ import annotations

import json

import pytest
from build_pipeline_helpers import PIPELINE, SCHEDULE, children, pipeline_of
from typer.testing import CliRunner

from mlops_platform.cli import app
from mlops_core.config import load_organization
from mlops_platform.harness import account_plan

ORG = load_organization()
PROJECTS = [p.name for p in ORG.model_projects]
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@pytest.fixture(scope="module")
def plan_json() -> dict:
    stacks = [f"exp.{project}" for project in PROJECTS]
    result = CliRunner().invoke(app, ["plan", *(f"--stack={stack}" for stack in stacks), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _stack(plan_json: dict) -> dict:
    """The model projects' stacks' resources together (each holds its project's pipeline)."""
    return {"resources": [r for name, stack in plan_json["stacks"].items() if name.startswith("exp.") for r in stack["resources"]]}


@pytest.mark.parametrize("project", PROJECTS)
def test_cli_plan_has_the_pipeline_with_a_2020_12_01_definition(plan_json: dict, project: str) -> None:
    name = f"{ORG.platform_name}-{project}-build"
    pipelines = [r for r in _stack(plan_json)["resources"] if r["type"] == PIPELINE and r["inputs"].get("pipelineName") == name]
    assert len(pipelines) == 1, f"plan --stack exp.{project}: {len(pipelines)} pipelines named {name}"
    assert json.loads(pipelines[0]["inputs"]["pipelineDefinition"])["Version"] == "2020-12-01", pipelines[0]["urn"]


def test_cli_plan_has_a_schedule_per_scheduled_project(plan_json: dict) -> None:
    expressions = sorted(r["inputs"]["scheduleExpression"] for r in _stack(plan_json)["resources"] if r["type"] == SCHEDULE)
    assert expressions == sorted(p.retrain_schedule for p in ORG.model_projects if p.retrain_schedule), expressions


@pytest.fixture(scope="module")
def exp_preview():
    return account_plan("exp", preview=True)


@pytest.mark.parametrize("project", PROJECTS)
def test_first_preview_declares_the_pipeline_with_an_unknown_definition(exp_preview, project: str) -> None:
    pipeline = pipeline_of(exp_preview, project)
    assert pipeline.inputs.get("pipelineDefinition", UNKNOWN) == UNKNOWN, f"{pipeline.urn}: definition known before any ID is"


@pytest.mark.parametrize("project", [p.name for p in ORG.model_projects if p.retrain_schedule])
def test_first_preview_declares_the_schedule(exp_preview, project: str) -> None:
    assert len(children(exp_preview, project, SCHEDULE)) == 1, f"exp-{project}-build: no schedule in preview"
