"""The explicit AWS provider every stack (platform and serving) declares.

The project disables the default provider (``pulumi:disable-default-providers`` in Pulumi.yaml),
so a resource that forgets its provider fails instead of landing in whatever account the caller's
credentials point at. ``allowed_account_ids`` is the second guard.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_core.config import StackSettings
from mlops_core.naming import stack_deploy_role_arn


def account_provider(settings: StackSettings, name: str | None = None) -> aws.Provider:
    """Provider for the stack's account: assumes the platform deploy role, tags everything."""
    org, deploy = settings.org, settings.config.deploy_role
    tags = {**org.tags, "mlops:stack": settings.stack, "mlops:account-role": settings.role}
    return aws.Provider(
        name or f"{settings.role}-account",
        aws.ProviderArgs(
            region=org.region,
            allowed_account_ids=[settings.account_id],
            assume_roles=[
                aws.ProviderAssumeRoleArgs(
                    role_arn=stack_deploy_role_arn(settings),
                    session_name=deploy.session_name,
                    external_id=deploy.external_id,
                )
            ],
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
        ),
    )


def config_from_pulumi() -> dict[str, object]:
    """The stack's whole config as the engine passed it (namespaced keys, JSON strings)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}

