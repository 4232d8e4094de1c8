"""The baseline every account gets, and the context the role builders share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.audit_archive import AuditDestination, archive_destination
from components.baseline import AccountBaseline, AccountBaselineArgs
from components.people import PersonaRole, PersonaRoleArgs, sign_in_trust_policy
from mlops_core import naming
from mlops_core.config import OrganizationConfig, StackSettings


@dataclass
class AccountContext:
    """What a role builder needs: settings, the provider, the baseline and the stack's exports."""

    settings: StackSettings
    provider: aws.Provider
    baseline: AccountBaseline
    project_root: Path
    """The checkout whose config the stack reads (organization.yaml, policy configs)."""
    source_root: Path
    """The checkout whose files the stack ships (sample data, the deployer bundle, image sources)."""
    exports: dict[str, Any] = field(default_factory=dict)

    @property
    def opts(self) -> pulumi.ResourceOptions:
        """Options for top-level resources of the role: the account's explicit provider."""
        return pulumi.ResourceOptions(provider=self.provider)


def baseline_args(settings: StackSettings) -> AccountBaselineArgs:
    """The baseline's inputs from the stack settings: names by convention, network and switches."""
    org, account = settings.org, settings.account_id
    return AccountBaselineArgs(
        role=settings.role,
        account_id=account,
        region=org.region,
        platform_name=org.platform_name,
        platform_account_ids=list(org.accounts.by_role().values()),
        vpc_cidr=settings.config.vpc_cidr,
        az_ids=list(settings.config.az_ids),
        platform_key_alias=naming.kms_alias(org, "platform"),
        logs_key_alias=naming.kms_alias(org, "logs"),
        access_log_bucket_name=naming.bucket_name(org, account, "access-logs"),
        audit_bucket_name=naming.bucket_name(org, account, "audit"),
        config_bucket_name=naming.bucket_name(org, account, naming.CONFIG_PURPOSE),
        switches=settings.config.baseline,
        audit_retention_days=org.audit_logs.retention_days,
        audit_archive=audit_archive_of(org),
        config_archive=config_archive_of(org),
    )


def audit_archive_of(org: OrganizationConfig) -> AuditDestination | None:
    """The log archive every account delivers its evidence to, or None without ``accounts.logArchive``."""
    bucket, key = naming.audit_archive_bucket_name(org), naming.audit_archive_key_alias_arn(org)
    return archive_destination(bucket, key) if bucket and key else None


def config_archive_of(org: OrganizationConfig) -> AuditDestination | None:
    """The log archive's AWS Config bucket (no Object Lock), or None without ``accounts.logArchive``."""
    bucket, key = naming.config_archive_bucket_name(org), naming.audit_archive_key_alias_arn(org)
    return archive_destination(bucket, key) if bucket and key else None


def baseline_for(settings: StackSettings, provider: aws.Provider, project_root: Path, source_root: Path) -> AccountContext:
    baseline = AccountBaseline(
        f"{settings.role}-baseline",
        baseline_args(settings),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    network = baseline.network
    exports: dict[str, Any] = {
        "role": settings.role,
        "accountId": settings.account_id,
        "region": settings.org.region,
        "vpcId": network.vpc_id,
        "vpcCidr": settings.config.vpc_cidr,
        "subnetIds": network.subnet_ids,
        "endpointSecurityGroupId": network.endpoint_security_group_id,
        "endpointIds": network.endpoint_ids,
        "platformKeyArn": baseline.platform_key.arn,
        "logsKeyArn": baseline.logs_key.arn,
        "accessLogBucket": baseline.access_logs.name,
        "alertsTopicArn": baseline.alerts_topic_arn,
    }
    return AccountContext(settings, provider, baseline, project_root, source_root, exports)


def persona_sign_in_role(
    context: AccountContext,
    persona: str,
    people: list[str],
    policies: dict[str, pulumi.Input[Any]],
    *,
    description: str = "",
    managed_policy_arns: list[str] | None = None,
) -> PersonaRole:
    """The persona's federated sign-in role in this account (``<role>-persona-<persona>``, IAM name
    ``naming.persona_role_name``), which ``people`` may assume (SAML or Identity Center)."""
    org, account = context.settings.org, context.settings.account_id
    return PersonaRole(
        f"{context.settings.role}-persona-{persona.replace('_', '-')}",
        PersonaRoleArgs(
            role_name=naming.persona_role_name(org, persona),
            persona=persona,
            trust_policy=sign_in_trust_policy(org, account, [persona], people),
            policies=policies,
            managed_policy_arns=list(managed_policy_arns or []),
            description=description,
        ),
        opts=context.opts,
    )
