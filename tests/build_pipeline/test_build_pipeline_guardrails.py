"""The guardrail pack (with the EXP policy config) on the planned build pipelines: clean, and not blind.

The damage cases take the pipeline the exp stack really plans, break one step (a top-level one, or
one moved into the condition's branches) and evaluate it as `mlops-platform check` does. The
pipeline tests (`tests/pipelines`) already cover a top-level training step without isolation and a
top-level baseline step without output key on the library's own definition; these add VPC loss,
volume/output keys, and the nested steps.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable

import pytest
from build_pipeline_helpers import children, pipeline_of
from mlops_core.paths import policy_config_file
from mlops_guard.config import load_pack_config
from mlops_guard.engine import evaluate_stack
from mlops_guard.inputs import from_records

from mlops_pipelines.definition import STEP_BASELINE, STEP_EVALUATE, STEP_PREPROCESS, STEP_TRAIN
from mlops_core.paths import REPO_ROOT
from mlops_core.config import load_organization

ORG = load_organization()
PROJECTS = [p.name for p in ORG.model_projects]
PIPELINE_POLICIES = {"sagemaker-pipeline-steps-in-vpc", "sagemaker-pipeline-steps-encrypted", "sagemaker-pipeline-images-approved"}


@pytest.fixture(scope="module")
def exp_config():
    return load_pack_config(policy_config_file(REPO_ROOT, "exp"))


@pytest.fixture(scope="module")
def exp_result(exp_plan, exp_config):
    return evaluate_stack(from_records(exp_plan.resources), exp_config, stack=exp_plan.stack, project=exp_plan.project)


def own_urns(plan) -> set[str]:
    urns = set()
    for project in PROJECTS:
        urns |= {r.urn for r in children(plan, project)}
        urns |= {r.urn for r in plan.resources if r.name == f"exp-{project}-build"}
    return urns


# ---- the planned stack is clean --------------------------------------------------------------------


def test_no_mandatory_violation_on_the_build_pipeline_resources(exp_plan, exp_result) -> None:
    mine = own_urns(exp_plan)
    found = [f"{v.policy}: {v.message}" for v in exp_result.violations if v.urn in mine and v.enforcement_level == "mandatory"]
    assert found == [], found


def test_no_advisory_violation_on_the_build_pipeline_resources(exp_plan, exp_result) -> None:
    mine = own_urns(exp_plan)
    found = [f"{v.policy}: {v.message}" for v in exp_result.violations if v.urn in mine]
    assert found == [], found


@pytest.mark.parametrize("project", PROJECTS)
def test_pipeline_definition_policies_evaluated_the_known_definition(exp_plan, exp_result, project: str) -> None:
    urn = pipeline_of(exp_plan, project).urn
    skipped = [f"{n.policy}: {n.reason}" for n in exp_result.not_evaluated if n.urn == urn]
    assert PIPELINE_POLICIES <= exp_result.policies_applied and skipped == [], f"{urn}: not evaluated: {skipped}"


# ---- damaged definitions are refused -----------------------------------------------------------------


def _steps(definition: dict) -> list[dict]:
    return definition["Steps"]


def _condition(definition: dict) -> dict:
    (condition,) = [s for s in _steps(definition) if s["Type"] == "Condition"]
    return condition


def _take(definition: dict, name: str) -> dict:
    """Remove a top-level step and return it."""
    (step,) = [s for s in _steps(definition) if s["Name"] == name]
    _steps(definition).remove(step)
    return step


def nested(name: str, branch: str, damage: Callable[[dict], None]) -> Callable[[dict], str]:
    """Move step ``name`` into the condition's ``branch`` (IfSteps/ElseSteps), then damage it there."""

    def mutate(definition: dict) -> str:
        step = _take(definition, name)
        damage(step["Arguments"])
        _condition(definition)["Arguments"][branch].append(step)
        return name

    return mutate


def top(name: str, damage: Callable[[dict], None]) -> Callable[[dict], str]:
    def mutate(definition: dict) -> str:
        (step,) = [s for s in _steps(definition) if s["Name"] == name]
        damage(step["Arguments"])
        return name

    return mutate


