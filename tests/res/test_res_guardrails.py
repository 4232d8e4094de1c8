"""The guardrail pack on the RES and stage stacks: no mandatory violation (known and preview outputs).

RES's image-build CodeBuild project runs Docker (privileged). The pack allows that only for
projects listed in ``codebuild-project-hardened.privilegedProjects``, which the generated
policies/config/res.json takes from :func:`components.image_pipeline.privileged_project_names`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.image_pipeline import privileged_project_names
from mlops_guard.config import parse_pack_config
from mlops_guard.engine import evaluate_stack
from mlops_guard.inputs import from_records

REPO = Path(__file__).resolve().parents[2]


def pack_config(role: str):
    return parse_pack_config(json.loads((REPO / f"policies/config/{role}.json").read_text()), f"policies/config/{role}.json")


def mandatory(plan, config) -> list[str]:
    result = evaluate_stack(from_records(plan.resources), config, stack=plan.stack, project=plan.project)
    return [f"{v.policy} {v.urn}: {v.message}" for v in result.violations if v.enforcement_level == "mandatory"]


@pytest.mark.parametrize("stack", ["dev", "int", "prod"])
@pytest.mark.parametrize("mode", ["known", "preview"])
def test_stage_stacks_have_no_mandatory_violation(platform_plans, preview_plans, stack, mode) -> None:
    plan = (platform_plans if mode == "known" else preview_plans)[stack]
    found = mandatory(plan, pack_config(stack))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("mode", ["known", "preview"])
def test_res_has_no_mandatory_violation(platform_plans, preview_plans, mode) -> None:
    plan = (platform_plans if mode == "known" else preview_plans)["res"]
    found = mandatory(plan, pack_config("res"))
    assert not found, "\n".join(found)


def test_only_the_image_builder_is_allow_listed_as_privileged() -> None:
    raw = json.loads((REPO / "policies/config/res.json").read_text())
    assert raw["codebuild-project-hardened"]["privilegedProjects"] == privileged_project_names("mlops") == ["mlops-image-build"]
