"""PersonaRole, PersonaPermissionSet and UserNameAttribute: sign-in roles with bounded sessions and only the policies given."""

from __future__ import annotations

import json

import pytest

from component_helpers import ACCOUNT, REGION, only
from components.people import (
    PersonaPermissionSet,
    PersonaPermissionSetArgs,
    PersonaRole,
    PersonaRoleArgs,
    UserNameAttribute,
    UserNameAttributeArgs,
    federated_trust_policy,
)
from mlops_platform.harness import DeclarationPlan, plan_declaration

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
TRUST = federated_trust_policy(f"arn:aws:iam::{ACCOUNT}:saml-provider/corp", "userName", ["zoe"])
GUARDRAIL = f"arn:aws:iam::{ACCOUNT}:policy/acme-sagemaker-deny-network"
READ = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
LIST = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}


def role_plan(**overrides) -> DeclarationPlan:
    args = dict(role_name="acme-auditor", persona="auditor", trust_policy=TRUST)
    args.update(overrides)

    def declare():
        PersonaRole("auditor", PersonaRoleArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def permission_set_plan(**overrides) -> DeclarationPlan:
    args = dict(instance_arn=INSTANCE, permission_set_name="acme-auditor", persona="auditor")
    args.update(overrides)

    def declare():
        PersonaPermissionSet("auditor", PersonaPermissionSetArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def bare_role() -> DeclarationPlan:
    return role_plan()


@pytest.fixture(scope="module")
def full_role() -> DeclarationPlan:
    return role_plan(policies={"read": READ}, managed_policy_arns=[GUARDRAIL], session_hours=2)


def test_role_trust_is_the_given_sign_in_policy(bare_role) -> None:
    role = only(bare_role, "aws:iam/role:Role")
    assert json.loads(role.inputs["assumeRolePolicy"]) == TRUST, f"{role.name}: trust must be exactly the sign-in policy"


def test_role_session_defaults_to_eight_hours(bare_role) -> None:
    role = only(bare_role, "aws:iam/role:Role")
    assert role.inputs["maxSessionDuration"] == 8 * 3600, f"{role.name}: default console session 8 h"


def test_role_session_follows_session_hours(full_role) -> None:
    role = only(full_role, "aws:iam/role:Role")
    assert role.inputs["maxSessionDuration"] == 2 * 3600, f"{role.name}: session_hours=2"


def test_role_session_beyond_iam_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="session_hours must be 1-12"):
        role_plan(session_hours=13)


def test_role_without_policies_has_no_inline_policy(bare_role) -> None:
    assert not bare_role.of_type("aws:iam/rolePolicy:RolePolicy"), "PersonaRole: no inline policy unless given"


def test_role_without_managed_policies_attaches_none(bare_role) -> None:
    assert not bare_role.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "PersonaRole: nothing attached unless given"


def test_role_gets_each_inline_policy_by_name(full_role) -> None:
    (policy,) = full_role.of_type("aws:iam/rolePolicy:RolePolicy")
    assert (policy.inputs["name"], json.loads(policy.inputs["policy"])) == ("read", READ), f"{policy.name}: the 'read' document"


def test_role_attaches_the_managed_policies(full_role) -> None:
    (attachment,) = full_role.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == GUARDRAIL, f"{attachment.name}: attaches {GUARDRAIL}"


def test_role_is_tagged_with_its_persona(bare_role) -> None:
    role = only(bare_role, "aws:iam/role:Role")
    assert role.inputs["tags"]["mlops:persona"] == "auditor", f"{role.name}: tagged mlops:persona"


def test_permission_set_session_follows_session_hours() -> None:
    permission_set = only(permission_set_plan(session_hours=4), "aws:ssoadmin/permissionSet:PermissionSet")
    assert permission_set.inputs["sessionDuration"] == "PT4H", f"{permission_set.name}: ISO 8601 duration of session_hours=4"


def test_permission_set_without_documents_has_no_inline_policy() -> None:
    plan = permission_set_plan()
    assert not plan.of_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"), (
        "PersonaPermissionSet: no inline policy without documents"
    )


def test_permission_set_merges_documents_with_unique_sids() -> None:
    plan = permission_set_plan(documents=[READ, json.dumps(LIST)])
    merged = json.loads(only(plan, "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy").inputs["inlinePolicy"])
    assert [s["Sid"] for s in merged["Statement"]] == ["Read", "Read1"], f"one inline policy, duplicate Sids renamed: {merged}"


def test_permission_set_attaches_managed_policies() -> None:
    plan = permission_set_plan(managed_policy_arns=["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"])
    (attachment,) = plan.of_type("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment")
    assert attachment.inputs["managedPolicyArn"].endswith("/ViewOnlyAccess"), attachment.inputs


def test_role_tags_cannot_overwrite_the_persona_tag() -> None:
    with pytest.raises(ValueError, match="tag mlops:persona is the role's persona \\(auditor\\)"):
        role_plan(tags={"mlops:persona": "admin"})


def test_role_keeps_other_tags_beside_the_persona_tag() -> None:
    tags = only(role_plan(tags={"team": "quality"}), "aws:iam/role:Role").inputs["tags"]
    assert tags == {"team": "quality", "mlops:persona": "auditor"}, f"acme-auditor: tags {tags}"


def test_permission_set_session_beyond_identity_center_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="session_hours must be 1-12"):
        permission_set_plan(session_hours=13)


def test_permission_set_name_beyond_32_characters_is_rejected() -> None:
    with pytest.raises(ValueError, match="at most 32 characters"):
        permission_set_plan(permission_set_name="acme-" + "x" * 28)


def test_user_name_attribute_passes_the_configured_tag() -> None:
    def declare():
        UserNameAttribute("attrs", UserNameAttributeArgs(instance_arn=INSTANCE, user_name_tag="employeeId",
                                                         source="${path:enterprise.employeeNumber}"))

    attributes = only(plan_declaration(declare, account=ACCOUNT, region=REGION),
                      "aws:ssoadmin/instanceAccessControlAttributes:InstanceAccessControlAttributes")
    assert attributes.inputs["attributes"] == [{"key": "employeeId", "values": [{"sources": ["${path:enterprise.employeeNumber}"]}]}], (
        f"{attributes.name}: session tag employeeId from the configured attribute path, got {attributes.inputs['attributes']}"
    )
