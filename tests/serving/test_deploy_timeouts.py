"""A deploy action outlasts the longest blue/green deployment a serving stack may configure.

If CodeBuild kills ``pulumi up`` while SageMaker is still baking a canary, the update is left
with a pending operation and a lock in the state bucket. Both numbers are read where they are
defined: the deploy projects' ``buildTimeout`` from the planned res stack, the blue/green bounds
from the serving settings' validation and the committed stage files.
"""

from __future__ import annotations

import pytest
import yaml

from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import plan_stack

#: Time a deploy needs besides the blue/green wait (install, preview, policy pack, other resources).
MARGIN_SECONDS = 15 * 60


def _upper_bound(model, field: str) -> int:
    (bound,) = [m.le for m in model.model_fields[field].metadata if getattr(m, "le", None) is not None]
    return bound


@pytest.fixture(scope="module")
def deploy_timeouts_seconds() -> dict[str, int]:
    projects = plan_stack("res").of_type("aws:codebuild/project:Project")
    deploys = {p.inputs["name"]: int(p.inputs["buildTimeout"]) * 60 for p in projects if "-deploy-" in p.inputs["name"]}
    assert deploys, "res declares the promotion pipelines' deploy projects"
    return deploys


def test_deploy_actions_outlast_the_longest_allowed_blue_green(deploy_timeouts_seconds, serving_settings_module) -> None:
    longest = _upper_bound(serving_settings_module.BlueGreen, "maximum_execution_timeout_seconds")
    short = {name: t for name, t in deploy_timeouts_seconds.items() if t < longest + MARGIN_SECONDS}
    assert not short, f"deploy projects {short} (s) end before a {longest} s blue/green plus {MARGIN_SECONDS} s margin"


def _stage_blue_green(stage: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "serving" / "stages" / f"{stage}.yaml").read_text()).get("blueGreen") or {}


BLUE_GREEN_STAGES = [stage for stage in ("dev", "int", "prod") if _stage_blue_green(stage).get("enabled")]


def test_prod_deploys_blue_green() -> None:
    assert "prod" in BLUE_GREEN_STAGES, "serving/stages/prod.yaml: blue/green is the premise of these checks"


@pytest.mark.parametrize("stage", BLUE_GREEN_STAGES)
def test_deploy_actions_outlast_the_stage_default_blue_green(deploy_timeouts_seconds, stage: str) -> None:
    blue_green = _stage_blue_green(stage)
    needed = blue_green["maximumExecutionTimeoutSeconds"] + MARGIN_SECONDS
    short = {name: t for name, t in deploy_timeouts_seconds.items() if name.endswith(f"-{stage}") and t < needed}
    assert not short, f"serving/stages/{stage}.yaml allows {blue_green['maximumExecutionTimeoutSeconds']} s; deploy projects {short}"
