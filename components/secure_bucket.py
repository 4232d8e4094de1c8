"""S3 buckets that cannot be built insecure by omission.

:class:`SecureBucket`: SSE-KMS with a bucket key, all four public-access blocks,
``BucketOwnerEnforced``, versioning, a TLS-only policy, server access logging to the account's
access-log bucket and lifecycle rules. Data-bearing buckets are ``protect``ed.

:class:`AccessLogBucket`: the one named exception. S3 server access log delivery supports only
SSE-S3 on the target bucket, and a log bucket must not log to itself; the bucket carries the tag
``mlops:access-log-bucket=true`` so the guardrail pack knows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from mlops_core.naming import ACCESS_LOG_BUCKET_TAG


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    """Deny every request that does not use TLS (S3.5)."""
    return statement(
        "DenyInsecureTransport",
        "s3:*",
        [bucket_arn, f"{bucket_arn}/*"],
        effect="Deny",
        principal={"AWS": "*"},
        condition={"Bool": {"aws:SecureTransport": "false"}},
    )


EVIDENCE_DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"]
"""What destroys audit evidence or its bucket (lifecycle stays with the deploy role: Object Lock keeps locked versions from expiring)."""


def deny_delete_statement(bucket_arn: str) -> dict[str, Any]:
    """Deny everyone, the account's own administrators included, deleting evidence or the bucket."""
    return statement(
        "DenyEvidenceDeletion",
        EVIDENCE_DELETE_ACTIONS,
        [bucket_arn, f"{bucket_arn}/*"],
        effect="Deny",
        principal={"AWS": "*"},
    )


def bucket_policy(bucket_arn: str, extra_statements: list[dict[str, Any]]) -> str:
    """TLS-only plus the caller's statements, as JSON (pure; tested without Pulumi)."""
    return json.dumps(policy_document([tls_only_statement(bucket_arn), *extra_statements]))


@dataclass
class SecureBucketArgs:
    """Inputs of a :class:`SecureBucket`."""

    bucket_name: str
    """Globally unique name (see ``mlops_core.naming.bucket_name``)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for SSE-KMS."""
    access_log_bucket: pulumi.Input[str]
    """Name of the account's access-log bucket."""
    data_bearing: bool = True
    """Protect the bucket from deletion by ``pulumi destroy``/replacement."""
    noncurrent_version_days: int = 90
    """Days before noncurrent object versions expire."""
    expire_objects_days: int | None = None
    """Expire current objects after this many days (scratch data); None keeps them."""
    policy_statements: list[Any] = field(default_factory=list)
    """Further statements (may contain Outputs) appended after the TLS-only deny."""
    tags: dict[str, str] = field(default_factory=dict)
    object_lock_days: int | None = None
    """Object Lock in COMPLIANCE mode with this default retention (audit evidence); None: no lock.
    S3 allows enabling it on an existing versioned bucket, never disabling it."""
    retain_on_delete: bool = False
    """Keep the bucket and every configuration of it (policy, lock, encryption...) in AWS when they leave the
    stack (audit evidence: an account switching to the log archive stops declaring its audit bucket, whose
    deny-delete policy and default retention must stay)."""


class SecureBucket(pulumi.ComponentResource):
    """An encrypted, private, versioned, logged S3 bucket."""

    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:storage:SecureBucket", name, None, opts)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            aws.s3.BucketArgs(bucket=args.bucket_name, force_destroy=False, tags=args.tags or None),
            opts=pulumi.ResourceOptions(parent=self, protect=args.data_bearing, retain_on_delete=args.retain_on_delete),
        )
        retain = args.retain_on_delete
        child = pulumi.ResourceOptions(parent=self.bucket, retain_on_delete=retain)
        versioning = _private_and_versioned(name, self.bucket, retain=retain)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=self.bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn
                        ),
                        bucket_key_enabled=True,
                    )
                ],
            ),
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-logging",
            aws.s3.BucketLoggingInitArgs(
                bucket=self.bucket.id, target_bucket=args.access_log_bucket, target_prefix=f"{args.bucket_name}/"
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(bucket=self.bucket.id, rules=_lifecycle_rules(args)),
            # Lifecycle rules on versions need versioning to exist first.
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning], retain_on_delete=retain),
        )
        if args.object_lock_days is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                aws.s3.BucketObjectLockConfigurationInitArgs(
                    bucket=self.bucket.id,
                    object_lock_enabled="Enabled",
                    rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                        default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                            mode="COMPLIANCE", days=args.object_lock_days
                        )
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning], retain_on_delete=retain),
            )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=self.bucket.id,
                policy=pulumi.Output.all(self.bucket.arn, pulumi.Output.from_input(args.policy_statements)).apply(
                    lambda values: bucket_policy(values[0], values[1])
                ),
            ),
            opts=child,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


def _private_and_versioned(name: str, bucket: aws.s3.Bucket, *, retain: bool = False) -> aws.s3.BucketVersioning:
    """All four public-access blocks, ``BucketOwnerEnforced`` (no ACLs) and versioning, for any bucket."""
    child = pulumi.ResourceOptions(parent=bucket, retain_on_delete=retain)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        aws.s3.BucketPublicAccessBlockArgs(
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        aws.s3.BucketOwnershipControlsArgs(
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        ),
        opts=child,
    )
    return aws.s3.BucketVersioning(
        f"{name}-versioning",
        aws.s3.BucketVersioningInitArgs(
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        ),
        opts=child,
    )


def _lifecycle_rules(args: SecureBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_version_days
            ),
        ),
    ]
    if args.expire_objects_days:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-current-objects",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expire_objects_days),
            )
        )
    return rules


@dataclass
class AccessLogBucketArgs:
    """Inputs of an :class:`AccessLogBucket`."""

    bucket_name: str
    account_id: str
    retention_days: int = 365
    """Access logs are kept this long, then expire."""


class AccessLogBucket(pulumi.ComponentResource):
    """The account's S3 server-access-log target: the documented SSE-S3 exception.

    Private, versioned, TLS-only, writable only by the S3 logging service for buckets of this
    account (``aws:SourceAccount``); it does not log to itself.
    """

    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:storage:AccessLogBucket", name, None, opts)
        tag_key, tag_value = ACCESS_LOG_BUCKET_TAG
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            aws.s3.BucketArgs(bucket=args.bucket_name, force_destroy=False, tags={tag_key: tag_value}),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        child = pulumi.ResourceOptions(parent=self.bucket)
        versioning = _private_and_versioned(name, self.bucket)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=self.bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"
                        ),
                    )
                ],
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=self.bucket.id,
                rules=[
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id="expire-access-logs",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=30
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            aws.s3.BucketPolicyArgs(
                bucket=self.bucket.id,
                policy=self.bucket.arn.apply(lambda arn: access_log_bucket_policy(arn, args.account_id)),
            ),
            opts=child,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


def access_log_bucket_policy(bucket_arn: str, account_id: str) -> str:
    """TLS-only, and log delivery only by the S3 logging service for this account's buckets."""
    delivery = statement(
        "AllowS3ServerAccessLogDelivery",
        ["s3:PutObject"],
        f"{bucket_arn}/*",
        principal={"Service": "logging.s3.amazonaws.com"},
        condition={
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"},
        },
    )
    return json.dumps(policy_document([tls_only_statement(bucket_arn), delivery]))
