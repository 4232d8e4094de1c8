"""The optional log-archive stack (accounts.logArchive) and the account stacks delivering to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_core.config import ConfigError, load_organization, load_settings, validate_stacks
from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import StackPlan, default_stacks, plan_stack

LOG_ARCHIVE = "777777777777"
ARCHIVE_BUCKET = f"mlops-audit-archive-{LOG_ARCHIVE}-eu-central-1"
CONFIG_ARCHIVE_BUCKET = f"mlops-config-archive-{LOG_ARCHIVE}-eu-central-1"
ARCHIVE_KEY_ALIAS_ARN = f"arn:aws:kms:eu-central-1:{LOG_ARCHIVE}:alias/mlops-audit-archive"
ACCOUNT_STACKS = ("data", "exp", "res", "dev", "int", "prod")
PLATFORM_ACCOUNTS = sorted(["111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"])
BUCKET = "aws:s3/bucket:Bucket"
#: The stack file an organisation with a log archive adds (docs/audit-evidence.md); the repository root has
#: room for no further file, so it is not committed.
LOG_ARCHIVE_STACK_FILE = "config:\n  mlops:role: log-archive\n"


def _copy_with(root: Path, stack_file: bool = True, **accounts: str) -> Path:
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (root / path.name).write_text(path.read_text())
    if stack_file:
        (root / "Pulumi.log-archive.yaml").write_text(LOG_ARCHIVE_STACK_FILE)
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    org = yaml.safe_load((root / "organization.yaml").read_text())
    org["accounts"].update(accounts)
    org["auditLogs"] = {"retentionDays": 400}
    (root / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory) -> Path:
    return _copy_with(tmp_path_factory.mktemp("log-archive"), logArchive=LOG_ARCHIVE)


@pytest.fixture(scope="module")
def archive_plan(archive_root) -> StackPlan:
    return plan_stack("log-archive", root=archive_root)


@pytest.fixture(scope="module")
def dev_plan(archive_root) -> StackPlan:
    return plan_stack("dev", root=archive_root)


def _one(plan: StackPlan, type_token: str, name_part: str):
    (found,) = [r for r in plan.of_type(type_token) if name_part in r.name]
    return found


def _archive_bucket_policy(plan: StackPlan) -> dict:
    return json.loads(_one(plan, "aws:s3/bucketPolicy:BucketPolicy", "log-archive-bucket").inputs["policy"])


def _statement(document: dict, sid: str) -> dict:
    (found,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def _key_policy(plan: StackPlan) -> dict:
    return json.loads(_one(plan, "aws:kms/key:Key", "log-archive-key").inputs["policy"])


def _service_statements(document: dict, service: str) -> list[dict]:
    return [s for s in document["Statement"] if service in json.dumps(s.get("Principal", {}))]


# --- configuration ------------------------------------------------------------------------------


def test_log_archive_stack_is_skipped_without_a_log_archive_account(tmp_path) -> None:
    root = _copy_with(tmp_path)
    assert "log-archive" not in default_stacks(root), "the log-archive stack runs only with accounts.logArchive"


def test_log_archive_stack_is_planned_with_a_log_archive_account(archive_root) -> None:
    assert "log-archive" in default_stacks(archive_root)


def test_log_archive_stack_refuses_an_organisation_without_the_account(tmp_path) -> None:
    with pytest.raises(ConfigError, match="has no accounts.logArchive"):
        load_settings("log-archive", _copy_with(tmp_path))


def test_a_log_archive_account_needs_a_log_archive_stack_file(tmp_path) -> None:
    root = _copy_with(tmp_path, stack_file=False, logArchive=LOG_ARCHIVE)
    with pytest.raises(ConfigError, match="accounts.logArchive: is set but no stack file has mlops:role: log-archive"):
        validate_stacks(default_stacks(root), root)


def test_the_log_archive_stack_file_validates_with_the_account(archive_root) -> None:
    assert validate_stacks(default_stacks(archive_root), archive_root)["log-archive"].account_id == LOG_ARCHIVE


def test_log_archive_account_must_differ_from_the_workload_accounts(tmp_path) -> None:
    root = _copy_with(tmp_path, logArchive="444444444444")
    with pytest.raises(ConfigError, match="444444444444"):
        load_organization(root)


def test_log_archive_account_must_be_a_quoted_account_id(tmp_path) -> None:
    root = _copy_with(tmp_path, logArchive="7777")
    with pytest.raises(ConfigError, match="accounts.logArchive"):
        load_organization(root)


# --- the log-archive stack ---------------------------------------------------------------------


def test_log_archive_stack_runs_in_the_log_archive_account(archive_plan) -> None:
    (provider,) = archive_plan.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [LOG_ARCHIVE], provider.inputs


def test_log_archive_stack_has_no_vpc(archive_plan) -> None:
    assert not archive_plan.of_type("aws:ec2/vpc:Vpc"), "the log-archive account gets no workload VPC"


def test_archive_bucket_has_the_name_the_account_stacks_deliver_to(archive_plan) -> None:
    names = sorted(b.inputs["bucket"] for b in archive_plan.of_type(BUCKET))
    assert names == sorted([ARCHIVE_BUCKET, CONFIG_ARCHIVE_BUCKET, f"mlops-access-logs-{LOG_ARCHIVE}-eu-central-1"]), names


def test_archive_config_bucket_has_no_object_lock(archive_plan) -> None:
    locked = [r.inputs["bucket"] for r in archive_plan.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")]
    assert locked == [ARCHIVE_BUCKET], f"log-archive: only the trail archive is Object-Locked (AWS Config refuses a locked bucket), got {locked}"


def test_archive_key_rotates(archive_plan) -> None:
    key = _one(archive_plan, "aws:kms/key:Key", "log-archive-key")
    assert key.inputs["enableKeyRotation"] is True, f"{key.urn}: the archive key must rotate"


def test_archive_key_has_the_alias_the_account_stacks_name(archive_plan) -> None:
    alias = _one(archive_plan, "aws:kms/alias:Alias", "log-archive-key")
    assert ARCHIVE_KEY_ALIAS_ARN.endswith(alias.inputs["name"]), alias.inputs


def test_archive_bucket_is_encrypted_with_the_archive_key(archive_plan) -> None:
    sse = _one(archive_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "log-archive-bucket")
    default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert (default["sseAlgorithm"], default["kmsMasterKeyId"]) == ("aws:kms", archive_plan.outputs["auditArchiveKeyArn"]), sse.inputs


def test_archive_bucket_locks_objects_in_compliance_mode_for_the_configured_days(archive_plan) -> None:
    lock = _one(archive_plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "log-archive-bucket")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 400}, lock.inputs


def test_archive_bucket_denies_everyone_deleting_evidence(archive_plan) -> None:
    deny = _statement(_archive_bucket_policy(archive_plan), "DenyEvidenceDeletion")
    assert (deny["Effect"], deny["Principal"], "Condition" in deny) == ("Deny", {"AWS": "*"}, False), deny
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deny["Action"]), deny


def test_archive_bucket_lets_each_platform_account_deliver_only_under_its_own_prefix(archive_plan) -> None:
    deliver = _statement(_archive_bucket_policy(archive_plan), "AuditServicesDeliver")
    expected = sorted(f"arn:aws:s3:::{ARCHIVE_BUCKET}/AWSLogs/{a}/*" for a in PLATFORM_ACCOUNTS)
    assert deliver["Resource"] == expected, deliver["Resource"]


def test_archive_deliveries_are_held_to_the_platform_accounts_and_bucket_owner_control(archive_plan) -> None:
    deliver = _statement(_archive_bucket_policy(archive_plan), "AuditServicesDeliver")
    assert deliver["Condition"]["StringEquals"] == {
        "aws:SourceAccount": PLATFORM_ACCOUNTS,
        "s3:x-amz-acl": "bucket-owner-full-control",
    }, deliver["Condition"]


def test_archive_bucket_check_is_held_to_the_platform_accounts(archive_plan) -> None:
    check = _statement(_archive_bucket_policy(archive_plan), "AuditServicesCheckBucket")
    assert check["Action"] == ["s3:GetBucketAcl", "s3:ListBucket"], check
    assert check["Condition"] == {"StringEquals": {"aws:SourceAccount": PLATFORM_ACCOUNTS}}, check


def test_archive_bucket_policy_needs_as_many_statements_whatever_the_number_of_accounts(archive_plan) -> None:
    sids = [s.get("Sid") for s in _archive_bucket_policy(archive_plan)["Statement"]]
    assert sids == ["DenyInsecureTransport", "AuditServicesCheckBucket", "AuditServicesDeliver", "DenyEvidenceDeletion"], sids


def test_archive_key_lets_cloudtrail_encrypt_only_for_the_platform_accounts_trails(archive_plan) -> None:
    (generate,) = [s for s in _service_statements(_key_policy(archive_plan), "cloudtrail") if "kms:GenerateDataKey" in s["Action"]]
    context = generate["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert context == [f"arn:aws:cloudtrail:*:{a}:trail/*" for a in PLATFORM_ACCOUNTS], context
    assert generate["Condition"]["StringEquals"]["aws:SourceArn"] == [
        f"arn:aws:cloudtrail:eu-central-1:{a}:trail/mlops-trail" for a in PLATFORM_ACCOUNTS
    ], generate["Condition"]


def test_archive_key_describe_for_cloudtrail_carries_no_encryption_context_condition(archive_plan) -> None:
    (describe,) = [s for s in _service_statements(_key_policy(archive_plan), "cloudtrail") if s["Action"] == ["kms:DescribeKey"]]
    assert "StringLike" not in describe["Condition"], f"{describe}: DescribeKey carries no encryption context"


def test_archive_key_lets_aws_config_encrypt_only_for_the_platform_accounts(archive_plan) -> None:
    (config,) = _service_statements(_key_policy(archive_plan), "config.amazonaws.com")
    assert config["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"], config
    assert config["Condition"] == {"StringEquals": {"aws:SourceAccount": PLATFORM_ACCOUNTS}}, config


def test_archive_key_admits_no_foreign_service_or_account(archive_plan) -> None:
    principals = json.dumps([s["Principal"] for s in _key_policy(archive_plan)["Statement"]])
    accounts = {a for a in PLATFORM_ACCOUNTS + [LOG_ARCHIVE] if a in principals}
    assert "\"*\"" not in principals and accounts == set(PLATFORM_ACCOUNTS + [LOG_ARCHIVE]), principals


# --- the account stacks ------------------------------------------------------------------------


def test_account_stack_has_no_audit_bucket_of_its_own_with_a_log_archive(dev_plan) -> None:
    names = [b.inputs["bucket"] for b in dev_plan.of_type(BUCKET)]
    assert not [n for n in names if "-audit-" in n], names


def test_account_stack_keeps_its_audit_bucket_without_a_log_archive(platform_plans) -> None:
    names = [b.inputs["bucket"] for b in platform_plans["dev"].of_type(BUCKET)]
    assert "mlops-audit-444444444444-eu-central-1" in names, names


def test_audit_bucket_and_its_configurations_stay_in_aws_when_the_stack_stops_declaring_them(platform_plans) -> None:
    """Switching to the log archive drops the audit bucket from the account stack: its deny-delete policy and
    default retention must outlive that (retain_on_delete), not be deleted before the protected bucket stops the up."""
    audit = [r for r in platform_plans["dev"].resources if r.custom and r.name.startswith("dev-baseline-audit")]
    assert len(audit) >= 9 and all(r.retain_on_delete for r in audit), [r.name for r in audit if not r.retain_on_delete]


def test_archive_bucket_and_its_configurations_stay_in_aws_when_they_leave_the_stack(archive_plan) -> None:
    archive = [r for r in archive_plan.resources if r.custom and r.name.startswith("log-archive-bucket")]
    assert len(archive) >= 9 and all(r.retain_on_delete for r in archive), [r.name for r in archive if not r.retain_on_delete]


def test_trail_delivers_to_the_archive_bucket_and_key(dev_plan) -> None:
    (trail,) = dev_plan.of_type("aws:cloudtrail/trail:Trail")
    assert (trail.inputs["s3BucketName"], trail.inputs["kmsKeyId"]) == (ARCHIVE_BUCKET, ARCHIVE_KEY_ALIAS_ARN), trail.inputs


def test_config_delivers_to_the_archive_config_bucket_and_key(dev_plan) -> None:
    (channel,) = dev_plan.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert (channel.inputs["s3BucketName"], channel.inputs["s3KmsKeyArn"]) == (CONFIG_ARCHIVE_BUCKET, ARCHIVE_KEY_ALIAS_ARN), channel.inputs


def test_logs_key_no_longer_admits_cloudtrail_or_config_with_a_log_archive(dev_plan) -> None:
    key = _one(dev_plan, "aws:kms/key:Key", "dev-baseline-logs")
    services = json.dumps([s["Principal"] for s in json.loads(key.inputs["policy"])["Statement"]])
    assert "cloudtrail" not in services and "config.amazonaws.com" not in services, services


# --- the gate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["log-archive", *ACCOUNT_STACKS])
def test_gate_is_clean_with_a_log_archive(archive_root, stack) -> None:
    from mlops_guard.engine import evaluate_stack
    from mlops_guard.inputs import from_records
    from mlops_platform.policy_config import pack_configs

    plan = plan_stack(stack, root=archive_root)
    result = evaluate_stack(from_records(plan.resources), pack_configs(archive_root)[plan.role], stack=stack, project="mlops-platform")
    assert result.mandatory == 0, [(v.policy, v.urn, v.message) for v in result.violations]
    audit = [n.reason for n in result.not_evaluated if n.policy == "audit-evidence-locked"]
    assert not audit, f"{stack}: audit-evidence-locked did not evaluate: {audit}"
