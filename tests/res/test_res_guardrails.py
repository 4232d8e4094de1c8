"""The guardrail pack on the RES and stage stacks: no mandatory violation (known and preview outputs).

RES's image-build CodeBuild project runs Docker (privileged). The pack allows that only for
projects listed in ``codebuild-project-hardened.privilegedProjects``; the generated
policy-config.res.json does not list it yet (requested from the guardrail owner), so the RES check
here adds exactly :func:`privileged_project_names` to the committed config and nothing else.
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


def pack_config(role: str, privileged: list[str] | None = None):
    raw = json.loads((REPO / f"policy-config.{role}.json").read_text())
    if privileged:
        entry = raw.setdefault("codebuild-project-hardened", {})
        entry["privilegedProjects"] = sorted({*entry.get("privilegedProjects", []), *privileged})
    return parse_pack_config(raw, f"policy-config.{role}.json")


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
def test_res_has_no_mandatory_violation_once_the_image_builder_is_allow_listed(platform_plans, preview_plans, mode) -> None:
    plan = (platform_plans if mode == "known" else preview_plans)["res"]
    found = mandatory(plan, pack_config("res", privileged_project_names("mlops")))
    assert not found, "\n".join(found)


def test_the_image_builder_is_the_only_res_finding_without_the_allow_list(platform_plans) -> None:
    found = mandatory(platform_plans["res"], pack_config("res"))
    unexpected = [f for f in found if not (f.startswith("codebuild-project-hardened") and "res-images-image-build" in f)]
    assert not unexpected, "\n".join(unexpected)
