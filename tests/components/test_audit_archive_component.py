"""AuditArchive: the log archive's key and locked bucket, with the cross-account delivery policies (pure parts too)."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, PEER_ACCOUNT, REGION, document
from components.audit_archive import (
    AuditArchive,
    AuditArchiveArgs,
    archive_bucket_statements,
    archive_key_services,
    trail_arns,
)
from mlops_platform.harness import DeclarationPlan, plan_declaration

ARCHIVE = "acme-audit-archive"
CONFIG_ARCHIVE = "acme-config-archive"
SOURCES = ["333333333333", PEER_ACCOUNT]


@pytest.fixture(scope="module")
def archive() -> DeclarationPlan:
    def declare():
        AuditArchive(
            "archive",
            AuditArchiveArgs(
                account_id=ACCOUNT,
                region=REGION,
                platform_name="acme",
                source_account_ids=SOURCES,
                trail_name="acme-trail",
                bucket_name=ARCHIVE,
                config_bucket_name=CONFIG_ARCHIVE,
                key_alias="alias/acme-audit-archive",
                access_log_bucket_name="acme-archive-access-logs",
                retention_days=500,
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def _archive_bucket(plan: DeclarationPlan, type_token: str):
    (record,) = [r for r in plan.of_type(type_token) if r.inputs.get("bucket") == ARCHIVE]
    return record


def test_archive_locks_in_compliance_mode_for_the_given_days(archive) -> None:
    lock = _archive_bucket(archive, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 500}, f"{lock.name}: {lock.inputs}"


def test_archive_logs_its_access_to_its_own_access_log_bucket(archive) -> None:
    logging = _archive_bucket(archive, "aws:s3/bucketLogging:BucketLogging")
    assert logging.inputs["targetBucket"] == "acme-archive-access-logs", f"{logging.name}: {logging.inputs}"


def test_archive_policy_is_tls_only_then_the_delivery_and_deny_statements(archive) -> None:
    policy = document(_archive_bucket(archive, "aws:s3/bucketPolicy:BucketPolicy"))
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == ["DenyInsecureTransport", "AuditServicesCheckBucket", "AuditServicesDeliver", "DenyEvidenceDeletion"], sids


def test_archive_key_rotates_and_is_protected(archive) -> None:
    (key,) = archive.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True and key.protect, f"{key.name}: rotation and protect"


def test_deliveries_are_allowed_only_under_each_source_accounts_prefix() -> None:
    (deliver,) = [s for s in archive_bucket_statements(f"arn:aws:s3:::{ARCHIVE}", SOURCES) if s["Sid"] == "AuditServicesDeliver"]
    assert deliver["Resource"] == [f"arn:aws:s3:::{ARCHIVE}/AWSLogs/{a}/*" for a in sorted(SOURCES)], deliver["Resource"]


def test_statement_count_does_not_grow_with_the_accounts() -> None:
    few = archive_bucket_statements(f"arn:aws:s3:::{ARCHIVE}", SOURCES[:1])
    many = archive_bucket_statements(f"arn:aws:s3:::{ARCHIVE}", [*SOURCES, "444444444444", "555555555555"])
    assert len(few) == len(many) == 3, (len(few), len(many))


def test_key_services_are_cloudtrail_twice_and_config_once() -> None:
    services = [s.service for s in archive_key_services(SOURCES, REGION, "acme-trail")]
    assert services == ["cloudtrail.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com"], services


def test_every_key_service_is_held_to_the_source_accounts() -> None:
    for use in archive_key_services(SOURCES, REGION, "acme-trail"):
        assert use.conditions["StringEquals"]["aws:SourceAccount"] == sorted(SOURCES), f"{use.service}: {use.conditions}"


def test_trail_arns_name_each_accounts_trail_in_the_region() -> None:
    assert trail_arns(["2", "1"], REGION, "t") == [f"arn:aws:cloudtrail:{REGION}:1:trail/t", f"arn:aws:cloudtrail:{REGION}:2:trail/t"]
