"""SecureBucket and AccessLogBucket: private, versioned, TLS-only; SSE-KMS except for the access-log target."""

from __future__ import annotations

import json

import pulumi
import pytest

from component_helpers import ACCOUNT, KEY_ARN, REGION, document, only
from components.secure_bucket import AccessLogBucket, AccessLogBucketArgs, SecureBucket, SecureBucketArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration

BUCKET = "acme-test-data"


def bucket_plan(**overrides) -> DeclarationPlan:
    def declare():
        extra = pulumi.Output.from_input("arn:aws:iam::210987654321:role/reader").apply(
            lambda reader: {"Sid": "Reader", "Effect": "Allow", "Principal": {"AWS": reader}, "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{BUCKET}/*"}
        )
        args = dict(bucket_name=BUCKET, kms_key_arn=KEY_ARN, access_log_bucket="acme-access-logs", policy_statements=[extra])
        args.update(overrides)
        SecureBucket("data", SecureBucketArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def secure() -> DeclarationPlan:
    return bucket_plan()


@pytest.fixture(scope="module")
def access_logs() -> DeclarationPlan:
    def declare():
        AccessLogBucket("logs", AccessLogBucketArgs(bucket_name="acme-access-logs", account_id=ACCOUNT, retention_days=90))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_bucket_is_encrypted_with_the_given_key(secure) -> None:
    (rule,) = only(secure, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, (
        f"{BUCKET}: SSE-KMS with the customer key (S3.17), got {rule}"
    )


def test_bucket_key_is_enabled(secure) -> None:
    (rule,) = only(secure, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["bucketKeyEnabled"] is True, f"{BUCKET}: S3 bucket keys cut KMS requests"


@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_public_access_is_blocked(secure, flag) -> None:
    block = only(secure, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs[flag] is True, f"{block.name}: {flag} must be on (S3.8)"


def test_acls_are_disabled(secure) -> None:
    ownership = only(secure, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}, f"{ownership.name}: no ACLs (S3.12)"


def test_versioning_is_enabled(secure) -> None:
    versioning = only(secure, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", f"{versioning.name}: versioned (S3.14)"


def test_access_is_logged_under_the_bucket_name(secure) -> None:
    logging = only(secure, "aws:s3/bucketLogging:BucketLogging")
    assert (logging.inputs["targetBucket"], logging.inputs["targetPrefix"]) == ("acme-access-logs", f"{BUCKET}/"), (
        f"{logging.name}: server access logs to the account's log bucket (S3.9)"
    )


def test_policy_denies_insecure_transport_first(secure) -> None:
    first = document(only(secure, "aws:s3/bucketPolicy:BucketPolicy"))["Statement"][0]
    assert (first["Effect"], first["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}}), (
        f"{BUCKET}: the policy starts with the TLS-only deny (S3.5)"
    )


def test_policy_appends_statements_given_as_outputs(secure) -> None:
    statements = document(only(secure, "aws:s3/bucketPolicy:BucketPolicy"))["Statement"]
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport", "Reader"], f"{BUCKET}: extra statements follow the deny"


def test_data_bearing_bucket_is_protected(secure) -> None:
    assert only(secure, "aws:s3/bucket:Bucket").protect, f"{BUCKET}: data-bearing buckets are protected by default"


def test_scratch_bucket_is_not_protected() -> None:
    plan = bucket_plan(data_bearing=False)
    assert not only(plan, "aws:s3/bucket:Bucket").protect, f"{BUCKET}: data_bearing=False must not protect the bucket"


def test_current_objects_are_kept_by_default(secure) -> None:
    rules = [r["id"] for r in only(secure, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]]
    assert "expire-current-objects" not in rules, f"{BUCKET}: without expire_objects_days nothing current expires, got {rules}"


def test_scratch_objects_expire_when_asked() -> None:
    plan = bucket_plan(expire_objects_days=7)
    rules = {r["id"]: r for r in only(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]}
    assert rules["expire-current-objects"]["expiration"] == {"days": 7}, f"{BUCKET}: expire_objects_days=7, got {rules}"


def test_access_log_bucket_uses_sse_s3(access_logs) -> None:
    (rule,) = only(access_logs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}, (
        "acme-access-logs: log delivery supports only SSE-S3 on the target (the documented exception)"
    )


def test_access_log_bucket_is_tagged_as_the_exception(access_logs) -> None:
    bucket = only(access_logs, "aws:s3/bucket:Bucket")
    assert bucket.inputs["tags"] == {"mlops:access-log-bucket": "true"}, f"{bucket.name}: the guardrail pack knows it by this tag"


def test_access_log_bucket_does_not_log_to_itself(access_logs) -> None:
    assert not access_logs.of_type("aws:s3/bucketLogging:BucketLogging"), "acme-access-logs: a log bucket must not log to itself"


def test_access_log_bucket_blocks_public_access(access_logs) -> None:
    block = only(access_logs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.inputs[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")), block.inputs


def test_only_s3_logging_of_this_account_may_write_access_logs(access_logs) -> None:
    statements = json.loads(only(access_logs, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert (allow["Principal"], allow["Condition"]["StringEquals"]) == (
        {"Service": "logging.s3.amazonaws.com"}, {"aws:SourceAccount": ACCOUNT}
    ), f"acme-access-logs: only S3 logging for buckets of {ACCOUNT}, got {allow}"


def test_access_logs_expire_after_the_retention(access_logs) -> None:
    (rule,) = only(access_logs, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rule["expiration"] == {"days": 90}, f"acme-access-logs: retention_days=90, got {rule['expiration']}"
