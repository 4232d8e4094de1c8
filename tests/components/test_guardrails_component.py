"""SageMakerGuardrails rendered for three AZs: both deny policies name every subnet, group and endpoint."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from component_helpers import ACCOUNT, REGION, SECURITY_GROUP_IDS, SUBNET_IDS, depends_on, document
from components.guardrails import RoleGuardrails, RoleGuardrailsArgs, SageMakerGuardrails, SageMakerGuardrailsArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration

ENDPOINT = "vpce-0123456789abcdef0"


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    def declare():
        guardrails = SageMakerGuardrails(
            "guard",
            SageMakerGuardrailsArgs(name_prefix="acme", subnet_ids=SUBNET_IDS, security_group_ids=SECURITY_GROUP_IDS,
                                    sagemaker_api_endpoint_ids=[ENDPOINT]),
        )
        role = aws.iam.Role("job-role", aws.iam.RoleArgs(assume_role_policy="{}"))
        guardrails.attach(role.name, "job")

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def policies(plan: DeclarationPlan) -> dict[str, object]:
    return {r.inputs["tags"]["mlops:guardrail"]: r for r in plan.of_type("aws:iam/policy:Policy")}


def test_both_deny_policies_are_declared_and_tagged(plan) -> None:
    assert sorted(policies(plan)) == ["sagemaker-deny-encryption", "sagemaker-deny-network"], (
        "SageMakerGuardrails: the pack recognises the two policies by their mlops:guardrail tag"
    )


def test_policy_names_carry_the_prefix(plan) -> None:
    names = sorted(r.inputs["name"] for r in plan.of_type("aws:iam/policy:Policy"))
    assert names == ["acme-sagemaker-deny-encryption", "acme-sagemaker-deny-network"], names


def test_network_policy_names_every_subnet(plan) -> None:
    text = json.dumps(document(policies(plan)["sagemaker-deny-network"]))
    missing = [s for s in SUBNET_IDS if s not in text]
    assert not missing, f"sagemaker-deny-network: subnets {missing} of the three AZs are missing"


def test_network_policy_names_the_security_groups_and_endpoint(plan) -> None:
    text = json.dumps(document(policies(plan)["sagemaker-deny-network"]))
    assert all(v in text for v in [*SECURITY_GROUP_IDS, ENDPOINT]), "sagemaker-deny-network: groups and sagemaker.api endpoint"


def test_no_placeholder_is_left(plan) -> None:
    left = [kind for kind, r in policies(plan).items() if "${" in r.inputs["policy"]]
    assert not left, f"guardrail documents {left} still contain a ${{...}} placeholder"


def test_rendered_documents_fit_the_managed_policy_limit(plan) -> None:
    sizes = {kind: len(r.inputs["policy"]) for kind, r in policies(plan).items()}
    assert all(size <= 6_144 for size in sizes.values()), f"IAM allows 6,144 characters: {sizes}"


def test_every_statement_denies(plan) -> None:
    effects = {s["Effect"] for r in policies(plan).values() for s in document(r)["Statement"]}
    assert effects == {"Deny"}, f"guardrails are deny-only (they never widen a role), got {effects}"


def test_attach_adds_both_policies_to_the_role(plan) -> None:
    attachments = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    attached = {kind for kind, policy in policies(plan).items() for a in attachments if depends_on(a, "policyArn", policy)}
    assert attached == set(policies(plan)), f"attach(): one attachment per deny policy, got {attached}"


# ---- RoleGuardrails: both guardrails on a role another stack declares ---------------------------

ENCRYPTION_ARN = f"arn:aws:iam::{ACCOUNT}:policy/acme-sagemaker-deny-encryption"
JOBS_GROUP = "sg-0aaaaaaaaaaaaaaa1"


@pytest.fixture(scope="module")
def role_plan() -> DeclarationPlan:
    def declare():
        RoleGuardrails(
            "pump-role-guardrails",
            RoleGuardrailsArgs(name_prefix="acme", scope="project-pump", role_name="acme-project-pump", subnet_ids=SUBNET_IDS,
                               security_group_ids=[JOBS_GROUP], sagemaker_api_endpoint_ids=[ENDPOINT],
                               encryption_policy_arn=ENCRYPTION_ARN,
                               previous_names={"pump-role-guardrails-sagemaker-deny-network-policy": "old-network-policy"}),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_role_guardrails_network_policy_admits_only_the_given_groups(role_plan) -> None:
    (policy,) = role_plan.of_type("aws:iam/policy:Policy")
    (deny,) = [s for s in document(policy)["Statement"] if s["Sid"] == "DenyUnapprovedSecurityGroups"]
    allowed = deny["Condition"]["ForAnyValue:StringNotEquals"]["sagemaker:VpcSecurityGroupIds"]
    assert allowed == [JOBS_GROUP], f"{policy.name}: the role's own network guardrail admits {allowed}, not only its jobs group"


def test_role_guardrails_attach_both_kinds_to_the_named_role(role_plan) -> None:
    attachments = role_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert {a.inputs["role"] for a in attachments} == {"acme-project-pump"}, [a.inputs for a in attachments]
    assert ENCRYPTION_ARN in {a.inputs["policyArn"] for a in attachments} and len(attachments) == 2, (
        "RoleGuardrails: the network policy and the account's shared encryption policy, attached"
    )


def test_role_guardrails_alias_a_moved_policy_at_the_stack_root(role_plan) -> None:
    (policy,) = role_plan.of_type("aws:iam/policy:Policy")
    assert policy.aliases == [{"name": "old-network-policy", "type": None, "parent": ""}], policy.aliases
