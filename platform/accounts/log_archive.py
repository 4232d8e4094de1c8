"""The optional ``log-archive`` stack: the audit archive every platform account delivers to.

It runs in ``accounts.logArchive`` and only when that is set. It is not a workload account: no VPC,
no baseline. It holds the archive key, the account's own access-log bucket and the archive bucket
(Object Lock in COMPLIANCE mode for ``auditLogs.retentionDays``, deny-delete, the policies CloudTrail
needs) and the archive's AWS Config bucket (deny-delete, no Object Lock, which AWS Config refuses); the account stacks name the
bucket and key by convention (``naming.audit_archive_bucket_name``, ``audit_archive_key_alias_arn``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.audit_archive import AuditArchive, AuditArchiveArgs
from components.baseline import trail_name
from components.encryption import KeyUser
from mlops_core import naming
from mlops_core.config import StackSettings


def build(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """Declare the archive; export its bucket and key."""
    org, account = settings.org, settings.account_id
    sources = sorted(org.accounts.by_role().values())
    archive = AuditArchive(
        "log-archive",
        AuditArchiveArgs(
            account_id=account,
            region=org.region,
            platform_name=org.platform_name,
            source_account_ids=sources,
            trail_name=trail_name(org.platform_name),
            bucket_name=str(naming.audit_archive_bucket_name(org)),
            config_bucket_name=str(naming.config_archive_bucket_name(org)),
            key_alias=naming.kms_alias(org, naming.AUDIT_ARCHIVE_PURPOSE),
            access_log_bucket_name=naming.bucket_name(org, account, "access-logs"),
            retention_days=org.audit_logs.retention_days,
            # Each account's deploy role creates its trail (the stacks' default deploy role name).
            trail_creators=[KeyUser(a, [naming.role_arn(a, naming.deploy_role_name(org))], decrypt_only=True) for a in sources],
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return {
        "role": settings.role,
        "accountId": account,
        "region": org.region,
        "auditArchiveBucket": archive.bucket.name,
        "configArchiveBucket": archive.config_bucket.name,
        "auditArchiveKeyArn": archive.key.arn,
        "accessLogBucket": archive.access_logs.name,
    }
