"""ReleaseRoles in another region: the serving deployer and the deploy pipelines' role, trusted by their service only."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, KEY_ARN, PEER_ACCOUNT, REGION, TOPIC_ARN, document, statement
from components.release_roles import ReleaseNames, ReleaseRoles, ReleaseRolesArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration

STAGE_ROLES = [f"arn:aws:iam::{a}:role/acme-serving-deploy" for a in ("444400000001", "444400000002", "444400000003")]
NAMES = ReleaseNames(
    platform_name="acme", region=REGION, res_account=ACCOUNT, exp_account=PEER_ACCOUNT,
    deployer_role_name="acme-serving-deployer", pipeline_role_name="acme-release-pipeline",
    stage_deployment_role_arns=STAGE_ROLES, state_bucket="acme-state", state_key_alias="alias/acme-state",
    deploy_repository="acme/deploy",
)


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    def declare():
        ReleaseRoles("release", ReleaseRolesArgs(names=NAMES, artifact_bucket="acme-release", release_key_arn=KEY_ARN,
                                                 approval_topic_arn=TOPIC_ARN))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def role(plan: DeclarationPlan, name: str):
    (record,) = [r for r in plan.of_type("aws:iam/role:Role") if r.inputs["name"] == name]
    return record


def policy_of(plan: DeclarationPlan, resource_name: str) -> dict:
    return document(plan.named(f"{resource_name}-policy"))


def test_deployer_is_trusted_by_codebuild_of_res_only(plan) -> None:
    (trust,) = document(role(plan, "acme-serving-deployer"), "assumeRolePolicy")["Statement"]
    assert (trust["Principal"], trust["Condition"]) == (
        {"Service": "codebuild.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    ), f"acme-serving-deployer: CodeBuild of {ACCOUNT} only, got {trust}"


def test_pipeline_role_is_trusted_by_codepipeline_only(plan) -> None:
    (trust,) = document(role(plan, "acme-release-pipeline"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "codepipeline.amazonaws.com"}, f"acme-release-pipeline: CodePipeline only, got {trust}"


def test_deployer_sessions_last_at_most_an_hour(plan) -> None:
    assert role(plan, "acme-serving-deployer").inputs["maxSessionDuration"] == 3600, "acme-serving-deployer: one-hour sessions"


def test_deployer_assumes_only_the_stage_deployment_roles(plan) -> None:
    assumes = [s for s in policy_of(plan, "release-deployer")["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert [s["Resource"] for s in assumes] == [sorted(STAGE_ROLES)], f"acme-serving-deployer may assume {STAGE_ROLES} only"


def test_deployer_reads_model_packages_of_exp_in_the_region(plan) -> None:
    read = statement(policy_of(plan, "release-deployer"), "ReadModelPackagesInExp")
    assert read["Resource"] == f"arn:aws:sagemaker:{REGION}:{PEER_ACCOUNT}:model-package/*", read


def test_deployer_pulls_only_the_deploy_image_of_this_registry(plan) -> None:
    pull = statement(policy_of(plan, "release-deployer"), "PullDeployImage")
    assert pull["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/acme/deploy", pull


def test_deployer_never_writes_platform_stack_state(plan) -> None:
    writes = [r for s in policy_of(plan, "release-deployer")["Statement"] if "s3:PutObject" in s["Action"] for r in s["Resource"]]
    assert not [r for r in writes if "/mlops-platform/" in r], f"acme-serving-deployer writes platform state: {writes}"


def test_pipeline_starts_only_platform_builds_in_the_region(plan) -> None:
    builds = statement(policy_of(plan, "release-pipeline"), "RunPlatformBuilds")
    assert builds["Resource"] == f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/acme-*", builds


def test_pipeline_notifies_only_the_approval_topic(plan) -> None:
    notify = statement(policy_of(plan, "release-pipeline"), "NotifyApprovers")
    assert notify["Resource"] == TOPIC_ARN, notify
