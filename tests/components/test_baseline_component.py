"""AccountBaseline in us-east-1 with every switch off, with only AWS Config on, and with everything on plus a budget
(the committed stacks all run in eu-central-1 with every switch on)."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, PEER_ACCOUNT, VPC_CIDR, as_list, depends_on, document, only, statement
from components.baseline import AccountBaseline, AccountBaselineArgs
from components.encryption import KeyUser
from mlops_core.config import BaselineSettings, BudgetSettings
from mlops_platform.harness import DeclarationPlan, plan_declaration

BASELINE_REGION = "us-east-1"
BASELINE_AZ_IDS = ["use1-az1", "use1-az2", "use1-az4"]
EMAILS = ["ops@example.com", "finance@example.com"]
ALL_OFF = BaselineSettings(cloud_trail=False, aws_config=False, security_hub=False, guard_duty=False, budget=None)
ALL_ON = BaselineSettings(budget=BudgetSettings(monthly_limit_usd=250, alert_emails=EMAILS))
#: Switch -> the resource type that exists only when it is on.
SWITCHED = {
    "cloud_trail": "aws:cloudtrail/trail:Trail",
    "aws_config": "aws:cfg/recorder:Recorder",
    "security_hub": "aws:securityhub/account:Account",
    "guard_duty": "aws:guardduty/detector:Detector",
    "budget": "aws:budgets/budget:Budget",
}
ALWAYS = [
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    "aws:ebs/encryptionByDefault:EncryptionByDefault",
    "aws:ebs/defaultKmsKey:DefaultKmsKey",
    "aws:accessanalyzer/analyzer:Analyzer",
    "aws:ec2/flowLog:FlowLog",
    "aws:sns/topic:Topic",
]


def baseline_plan(switches: BaselineSettings, extra_key_users: list[KeyUser] | None = None) -> DeclarationPlan:
    def declare():
        AccountBaseline(
            "base",
            AccountBaselineArgs(
                role="dev", account_id=ACCOUNT, region=BASELINE_REGION, platform_name="acme",
                platform_account_ids=[ACCOUNT, PEER_ACCOUNT], vpc_cidr=VPC_CIDR, az_ids=BASELINE_AZ_IDS,
                platform_key_alias="alias/acme-platform", logs_key_alias="alias/acme-logs",
                access_log_bucket_name="acme-dev-access-logs", audit_bucket_name="acme-dev-audit", config_bucket_name="acme-dev-config",
                switches=switches, extra_key_users=extra_key_users or [],
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=BASELINE_REGION)


@pytest.fixture(scope="module")
def all_off() -> DeclarationPlan:
    return baseline_plan(ALL_OFF)


@pytest.fixture(scope="module")
def all_on() -> DeclarationPlan:
    return baseline_plan(ALL_ON, extra_key_users=[KeyUser(PEER_ACCOUNT, [f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-*"], decrypt_only=True)])


@pytest.fixture(scope="module")
def config_only() -> DeclarationPlan:
    return baseline_plan(BaselineSettings(cloud_trail=False, aws_config=True, security_hub=False, guard_duty=False))


@pytest.mark.parametrize("switch", sorted(SWITCHED))
def test_a_switched_off_service_is_not_declared(all_off, switch) -> None:
    assert not all_off.of_type(SWITCHED[switch]), f"AccountBaseline: {switch} off must declare no {SWITCHED[switch]}"


@pytest.mark.parametrize("switch", sorted(SWITCHED))
def test_a_switched_on_service_is_declared(all_on, switch) -> None:
    assert all_on.of_type(SWITCHED[switch]), f"AccountBaseline: {switch} on must declare {SWITCHED[switch]}"


@pytest.mark.parametrize("type_token", ALWAYS)
def test_always_on_controls_stay_with_every_switch_off(all_off, type_token) -> None:
    assert all_off.of_type(type_token), f"AccountBaseline: {type_token} is not switchable and must exist with every switch off"


def test_no_audit_bucket_without_trail_or_config(all_off) -> None:
    buckets = [r.inputs["bucket"] for r in all_off.of_type("aws:s3/bucket:Bucket")]
    assert "acme-dev-audit" not in buckets, "AccountBaseline: the audit bucket exists only for CloudTrail or AWS Config"


def test_config_bucket_admits_only_aws_config(config_only) -> None:
    policy = document(config_only.named("base-config-policy"))
    principals = {service for s in policy["Statement"] if s["Effect"] == "Allow" for service in as_list(s["Principal"]["Service"])}
    assert principals == {"config.amazonaws.com"}, f"base-config: only AWS Config may deliver to its bucket, got {principals}"


def test_config_without_trail_declares_no_audit_bucket(config_only) -> None:
    buckets = [r.inputs.get("bucket") for r in config_only.of_type("aws:s3/bucket:Bucket")]
    assert "acme-dev-audit" not in buckets, f"base: with the trail off no Object-Locked audit bucket, got {buckets}"


def test_config_bucket_has_no_object_lock(all_on) -> None:
    locked = [r.inputs.get("bucket") for r in all_on.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")]
    assert "acme-dev-config" not in locked, f"base-config: AWS Config refuses a delivery bucket with Object Lock, locked: {locked}"


def test_audit_bucket_keeps_object_lock(all_on) -> None:
    locked = [r.inputs.get("bucket") for r in all_on.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")]
    assert "acme-dev-audit" in locked, f"base-audit: the trail's bucket must stay Object-Locked, locked: {locked}"


def test_config_bucket_denies_deletion(all_on) -> None:
    policy = document(all_on.named("base-config-policy"))
    sids = [s.get("Sid") for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert "DenyEvidenceDeletion" in sids, f"base-config: the Config bucket needs the deny-delete statement, got {sids}"


def test_delivery_channel_names_the_config_bucket(all_on) -> None:
    channel = only(all_on, "aws:cfg/deliveryChannel:DeliveryChannel")
    assert channel.inputs.get("s3BucketName") == "acme-dev-config", f"{channel.name}: AWS Config delivers to its own bucket"


def test_trail_names_the_audit_bucket(all_on) -> None:
    trail = only(all_on, "aws:cloudtrail/trail:Trail")
    assert trail.inputs.get("s3BucketName") == "acme-dev-audit", f"{trail.name}: CloudTrail delivers to the locked audit bucket"


def test_config_without_trail_declares_no_trail_log_group(config_only) -> None:
    groups = [r.inputs["name"] for r in config_only.of_type("aws:cloudwatch/logGroup:LogGroup")]
    assert not [g for g in groups if g.startswith("/mlops/cloudtrail/")], f"no CloudTrail log group with the trail off, got {groups}"


def test_account_public_access_block_blocks_everything(all_off) -> None:
    block = only(all_off, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    flags = {k: block.inputs.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}
    assert all(v is True for v in flags.values()), f"{block.name}: all four account-level blocks must be on (S3.1), got {flags}"


def test_ebs_encryption_by_default_is_on(all_off) -> None:
    setting = only(all_off, "aws:ebs/encryptionByDefault:EncryptionByDefault")
    assert setting.inputs["enabled"] is True, f"{setting.name}: EBS encryption by default (EC2.7)"


def test_ebs_default_key_is_the_platform_key(all_off) -> None:
    default_key = only(all_off, "aws:ebs/defaultKmsKey:DefaultKmsKey")
    assert depends_on(default_key, "keyArn", all_off.named("base-platform-key")), f"{default_key.name}: EBS volumes use the platform key"


def test_alerts_topic_is_encrypted_with_the_logs_key(all_off) -> None:
    topic = only(all_off, "aws:sns/topic:Topic")
    assert depends_on(topic, "kmsMasterKeyId", all_off.named("base-logs-key")), f"{topic.name}: alerts are encrypted with the logs key"


def test_logs_key_admits_the_regional_logs_service(all_off) -> None:
    policy = document(all_off.named("base-logs-key"))
    services = {s["Principal"]["Service"] for s in policy["Statement"] if "Service" in s.get("Principal", {})}
    assert f"logs.{BASELINE_REGION}.amazonaws.com" in services, f"base-logs key: CloudWatch Logs of {BASELINE_REGION}, got {services}"


def test_extra_key_users_may_use_the_platform_key(all_on) -> None:
    policy = document(all_on.named("base-platform-key"))
    principals = [s["Principal"]["AWS"] for s in policy["Statement"] if s["Sid"].startswith("KeyUse")]
    assert f"arn:aws:iam::{PEER_ACCOUNT}:root" in principals, f"base-platform key: extra key user {PEER_ACCOUNT} missing"


def test_security_hub_standard_follows_the_region(all_on) -> None:
    subscription = only(all_on, "aws:securityhub/standardsSubscription:StandardsSubscription")
    assert subscription.inputs["standardsArn"].startswith(f"arn:aws:securityhub:{BASELINE_REGION}::standards/"), (
        f"{subscription.name}: the FSBP standard of {BASELINE_REGION}"
    )


def test_every_budget_email_is_subscribed(all_on) -> None:
    endpoints = sorted(s.inputs["endpoint"] for s in all_on.of_type("aws:sns/topicSubscription:TopicSubscription"))
    assert endpoints == sorted(EMAILS), f"base-alerts: one email subscription per budget address, got {endpoints}"


def test_budget_alerts_on_actual_and_forecast(all_on) -> None:
    budget = only(all_on, "aws:budgets/budget:Budget")
    kinds = sorted(n["notificationType"] for n in budget.inputs["notifications"])
    assert kinds == ["ACTUAL", "FORECASTED"], f"{budget.name}: notify on actual and forecasted spend, got {kinds}"


def test_trail_is_multi_region_and_validated(all_on) -> None:
    trail = only(all_on, "aws:cloudtrail/trail:Trail")
    flags = {k: trail.inputs.get(k) for k in ("isMultiRegionTrail", "enableLogFileValidation", "includeGlobalServiceEvents")}
    assert all(v is True for v in flags.values()), f"{trail.name}: multi-region, validated, global events (CloudTrail.1/.4), got {flags}"


def test_trail_is_encrypted_with_the_logs_key(all_on) -> None:
    trail = only(all_on, "aws:cloudtrail/trail:Trail")
    assert depends_on(trail, "kmsKeyId", all_on.named("base-logs-key")), f"{trail.name}: SSE-KMS with the logs key (CloudTrail.2)"


def test_config_recorder_records_everything(all_on) -> None:
    recorder = only(all_on, "aws:cfg/recorder:Recorder")
    group = recorder.inputs["recordingGroup"]
    assert group == {"allSupported": True, "includeGlobalResourceTypes": True}, f"{recorder.name}: record all resource types, got {group}"


def test_network_gets_one_subnet_per_configured_az(all_off) -> None:
    zones = sorted(s.inputs["availabilityZoneId"] for s in all_off.of_type("aws:ec2/subnet:Subnet"))
    assert zones == BASELINE_AZ_IDS, f"AccountBaseline: the VPC spans the configured AZs, got {zones}"


def test_audit_delivery_statement_is_held_to_this_account(all_on) -> None:
    deliver = statement(document(all_on.named("base-audit-policy")), "AuditServicesDeliver")
    assert deliver["Resource"] == f"arn:aws:s3:::acme-dev-audit/AWSLogs/{ACCOUNT}/*", (
        f"base-audit: deliveries only under AWSLogs/{ACCOUNT}/, got {deliver['Resource']}"
    )


def test_audit_bucket_locks_evidence_in_compliance_mode(all_on) -> None:
    lock = only(all_on, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    retention = lock.inputs["rule"]["defaultRetention"]
    assert retention == {"mode": "COMPLIANCE", "days": 365}, f"base-audit: Object Lock must be COMPLIANCE for 365 days, got {retention}"


def test_audit_bucket_policy_denies_everyone_deleting_evidence(all_on) -> None:
    deny = statement(document(all_on.named("base-audit-policy")), "DenyEvidenceDeletion")
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"} and "Condition" not in deny, (
        f"base-audit: the deletion deny must hold for every principal, unconditionally, got {deny}"
    )
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(as_list(deny["Action"])), f"base-audit: {deny['Action']}"


def test_no_object_lock_without_an_audit_bucket(all_off) -> None:
    locks = all_off.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert not locks, "AccountBaseline: only the audit bucket is locked, and it exists only for CloudTrail or AWS Config"
