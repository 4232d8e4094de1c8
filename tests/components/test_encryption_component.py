"""PlatformKey: rotation, deletion window, protection and a key policy that names exactly who may use the key."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, PEER_ACCOUNT, REGION, depends_on, document, only, sids, statement
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from mlops_platform.harness import DeclarationPlan, plan_declaration

LOCAL_ROLES = [f"arn:aws:iam::{ACCOUNT}:role/acme-*"]
PEER_ROLES = [f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-serving-*"]


def key_plan(**overrides) -> DeclarationPlan:
    args = dict(
        account_id=ACCOUNT,
        alias="alias/acme-test",
        description="test key",
        users=[
            KeyUser(ACCOUNT, LOCAL_ROLES),
            KeyUser(PEER_ACCOUNT, PEER_ROLES, decrypt_only=True, via_services=[f"s3.{REGION}.amazonaws.com"]),
        ],
        services=[ServiceUse(f"logs.{REGION}.amazonaws.com", ["kms:Decrypt"], {"StringEquals": {"aws:SourceAccount": ACCOUNT}})],
    )
    args.update(overrides)
    return plan_declaration(lambda: {"arn": PlatformKey("test", PlatformKeyArgs(**args)).arn}, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    return key_plan()


def policy(plan: DeclarationPlan) -> dict:
    return document(only(plan, "aws:kms/key:Key"))


def test_key_rotates_yearly(plan) -> None:
    key = only(plan, "aws:kms/key:Key")
    assert (key.inputs["enableKeyRotation"], key.inputs["rotationPeriodInDays"]) == (True, 365), f"{key.name}: yearly rotation (KMS.4)"


def test_key_deletion_window_is_thirty_days(plan) -> None:
    key = only(plan, "aws:kms/key:Key")
    assert key.inputs["deletionWindowInDays"] == 30, f"{key.name}: the longest window to cancel a mistaken deletion"


def test_key_is_protected(plan) -> None:
    key = only(plan, "aws:kms/key:Key")
    assert key.protect, f"{key.name}: a key's deletion makes its data unreadable; protect it"


def test_alias_targets_the_key(plan) -> None:
    alias = only(plan, "aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/acme-test" and depends_on(alias, "targetKeyId", only(plan, "aws:kms/key:Key")), (
        f"{alias.name}: the alias must point at its key"
    )


def test_root_administers_without_data_actions(plan) -> None:
    admin = statement(policy(plan), "KeyAdministration")
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"]), (
        "KeyAdministration must not grant data-plane actions (KMS.1: no kms:Decrypt through the admin statement)"
    )


def test_decrypt_only_user_may_only_decrypt(plan) -> None:
    peer = statement(policy(plan), f"KeyUse1Account{PEER_ACCOUNT}")
    assert sorted(peer["Action"]) == ["kms:Decrypt", "kms:DescribeKey"], f"decrypt-only user {PEER_ACCOUNT} got {peer['Action']}"


def test_decrypt_only_user_gets_no_grants(plan) -> None:
    assert f"KeyUse1Account{PEER_ACCOUNT}Grants" not in sids(policy(plan)), "a decrypt-only user must not create grants"


def test_via_services_limits_the_user_to_that_service(plan) -> None:
    peer = statement(policy(plan), f"KeyUse1Account{PEER_ACCOUNT}")
    assert peer["Condition"]["StringEquals"] == {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}, (
        f"user {PEER_ACCOUNT}: only through S3 in {REGION}"
    )


def test_users_are_narrowed_to_their_principal_arns(plan) -> None:
    local = statement(policy(plan), f"KeyUse0Account{ACCOUNT}")
    assert local["Condition"]["ArnLike"] == {"aws:PrincipalArn": LOCAL_ROLES}, "account root is narrowed by aws:PrincipalArn"


def test_grants_are_only_for_aws_resources(plan) -> None:
    grants = statement(policy(plan), f"KeyUse0Account{ACCOUNT}Grants")
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}, "CreateGrant only for AWS resources"


def test_no_grant_statement_when_grants_are_off() -> None:
    plan = key_plan(grant_for_aws_resources=False)
    assert not [s for s in sids(policy(plan)) if s.endswith("Grants")], "grant_for_aws_resources=False: no CreateGrant statement"


def test_service_use_keeps_its_conditions(plan) -> None:
    service = statement(policy(plan), "Service0")
    assert service["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, "service principals keep confused-deputy conditions"


def test_service_without_conditions_is_rejected() -> None:
    with pytest.raises(ValueError, match="confused-deputy"):
        key_plan(services=[ServiceUse("logs.eu-west-1.amazonaws.com", ["kms:Decrypt"], {})])


def test_key_arn_names_the_account_and_region(plan) -> None:
    assert plan.outputs["arn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"), plan.outputs
