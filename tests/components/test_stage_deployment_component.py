"""StageDeploymentRole in another region, with and without projects: trust, boundary fence and scope."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, KEY_ARN, LOGS_KEY_ARN, PEER_ACCOUNT, REGION, as_list, depends_on, document, only, statement
from components.stage_deployment import StageDeploymentRole, StageDeploymentRoleArgs, StageScope
from mlops_platform.harness import DeclarationPlan, plan_declaration

RES_ACCOUNT = "333300000003"
DEPLOYER = f"arn:aws:iam::{RES_ACCOUNT}:role/acme-serving-deployer"


def scope(projects: list[str]) -> StageScope:
    return StageScope(
        prefix="acme", region=REGION, account_id=ACCOUNT, exp_account_id=PEER_ACCOUNT,
        serving_buckets=sorted(f"acme-{ACCOUNT}-{p}-capture" for p in projects),
        serving_role_patterns=sorted(f"arn:aws:iam::{ACCOUNT}:role/acme-serving-{p}-*" for p in projects),
    )


def role_plan(projects: list[str]) -> DeclarationPlan:
    def declare():
        StageDeploymentRole(
            "deploy",
            StageDeploymentRoleArgs(role_name="acme-serving-deploy", boundary_name="acme-serving-deploy-boundary",
                                    res_account_id=RES_ACCOUNT, deployer_role_arn=DEPLOYER, scope=scope(projects),
                                    key_arns=[KEY_ARN, LOGS_KEY_ARN]),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def with_project() -> DeclarationPlan:
    return role_plan(["pump-pm"])


@pytest.fixture(scope="module")
def without_projects() -> DeclarationPlan:
    return role_plan([])


def role_policy(plan: DeclarationPlan) -> dict:
    return document(only(plan, "aws:iam/rolePolicy:RolePolicy"))


def test_only_the_res_serving_deployer_may_assume_it(with_project) -> None:
    (trust,) = document(only(with_project, "aws:iam/role:Role"), "assumeRolePolicy")["Statement"]
    assert (trust["Principal"], trust["Condition"]) == (
        {"AWS": f"arn:aws:iam::{RES_ACCOUNT}:root"}, {"ArnEquals": {"aws:PrincipalArn": DEPLOYER}}
    ), f"acme-serving-deploy: trusted by {DEPLOYER} only, got {trust}"


def test_role_carries_the_boundary(with_project) -> None:
    role = only(with_project, "aws:iam/role:Role")
    assert depends_on(role, "permissionsBoundary", only(with_project, "aws:iam/policy:Policy")), (
        f"{role.name}: the permissions boundary is the component's boundary policy"
    )


def test_boundary_denies_every_other_region(with_project) -> None:
    fence = statement(document(only(with_project, "aws:iam/policy:Policy")), "OnlyThePlatformRegion")
    assert (fence["Effect"], fence["Condition"]) == ("Deny", {"StringNotEquals": {"aws:RequestedRegion": REGION}}), (
        f"boundary: requests outside {REGION} are denied, got {fence}"
    )


def test_boundary_region_fence_leaves_global_iam_and_sts_alone(with_project) -> None:
    fence = statement(document(only(with_project, "aws:iam/policy:Policy")), "OnlyThePlatformRegion")
    assert sorted(fence["NotAction"]) == ["iam:*", "sts:*"], "IAM and STS calls carry us-east-1; the fence must exempt them"


def test_regional_resources_name_the_stage_region(with_project) -> None:
    arns = [r for s in role_policy(with_project)["Statement"] for r in as_list(s["Resource"]) if r.count(":") >= 5]
    other = [a for a in arns if a.split(":")[3] not in ("", REGION)]
    assert not other, f"acme-serving-deploy: resources outside {REGION}: {other}"


def test_passes_only_the_projects_serving_roles(with_project) -> None:
    passing = statement(role_policy(with_project), "PassServingRoles")
    assert passing["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/acme-serving-pump-pm-*"], passing


def test_without_projects_no_bucket_is_manageable(without_projects) -> None:
    buckets = statement(role_policy(without_projects), "ServingBuckets")
    assert buckets["Resource"] == ["arn:aws:s3:::acme-none"], f"no projects: a placeholder bucket, never a wildcard, got {buckets['Resource']}"


def test_without_projects_no_role_can_be_passed(without_projects) -> None:
    passing = statement(role_policy(without_projects), "PassServingRoles")
    wildcards = [r for r in passing["Resource"] if r.endswith(("/*", ":*"))]
    assert not wildcards, f"no projects: PassRole must not match any role, got {passing['Resource']}"


def test_stage_keys_are_added_once_known(with_project) -> None:
    keys = statement(role_policy(with_project), "UseStageKeys")
    assert keys["Resource"] == sorted([KEY_ARN, LOGS_KEY_ARN]), f"acme-serving-deploy: the stage's two keys, got {keys['Resource']}"
