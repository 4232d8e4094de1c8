"""Naming conventions shared by every stack, the serving project, bootstrap and the policies.

Cross-account references are derived from configuration by these rules, so no stack needs another
to exist first (a StackReference carries one-way outputs only).
"""

from __future__ import annotations

from mlops_platform.config import OrganizationConfig

#: Tag on the access-log bucket: SSE-S3 and no logging to itself, as S3 log delivery requires.
ACCESS_LOG_BUCKET_TAG = ("mlops:access-log-bucket", "true")
#: Tag on the platform's own deploy/bootstrap roles; exempt from some IAM rules only together with
#: a permissions boundary (see policies/EXCEPTIONS.md).
GUARDRAIL_EXEMPTION_TAG = ("mlops:guardrail-exemption", "platform-deploy")
#: Tag key naming a model project on every role and resource of that project.
PROJECT_TAG_KEY = "mlops:project"

MAX_BUCKET_NAME = 63


def role_arn(account_id: str, role_name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{role_name}"


def account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def deploy_role_name(org: OrganizationConfig) -> str:
    """The role each stack's provider assumes; created per account by ``mlops-platform bootstrap``."""
    return f"{org.platform_name}-deploy"


def preview_role_name(org: OrganizationConfig) -> str:
    """The read-only role pull-request previews assume."""
    return f"{org.platform_name}-preview"


def deploy_boundary_name(org: OrganizationConfig) -> str:
    """The permissions boundary the deploy role carries."""
    return f"{org.platform_name}-deploy-boundary"


def bucket_name(org: OrganizationConfig, account_id: str, purpose: str) -> str:
    """Globally unique bucket name: ``<platform>-<purpose>-<account>-<region>``."""
    name = f"{org.platform_name}-{purpose}-{account_id}-{org.region}"
    if len(name) > MAX_BUCKET_NAME:
        raise ValueError(f"bucket name {name!r} exceeds {MAX_BUCKET_NAME} characters; shorten platformName or the purpose")
    return name


def kms_alias(org: OrganizationConfig, purpose: str) -> str:
    return f"alias/{org.platform_name}-{purpose}"


def stack_reference_name(project: str, stack: str, organization: str = "organization") -> str:
    """Fully qualified stack name as a DIY backend spells it (Pulumi Cloud uses the real org)."""
    return f"{organization}/{project}/{stack}"
