"""Semantics the issue spells out, each as its own test (beyond the golden/mutation tables)."""

from __future__ import annotations

import json

from mlops_guard.engine import check_resource
from mlops_guard.registry import BY_NAME

from .conftest import make_pack_config, resource

CONFIG = make_pack_config()
ADMIN = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/ci"}, "Action": "sts:AssumeRole"}]})


def _violations(policy_name: str, type_token: str, props: dict) -> list[str]:
    return [v.message for v in check_resource(BY_NAME[policy_name], resource(type_token, props), CONFIG).violations]


def test_a_deny_with_principal_star_is_not_public() -> None:
    policy = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    assert not _violations("s3-bucket-policy-not-public", "aws:s3/bucketPolicy:BucketPolicy", {"policy": policy})


def test_resource_star_in_a_key_policy_is_the_key_itself() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:Decrypt", "Resource": "*"}]}
    assert "aws:kms/key:Key" not in BY_NAME["iam-no-kms-decrypt-on-all-keys"].types
    assert not _violations("kms-key-policy-not-public", "aws:kms/key:Key", {"policy": policy})


def test_kms_decrypt_on_star_in_an_identity_policy_fails() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
    assert _violations("iam-no-kms-decrypt-on-all-keys", "aws:iam/rolePolicy:RolePolicy", {"policy": policy})


def test_documents_as_dict_and_as_json_string_give_the_same_verdict() -> None:
    as_dict = _violations("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": json.loads(ADMIN)})
    as_text = _violations("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": ADMIN})
    assert as_dict and as_dict == as_text


def test_case_of_action_names_does_not_matter() -> None:
    policy = {"Statement": {"Effect": "Allow", "Action": "IAM:PassRole", "Resource": "*"}}
    assert _violations("iam-passrole-restricted", "aws:iam/policy:Policy", {"policy": policy})


def test_exempt_deploy_role_with_tag_and_boundary_may_hold_admin() -> None:
    role = {
        "assumeRolePolicy": TRUST,
        "inlinePolicies": [{"name": "deploy", "policy": ADMIN}],
        "permissionsBoundary": "arn:aws:iam::111111111111:policy/deploy-boundary",
        "tags": {"mlops:guardrail-exemption": "platform-deploy"},
    }
    assert not _violations("iam-no-admin-statements", "aws:iam/role:Role", role)
    assert not _violations("iam-exempt-role-has-boundary", "aws:iam/role:Role", role)


def test_the_exemption_tag_without_a_boundary_exempts_nothing() -> None:
    role = {"assumeRolePolicy": TRUST, "inlinePolicies": [{"name": "deploy", "policy": ADMIN}], "tags": {"mlops:guardrail-exemption": "platform-deploy"}}
    assert _violations("iam-no-admin-statements", "aws:iam/role:Role", role)
    assert _violations("iam-exempt-role-has-boundary", "aws:iam/role:Role", role)


def test_the_exemption_never_relaxes_the_trust_policy() -> None:
    role = {
        "assumeRolePolicy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}),
        "permissionsBoundary": "arn:aws:iam::111111111111:policy/deploy-boundary",
        "tags": {"mlops:guardrail-exemption": "platform-deploy"},
    }
    assert _violations("iam-trust-policy-principals", "aws:iam/role:Role", role)


def test_an_inline_role_policy_resource_is_never_exempt() -> None:
    assert _violations("iam-no-admin-statements", "aws:iam/rolePolicy:RolePolicy", {"role": "mlops-deploy", "policy": ADMIN})


def test_nvme_instance_types_need_no_volume_key() -> None:
    job = {
        "resourceConfig": {"instanceType": "ml.p4d.24xlarge", "instanceCount": 1},
        "outputDataConfig": {"kmsKeyId": "arn:aws:kms:eu-central-1:111111111111:key/k"},
    }
    assert not _violations("sagemaker-training-encrypted", "aws:sagemaker/trainingJob:TrainingJob", job)
    job["resourceConfig"]["instanceType"] = "ml.m5.xlarge"
    assert _violations("sagemaker-training-encrypted", "aws:sagemaker/trainingJob:TrainingJob", job)


def test_pipeline_parameter_reference_resolves_to_its_default() -> None:
    definition = {
        "Parameters": [{"Name": "Isolate", "Type": "Boolean", "DefaultValue": False}],
        "Steps": [{"Name": "Train", "Type": "Training", "Arguments": {"VpcConfig": {"Subnets": ["s"], "SecurityGroupIds": ["g"]}, "EnableNetworkIsolation": {"Get": "Parameters.Isolate"}}}],
    }
    messages = _violations("sagemaker-pipeline-steps-in-vpc", "aws:sagemaker/pipeline:Pipeline", {"pipelineDefinition": json.dumps(definition)})
    assert any("'Train'" in m and "EnableNetworkIsolation" in m for m in messages), messages


def test_pipeline_steps_nested_in_conditions_are_checked() -> None:
    nested = {"Name": "Pre", "Type": "Processing", "Arguments": {"NetworkConfig": {"EnableNetworkIsolation": True}}}
    definition = {"Steps": [{"Name": "Outer", "Type": "Condition", "Arguments": {"IfSteps": [{"Name": "Inner", "Type": "Condition", "Arguments": {"ElseSteps": [nested]}}]}}]}
    messages = _violations("sagemaker-pipeline-steps-in-vpc", "aws:sagemaker/pipeline:Pipeline", {"pipelineDefinition": definition})
    assert any("'Pre'" in m for m in messages), messages
