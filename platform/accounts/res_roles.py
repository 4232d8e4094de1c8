"""RES: the serving deployer role (what the deploy actions run as) and the deploy pipelines' role."""

from __future__ import annotations

from accounts.common import AccountContext
from accounts.res_foundation import ReleaseFoundation
from components.release_roles import ReleaseNames, ReleaseRoles, ReleaseRolesArgs
from mlops_core import naming
from mlops_core.roles import STAGES


def build(context: AccountContext, foundation: ReleaseFoundation) -> ReleaseRoles:
    """Both roles, named by convention (the stage accounts trust the deployer by its name)."""
    org, account = context.settings.org, context.settings.account_id
    stage_roles = [naming.role_arn(org.accounts.by_role()[s], naming.stage_deployment_role_name(org)) for s in STAGES]
    return ReleaseRoles(
        "res-release-roles",
        ReleaseRolesArgs(
            names=ReleaseNames(
                platform_name=org.platform_name, region=org.region, res_account=account, exp_account=org.accounts.exp,
                deployer_role_name=naming.serving_deployer_role_name(org),
                pipeline_role_name=naming.release_pipeline_role_name(org),
                stage_deployment_role_arns=stage_roles,
                state_bucket=naming.bucket_name(org, account, naming.STATE_PURPOSE),
                state_key_alias=naming.kms_alias(org, naming.STATE_PURPOSE),
                deploy_repository=naming.image_repository_name(org, "deploy"),
            ),
            artifact_bucket=foundation.bucket.name,
            release_key_arn=foundation.key.arn,
            approval_topic_arn=foundation.approval_topic.arn,
        ),
        opts=context.opts,
    )
