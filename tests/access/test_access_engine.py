"""The engine on hand-built models: it decides from every document at once, and it can say no."""

from __future__ import annotations

import json

import pytest

from components.people import identity_center_trust_policy
from mlops_platform.access import evaluate
from mlops_platform.access.journeys import Step
from mlops_platform.access.model import PlannedResource, build_model

ACCOUNT, REGION = "111111111111", "eu-central-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-00000000000a"
SETTINGS = evaluate.Settings("mlops", REGION, "iam-federation", "userName", "corporate-idp")
DELEGATING_KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _model(identity_statements: list[dict]) -> object:
    records = [
        PlannedResource("exp", ACCOUNT, REGION, "aws:iam/role:Role", "r", {"name": "r", "assumeRolePolicy": TRUST}, f"arn:aws:iam::{ACCOUNT}:role/r", "r"),
        PlannedResource("exp", ACCOUNT, REGION, "aws:kms/key:Key", "k", {"policy": json.dumps(DELEGATING_KEY_POLICY)}, KEY_ARN, "k"),
    ]
    if identity_statements:
        records.append(PlannedResource("exp", ACCOUNT, REGION, "aws:iam/rolePolicy:RolePolicy", "p",
                                       {"role": "r", "policy": {"Version": "2012-10-17", "Statement": identity_statements}}))
    return build_model(records)


def _decrypt(expected: str) -> Step:
    return Step("unit", "r decrypts", {"role": "exp:r"}, "kms:Decrypt", "{arn:exp:k}", expected)


def test_a_key_policy_that_delegates_to_iam_allows_what_the_identity_policy_allows(engine_run) -> None:
    model = _model([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}])
    (check,) = evaluate.evaluate([_decrypt("Allowed")], model, SETTINGS, engine_run)
    assert check.passed and check.result == "Allowed", check.reasons


def test_without_an_identity_statement_the_delegating_key_policy_denies(engine_run) -> None:
    (check,) = evaluate.evaluate([_decrypt("Allowed")], _model([]), SETTINGS, engine_run)
    assert not check.passed and check.result == "ImplicitlyDenied", f"kms:Decrypt without an identity grant must fail: {check.reasons}"


def test_a_failing_check_names_the_policy_that_denied(engine_run) -> None:
    model = _model([
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN},
        {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"},
    ])
    (check,) = evaluate.evaluate([_decrypt("Allowed")], model, SETTINGS, engine_run)
    assert check.result == "ExplicitlyDenied" and any("NoDecrypt" in r for r in check.reasons), check.reasons


def test_a_context_key_the_action_does_not_have_makes_the_entry_an_error(engine_run) -> None:
    model = _model([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}])
    step = Step("unit", "bad key", {"role": "exp:r"}, "kms:Decrypt", "{arn:exp:k}", "Allowed", context={"sagemaker:VolumeKmsKey": KEY_ARN})
    (check,) = evaluate.evaluate([step], model, SETTINGS, engine_run)
    assert check.result == "Error" and "do not apply" in check.reasons[-1], check.reasons


def test_a_reference_to_something_the_plan_lacks_is_an_error(engine_run) -> None:
    step = Step("unit", "ghost", {"role": "exp:r"}, "kms:Decrypt", "{arn:exp:no-such-key}", "Allowed")
    (check,) = evaluate.evaluate([step], _model([]), SETTINGS, engine_run)
    assert check.result == "Error" and "no-such-key" in check.reasons[0], check.reasons


@pytest.mark.parametrize(("tags", "expected"), [({}, "Allowed"), ({"mlops:project": "spot-weld-qa"}, "ImplicitlyDenied")])
def test_the_identity_center_trust_refuses_extra_session_tags(engine_run, tags, expected) -> None:
    """The same promise under identity.mode identity-center: no session tag but the user's name."""
    trust = identity_center_trust_policy(ACCOUNT, ["mlops-scientist"], "userName", ["bob"])
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/mlops-persona-scientist"
    permission_set = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"
    sign_in = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": role_arn}]})
    model = build_model([
        PlannedResource("exp", ACCOUNT, REGION, "aws:iam/role:Role", "persona", {"name": "mlops-persona-scientist", "assumeRolePolicy": trust},
                        role_arn, "mlops-persona-scientist"),
        PlannedResource("identity", ACCOUNT, REGION, "aws:ssoadmin/permissionSet:PermissionSet", "scientist", {"name": "mlops-scientist"},
                        permission_set, "mlops-scientist"),
        PlannedResource("identity", ACCOUNT, REGION, "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", "scientist-policy",
                        {"permissionSetArn": permission_set, "inlinePolicy": sign_in}, "", "scientist-policy"),
    ])
    settings = evaluate.Settings("mlops", REGION, "identity-center", "userName", "corporate-idp")
    step = Step("unit", "bob tags his session", {"sign_in": "scientist", "stack": "exp", "user": "bob"}, "sts:TagSession", "{role:exp:mlops-persona-scientist}", "Allowed", session_tags=tags)
    (check,) = evaluate.evaluate([step], model, settings, engine_run)
    assert check.result == expected, f"identity-center trust with session tags {tags}: {check.reasons}"
