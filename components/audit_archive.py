"""The audit archive in the log-archive account: where every platform account's evidence lands.

With ``accounts.logArchive`` set, each account's CloudTrail trail and AWS Config delivery channel
write to one bucket in that account, encrypted with one key there, instead of to an audit bucket of
their own: an administrator of an audited account can then neither rewrite the bucket policy nor
touch the key. The bucket is a :class:`SecureBucket` (SSE-KMS with the archive key, versioned, public
access blocks, TLS-only, access logging to the archive account's own access-log bucket) with Object
Lock in COMPLIANCE mode and the deny-delete statement, as the per-account audit bucket has. AWS Config
delivers to a second archive bucket, the same but without Object Lock, which AWS Config refuses.

The policies follow the shapes AWS documents for cross-account delivery, with the platform's
account ids as lists in the conditions (a constant number of statements, whatever the number of
accounts):

* bucket: CloudTrail User Guide, "Setting bucket policy for multiple accounts" (``s3:GetBucketAcl``
  on the bucket, ``s3:PutObject`` on ``AWSLogs/<account>/*`` with ``s3:x-amz-acl`` =
  ``bucket-owner-full-control``); AWS Config Developer Guide, "Permissions for the Amazon S3 Bucket for
  the AWS Config Delivery Channel" (cross-account delivery falls back to the ``config.amazonaws.com``
  principal, which needs ``s3:GetBucketAcl``, ``s3:ListBucket`` (HeadBucket) and ``s3:PutObject`` under
  ``AWSLogs/<account>/Config/``, held by ``aws:SourceAccount``);
* key: CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail" (``kms:GenerateDataKey``
  with ``kms:EncryptionContext:aws:cloudtrail:arn`` per account, ``kms:DescribeKey`` without context;
  ``aws:SourceArn`` as the recommended confused-deputy guard); AWS Config Developer Guide, "Permissions
  for the KMS Key for the AWS Config Delivery Channel" (``kms:Decrypt`` and ``kms:GenerateDataKey`` for
  ``config.amazonaws.com`` with ``AWS:SourceAccount``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from components.iam_documents import statement
from components.secure_bucket import (
    AccessLogBucket,
    AccessLogBucketArgs,
    SecureBucket,
    SecureBucketArgs,
    deny_delete_statement,
)

CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"


@dataclass(frozen=True)
class AuditDestination:
    """Where an account's CloudTrail and AWS Config deliver: the bucket, and the key they encrypt with."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    """A key ARN or, for the archive in another account, the key's alias ARN."""
    bucket: pulumi.Resource | None = None
    """The bucket when this stack declares it (the trail waits for it and its policy)."""

    @property
    def depends_on(self) -> list[pulumi.Resource]:
        return [self.bucket] if self.bucket is not None else []


def archive_destination(bucket_name: str, key_alias_arn: str) -> AuditDestination:
    """The archive in the log-archive account, as every other stack names it (by convention, see ``naming``)."""
    return AuditDestination(bucket_name, f"arn:aws:s3:::{bucket_name}", key_alias_arn)


def trail_arns(account_ids: list[str], region: str, trail_name: str) -> list[str]:
    """The trail of each platform account (``AccountBaseline`` names it ``<platform>-trail``)."""
    return [f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name}" for account in sorted(account_ids)]


def archive_key_services(account_ids: list[str], region: str, trail_name: str) -> list[ServiceUse]:
    """CloudTrail and AWS Config of the platform's accounts, and nobody else's, may encrypt with the key.

    As in ``components.baseline``: GenerateDataKey carries the trail's encryption context, DescribeKey
    (checked at CreateTrail/UpdateTrail) carries none, so the context condition is only on the first.
    """
    accounts = sorted(account_ids)
    trails = {"aws:SourceAccount": accounts, "aws:SourceArn": trail_arns(accounts, region, trail_name)}
    return [
        ServiceUse(
            CLOUDTRAIL,
            ["kms:GenerateDataKey"],
            {
                "StringEquals": trails,
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": [f"arn:aws:cloudtrail:*:{a}:trail/*" for a in accounts]
                },
            },
        ),
        ServiceUse(CLOUDTRAIL, ["kms:DescribeKey"], {"StringEquals": trails}),
        ServiceUse(CONFIG, ["kms:Decrypt", "kms:GenerateDataKey"], {"StringEquals": {"aws:SourceAccount": accounts}}),
    ]


def archive_bucket_statements(
    bucket_arn: str, account_ids: list[str], services: tuple[str, ...] = (CLOUDTRAIL,)
) -> list[dict[str, Any]]:
    """An archive bucket's statements after the TLS-only deny (pure; tested without Pulumi).

    ``services``: CloudTrail for the Object-Locked archive bucket, AWS Config for the archive's Config
    bucket (no Object Lock, which AWS Config refuses).

    Each account's services may write only under its own ``AWSLogs/<account>/`` prefix. CloudTrail
    refuses a trail whose ``S3KeyPrefix`` contains ``AWSLogs/`` (CloudTrail User Guide, "Setting bucket
    policy for multiple accounts"), so one account cannot aim its trail at another's prefix; whatever is
    written, Object Lock keeps every earlier version.
    """
    accounts = sorted(account_ids)
    principal = {"Service": sorted(services)}
    return [
        statement(
            "AuditServicesCheckBucket",
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
            principal=principal,
            condition={"StringEquals": {"aws:SourceAccount": accounts}},
        ),
        statement(
            "AuditServicesDeliver",
            ["s3:PutObject"],
            [f"{bucket_arn}/AWSLogs/{account}/*" for account in accounts],
            principal=principal,
            condition={"StringEquals": {"aws:SourceAccount": accounts, "s3:x-amz-acl": "bucket-owner-full-control"}},
        ),
        # Evidence out of reach of every administrator, the archive account's included.
        deny_delete_statement(bucket_arn),
    ]


@dataclass
class AuditArchiveArgs:
    """Inputs of an :class:`AuditArchive`."""

    account_id: str
    """The log-archive account (its root administers the key)."""
    region: str
    platform_name: str
    """Prefix of the key's description."""
    source_account_ids: list[str]
    """The platform accounts whose CloudTrail and AWS Config deliver here."""
    trail_name: str
    """The name every account's trail has (``aws:SourceArn`` of the CloudTrail key statements)."""
    bucket_name: str
    """``naming.audit_archive_bucket_name``: the name the other stacks' trails deliver to."""
    config_bucket_name: str
    """``naming.config_archive_bucket_name``: the name the other stacks' AWS Config delivers to."""
    key_alias: str
    """``alias/<platform>-audit-archive``: the other stacks name the key by this alias's ARN."""
    access_log_bucket_name: str
    """The log-archive account's own access-log bucket (the archive bucket logs its access there)."""
    retention_days: int = 365
    """Object Lock (COMPLIANCE) default retention of every archived object (``auditLogs.retentionDays``)."""
    trail_creators: list[KeyUser] = field(default_factory=list)
    """Principals that create the trails (each account's deploy role): CloudTrail requires ``kms:Decrypt``
    on the key of a bucket with an S3 Bucket Key to create or update a trail (CloudTrail User Guide,
    "Configure AWS KMS key policies for CloudTrail"). Decrypt and DescribeKey only."""


class AuditArchive(pulumi.ComponentResource):
    """The archive key, the archive account's access-log bucket, the locked archive bucket and the Config bucket."""

    key: PlatformKey
    access_logs: AccessLogBucket
    bucket: SecureBucket
    config_bucket: SecureBucket

    def __init__(self, name: str, args: AuditArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:audit:AuditArchive", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        self.key = PlatformKey(
            f"{name}-key",
            PlatformKeyArgs(
                account_id=args.account_id,
                alias=args.key_alias,
                description=f"{args.platform_name} log archive: CloudTrail and AWS Config evidence of every account",
                users=list(args.trail_creators),
                services=archive_key_services(args.source_account_ids, args.region, args.trail_name),
                grant_for_aws_resources=False,
            ),
            opts=here,
        )
        self.access_logs = AccessLogBucket(
            f"{name}-access-logs",
            AccessLogBucketArgs(bucket_name=args.access_log_bucket_name, account_id=args.account_id),
            opts=here,
        )
        self.bucket = self._evidence_bucket(f"{name}-bucket", args.bucket_name, args, (CLOUDTRAIL,), args.retention_days)
        # AWS Config "does not support the delivery channel to an Amazon S3 bucket where object lock is
        # enabled" (CloudFormation reference, AWS::Config::DeliveryChannel): versioning and deny-delete only.
        self.config_bucket = self._evidence_bucket(f"{name}-config-bucket", args.config_bucket_name, args, (CONFIG,), None)
        self.register_outputs(
            {"bucketName": self.bucket.name, "configBucketName": self.config_bucket.name, "keyArn": self.key.arn}
        )

    def _evidence_bucket(self, name: str, bucket_name: str, args: AuditArchiveArgs, services: tuple[str, ...],
                         object_lock_days: int | None) -> SecureBucket:
        """An archive bucket the platform accounts' ``services`` deliver to, kept in AWS when the stack lets it go."""
        statements = archive_bucket_statements(f"arn:aws:s3:::{bucket_name}", args.source_account_ids, services)
        return SecureBucket(
            name,
            SecureBucketArgs(
                bucket_name=bucket_name,
                kms_key_arn=self.key.arn,
                access_log_bucket=self.access_logs.name,
                policy_statements=statements,
                object_lock_days=object_lock_days,
                retain_on_delete=True,  # evidence outlives the stack: a destroy or a rename leaves it in AWS
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
