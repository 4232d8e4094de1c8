"""The trail's KMS key statements and its CloudWatch Logs delivery role, as AWS documents them.

Evaluated against the request each call really carries (CloudTrail User Guide, "Configure AWS KMS
key policies for CloudTrail" and "Role policy document for CloudTrail to use CloudWatch Logs"):

* ``kms:DescribeKey`` (CreateTrail/UpdateTrail check the key) carries **no** encryption context,
  only ``aws:SourceArn`` (the trail) and ``aws:SourceAccount``;
* ``kms:GenerateDataKey`` carries ``kms:EncryptionContext:aws:cloudtrail:arn`` as well;
* the AssumeRole of the CloudWatch Logs delivery role carries neither ``aws:SourceArn`` nor
  ``aws:SourceAccount`` ("The role policy doesn't support the use of aws:SourceArn and aws:SourceAccount").

The small evaluator below knows only the operators these documents use; a key it does not know
fails the test rather than passing it.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from mlops_platform.harness import StackPlan

CLOUDTRAIL = "cloudtrail.amazonaws.com"


def _values(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False  # a key the request does not carry never matches (no ...IfExists here)
            if operator == "StringEquals":
                ok = actual in _values(expected)
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, pattern) for pattern in _values(expected))
            else:
                pytest.fail(f"evaluator does not know condition operator {operator}")
            if not ok:
                return False
    return True


def _service_allows(policy: dict, service: str, action: str, context: dict[str, str]) -> bool:
    for stmt in policy["Statement"]:
        if stmt["Effect"] != "Allow" or service not in _values(stmt.get("Principal", {}).get("Service", [])):
            continue
        if not any(fnmatch.fnmatchcase(action, a) for a in _values(stmt["Action"])):
            continue
        if _condition_holds(stmt.get("Condition", {}), context):
            return True
    return False


def _trail_stacks(platform_plans) -> list[StackPlan]:
    plans = [p for p in platform_plans.values() if p.of_type("aws:cloudtrail/trail:Trail")]
    assert plans, "no committed stack declares a trail"
    return plans


def _logs_key_policy(plan: StackPlan) -> dict:
    (key,) = [k for k in plan.of_type("aws:kms/key:Key") if k.name.endswith("-logs-key")]
    return json.loads(key.inputs["policy"])


def _trail_context(plan: StackPlan, **extra: str) -> dict[str, str]:
    (trail,) = plan.of_type("aws:cloudtrail/trail:Trail")
    arn = f"arn:aws:cloudtrail:{plan.region}:{plan.account_id}:trail/{trail.inputs['name']}"
    return {"aws:SourceAccount": plan.account_id, "aws:SourceArn": arn, **extra}


def test_cloudtrail_can_describe_the_logs_key_without_an_encryption_context(platform_plans) -> None:
    for plan in _trail_stacks(platform_plans):
        policy = _logs_key_policy(plan)
        assert _service_allows(policy, CLOUDTRAIL, "kms:DescribeKey", _trail_context(plan)), (
            f"{plan.stack}: logs key policy does not let CloudTrail DescribeKey (no encryption context on that "
            "call): CreateTrail fails with InsufficientEncryptionPolicyException"
        )


def test_cloudtrail_can_generate_data_keys_for_its_own_trail(platform_plans) -> None:
    for plan in _trail_stacks(platform_plans):
        context = _trail_context(plan)
        context["kms:EncryptionContext:aws:cloudtrail:arn"] = context["aws:SourceArn"]
        assert _service_allows(_logs_key_policy(plan), CLOUDTRAIL, "kms:GenerateDataKey", context), (
            f"{plan.stack}: logs key policy does not let CloudTrail encrypt the trail's log files"
        )


def test_another_accounts_trail_cannot_describe_the_logs_key(platform_plans) -> None:
    for plan in _trail_stacks(platform_plans):
        context = {"aws:SourceAccount": "999988887777", "aws:SourceArn": "arn:aws:cloudtrail:eu-central-1:999988887777:trail/x"}
        assert not _service_allows(_logs_key_policy(plan), CLOUDTRAIL, "kms:DescribeKey", context), (
            f"{plan.stack}: logs key lets CloudTrail describe it on behalf of another account (confused deputy)"
        )


def _trust(plan: StackPlan, service: str) -> list[dict]:
    trusts = []
    for role in plan.of_type("aws:iam/role:Role"):
        document = json.loads(role.inputs["assumeRolePolicy"])
        if any(service in _values(s.get("Principal", {}).get("Service", [])) for s in document["Statement"]):
            trusts.append((role.name, document))
    return trusts


def test_cloudtrail_can_assume_its_log_delivery_role_without_source_keys(platform_plans) -> None:
    for plan in _trail_stacks(platform_plans):
        trusts = _trust(plan, CLOUDTRAIL)
        assert trusts, f"{plan.stack}: no role trusts {CLOUDTRAIL}"
        for name, document in trusts:
            assert _service_allows(document, CLOUDTRAIL, "sts:AssumeRole", {}), (
                f"{plan.stack}: {name} trust needs keys CloudTrail does not send on AssumeRole: "
                f"{[s.get('Condition') for s in document['Statement']]}"
            )


def test_flow_log_delivery_role_keeps_its_documented_source_conditions(platform_plans) -> None:
    for plan in _trail_stacks(platform_plans):
        trusts = _trust(plan, "vpc-flow-logs.amazonaws.com")
        assert trusts, f"{plan.stack}: no flow-log delivery role"
        for name, document in trusts:
            assert not _service_allows(document, "vpc-flow-logs.amazonaws.com", "sts:AssumeRole", {"aws:SourceAccount": "999988887777"}), (
                f"{plan.stack}: {name} lets VPC Flow Logs of another account assume it (Flow Logs sends aws:SourceAccount)"
            )
