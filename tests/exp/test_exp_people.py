"""Persona sign-in roles: SAML trust pinned to the audience and to configured people (pure logic)."""

from __future__ import annotations

import pytest

from components.people import (
    SAML_AUDIENCE,
    federated_trust_policy,
    identity_center_role_pattern,
    merge_documents,
    persona_user_names,
    personas_in_use,
    saml_provider_arn,
)
from mlops_core.config import load_organization


@pytest.fixture(scope="module")
def org():
    return load_organization()


def test_trust_pins_the_saml_audience() -> None:
    (stmt,) = federated_trust_policy("arn:aws:iam::222222222222:saml-provider/idp", "userName", ["alice"])["Statement"]
    assert stmt["Condition"]["StringEquals"]["SAML:aud"] == SAML_AUDIENCE, stmt


def test_trust_requires_the_user_name_session_tag_of_a_configured_person() -> None:
    (stmt,) = federated_trust_policy("arn:aws:iam::222222222222:saml-provider/idp", "userName", ["dave", "alice"])["Statement"]
    assert stmt["Condition"]["StringEquals"]["aws:RequestTag/userName"] == ["alice", "dave"], stmt


def test_trust_allows_only_saml_sign_in_and_session_tags() -> None:
    (stmt,) = federated_trust_policy("arn:aws:iam::222222222222:saml-provider/idp", "userName", ["alice"])["Statement"]
    assert stmt["Action"] == ["sts:AssumeRoleWithSAML", "sts:TagSession"] and stmt["Principal"] == {
        "Federated": "arn:aws:iam::222222222222:saml-provider/idp"
    }, stmt


def test_a_persona_without_people_gets_no_trust() -> None:
    with pytest.raises(ValueError, match="at least one user name"):
        federated_trust_policy("arn:aws:iam::222222222222:saml-provider/idp", "userName", [])


def test_persona_user_names_come_from_config(org) -> None:
    assert persona_user_names(org, "lead") == ["alice", "dave"]
    assert persona_user_names(org, "auditor") == ["grace"]


def test_personas_in_use_lists_every_configured_persona(org) -> None:
    assert personas_in_use(org) == ["lead", "scientist", "ml_engineer", "devops", "platform_admin", "auditor"]


def test_saml_provider_arn_names_the_configured_provider(org) -> None:
    assert saml_provider_arn(org, "222222222222") == "arn:aws:iam::222222222222:saml-provider/corporate-idp"


def test_identity_center_pattern_names_the_reserved_sso_path() -> None:
    assert identity_center_role_pattern("mlops-lead") == (
        "arn:aws:iam:::role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_mlops-lead_*"
    )


def test_merged_documents_keep_every_statement_with_unique_sids() -> None:
    a = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "x"}]}
    merged = merge_documents([a, a])
    sids = [s["Sid"] for s in merged["Statement"]]
    assert len(sids) == 2 and len(set(sids)) == 2, sids


def test_operators_have_no_studio_execution_role() -> None:
    from components.exp_policies import ExpPolicyContext, execution_role_policy

    ctx = ExpPolicyContext("mlops", "222222222222", "eu-central-1", "d-1", "vpce-1", "userName", "mlops", "team")
    with pytest.raises(ValueError, match="has no Studio execution role"):
        execution_role_policy("devops", "erin", "arn:aws:iam::222222222222:role/x", [], ctx)


def test_a_studio_user_needs_a_project() -> None:
    from components.exp_policies import ExpPolicyContext, execution_role_policy

    ctx = ExpPolicyContext("mlops", "222222222222", "eu-central-1", "d-1", "vpce-1", "userName", "mlops", "team")
    with pytest.raises(ValueError, match="at least one project"):
        execution_role_policy("scientist", "bob", "arn:aws:iam::222222222222:role/x", [], ctx)


def test_project_tag_value_lists_projects_sorted_and_space_separated() -> None:
    from components.exp_policies import project_tag_value

    assert project_tag_value(["weld-gun-pm", "spot-weld-qa", "weld-gun-pm"]) == "spot-weld-qa weld-gun-pm"