def drop(*path: str) -> Callable[[dict], None]:
    def damage(arguments: dict) -> None:
        node = arguments
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return damage


def set_false(*path: str) -> Callable[[dict], None]:
    def damage(arguments: dict) -> None:
        node = arguments
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = False

    return damage


DAMAGE = {
    "processing step without VPC config": (top(STEP_PREPROCESS, drop("NetworkConfig", "VpcConfig")), "sagemaker-pipeline-steps-in-vpc", "VPC subnets"),
    "training step without VPC config": (top(STEP_TRAIN, drop("VpcConfig")), "sagemaker-pipeline-steps-in-vpc", "VPC subnets"),
    "training step without output key": (top(STEP_TRAIN, drop("OutputDataConfig", "KmsKeyId")), "sagemaker-pipeline-steps-encrypted", "output KMS key"),
    "processing step without volume key": (
        top(STEP_PREPROCESS, drop("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId")),
        "sagemaker-pipeline-steps-encrypted",
        "volume KMS key",
    ),
    "nested processing step without isolation": (
        nested(STEP_EVALUATE, "IfSteps", set_false("NetworkConfig", "EnableNetworkIsolation")),
        "sagemaker-pipeline-steps-in-vpc",
        "EnableNetworkIsolation",
    ),
    "nested processing step without VPC config": (
        nested(STEP_EVALUATE, "ElseSteps", drop("NetworkConfig", "VpcConfig")),
        "sagemaker-pipeline-steps-in-vpc",
        "VPC subnets",
    ),
    "nested training step without isolation": (
        nested(STEP_TRAIN, "IfSteps", set_false("EnableNetworkIsolation")),
        "sagemaker-pipeline-steps-in-vpc",
        "EnableNetworkIsolation",
    ),
    "nested training step without volume key": (
        nested(STEP_TRAIN, "ElseSteps", drop("ResourceConfig", "VolumeKmsKeyId")),
        "sagemaker-pipeline-steps-encrypted",
        "volume KMS key",
    ),
    "nested quality check without output key": (
        nested(STEP_BASELINE, "IfSteps", drop("ProcessingOutputConfig", "KmsKeyId")),
        "sagemaker-pipeline-steps-encrypted",
        "output KMS key",
    ),
    "nested quality check without VPC config": (
        nested(STEP_BASELINE, "ElseSteps", drop("NetworkConfig", "VpcConfig")),
        "sagemaker-pipeline-steps-in-vpc",
        "VPC subnets",
    ),
}


def evaluate_damaged(plan, config, project: str, mutate: Callable[[dict], str]):
    record = pipeline_of(plan, project)
    definition = copy.deepcopy(json.loads(record.inputs["pipelineDefinition"]))
    step = mutate(definition)
    damaged = dataclasses.replace(record, inputs={**record.inputs, "pipelineDefinition": json.dumps(definition)})
    return step, record.urn, evaluate_stack(from_records([damaged]), config, stack=plan.stack, project=plan.project)


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_policy_refuses_a_damaged_step(exp_plan, exp_config, case: str) -> None:
    mutate, policy, fragment = DAMAGE[case]
    step, urn, result = evaluate_damaged(exp_plan, exp_config, PROJECTS[0], mutate)
    messages = [v.message for v in result.violations if v.policy == policy and v.enforcement_level == "mandatory"]
    assert any(repr(step) in m and fragment in m for m in messages), f"{urn}: {case}: {policy} did not refuse it ({messages})"


def test_moving_an_intact_step_into_the_condition_stays_clean(exp_plan, exp_config) -> None:
    # The damage cases fail because of the damage, not because a step sits in a branch.
    _, urn, result = evaluate_damaged(exp_plan, exp_config, PROJECTS[0], nested(STEP_EVALUATE, "IfSteps", lambda arguments: None))
    found = [f"{v.policy}: {v.message}" for v in result.violations if v.policy in PIPELINE_POLICIES]
    assert found == [], f"{urn}: {found}"