"""The default EBS key lets the account's service-linked roles launch encrypted volumes, through EC2.

EBS encryption by default uses the platform key. EC2 Auto Scaling, AWS Backup restores and Batch
launch volumes as their service-linked roles (``role/aws-service-role/...``); AWS documents the
key policy they need: the key's use actions and ``kms:CreateGrant`` with
``kms:GrantIsForAWSResource``. Evaluated on each planned account's key with the context such a call
carries (the caller is the account root with ``aws:PrincipalArn`` = the service-linked role).
"""

from __future__ import annotations

import fnmatch
import json

import pytest

AUTOSCALING = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def _values(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator in ("StringEquals", "Bool"):
                ok = actual in _values(expected)
            elif operator in ("ArnLike", "StringLike"):
                ok = any(fnmatch.fnmatchcase(actual, p) for p in _values(expected))
            else:
                pytest.fail(f"evaluator does not know {operator}")
            if not ok:
                return False
    return True


def _allowed(policy: dict, account: str, action: str, context: dict[str, str]) -> bool:
    root = f"arn:aws:iam::{account}:root"
    return any(
        s["Effect"] == "Allow"
        and root in _values(s.get("Principal", {}).get("AWS", []))
        and any(fnmatch.fnmatchcase(action, a) for a in _values(s["Action"]))
        and _holds(s.get("Condition", {}), context)
        for s in policy["Statement"]
    )


def _default_ebs_keys(platform_plans):
    found = []
    for plan in platform_plans.values():
        for default in plan.of_type("aws:ebs/defaultKmsKey:DefaultKmsKey"):
            keys = [k for k in plan.of_type("aws:kms/key:Key") if k.urn in default.property_dependencies.get("keyArn", [])]
            assert len(keys) == 1, f"{plan.stack}: {default.name} keyArn does not name one key of the stack"
            found.append((plan, keys[0], json.loads(keys[0].inputs["policy"])))
    assert found, "no stack sets a default EBS key"
    return found


@pytest.mark.parametrize("action", ["kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:ReEncryptFrom", "kms:DescribeKey"])
def test_service_linked_roles_use_the_default_ebs_key_through_ec2(platform_plans, action: str) -> None:
    for plan, key, policy in _default_ebs_keys(platform_plans):
        context = {"aws:PrincipalArn": f"arn:aws:iam::{plan.account_id}:{AUTOSCALING}", "kms:ViaService": f"ec2.{plan.region}.amazonaws.com"}
        assert _allowed(policy, plan.account_id, action, context), f"{plan.stack}: {key.name} refuses {action} to the Auto Scaling service-linked role"


def test_service_linked_roles_may_grant_the_default_ebs_key_to_volumes(platform_plans) -> None:
    for plan, key, policy in _default_ebs_keys(platform_plans):
        context = {
            "aws:PrincipalArn": f"arn:aws:iam::{plan.account_id}:{AUTOSCALING}",
            "kms:ViaService": f"ec2.{plan.region}.amazonaws.com",
            "kms:GrantIsForAWSResource": "true",
        }
        assert _allowed(policy, plan.account_id, "kms:CreateGrant", context), f"{plan.stack}: {key.name} refuses CreateGrant for AWS resources to service-linked roles"


def test_service_linked_roles_cannot_use_the_key_outside_ec2(platform_plans) -> None:
    for plan, key, policy in _default_ebs_keys(platform_plans):
        context = {"aws:PrincipalArn": f"arn:aws:iam::{plan.account_id}:{AUTOSCALING}", "kms:ViaService": f"s3.{plan.region}.amazonaws.com"}
        assert not _allowed(policy, plan.account_id, "kms:Decrypt", context), f"{plan.stack}: {key.name} lets service-linked roles decrypt outside EC2"
