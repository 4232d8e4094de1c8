"""RES: the deployer bundle, one promotion pipeline per config-driven model project, and the
"Model Deployment" product that makes the same pipeline for product-made projects."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from accounts.res_foundation import ReleaseFoundation
from accounts.res_sources import deployer_bundle_files, file_archive, image_tag
from components.deployment_product import DeploymentProduct, DeploymentProductArgs
from components.promotion_pipeline import (
    BUNDLE_KEY,
    PromotionPipeline,
    PromotionPipelineArgs,
    PromotionSettings,
    state_backend_url,
)
from components.release_access import LAUNCHES_DEPLOYMENT_PRODUCT, RES_ACCESS
from components.release_roles import ReleaseRoles
from mlops_core import naming


@dataclass
class Promotion:
    """Deploy pipeline name per project, and the product."""

    pipelines: dict[str, pulumi.Output[str]]
    product: DeploymentProduct


def build(context: AccountContext, foundation: ReleaseFoundation, roles: ReleaseRoles) -> Promotion:
    """The bundle first (every pipeline's source), then the pipelines and the product."""
    bundle = _deployer_bundle(context, foundation)
    promotion = _promotion_settings(context, foundation, roles)
    pipelines = {
        project.name: _pipeline(context, promotion, roles, bundle, project.name).pipeline.name
        for project in context.settings.org.model_projects
    }
    return Promotion(pipelines=pipelines, product=_product(context, promotion))


def _promotion_settings(context: AccountContext, foundation: ReleaseFoundation, roles: ReleaseRoles) -> PromotionSettings:
    """What the config-driven and the product-made pipelines share."""
    settings = context.settings
    org, account = settings.org, settings.account_id
    return PromotionSettings(
        platform_name=org.platform_name,
        artifact_bucket=foundation.bucket.name,
        bundle_key=BUNDLE_KEY,
        kms_key_arn=foundation.key.arn,
        logs_key_arn=context.baseline.logs_key.arn,
        deployer_role_arn=roles.deployer_role.arn,
        approval_topic_arn=foundation.approval_topic.arn,
        deploy_image=naming.image_uri(org, "deploy", image_tag(context.source_root, "deploy")),
        vpc_id=context.baseline.network.vpc_id,
        subnet_ids=foundation.subnet_ids,
        security_group_ids=foundation.security_group_ids,
        backend_url=state_backend_url(naming.bucket_name(org, account, naming.STATE_PURPOSE), org.region),
        log_retention_days=settings.config.baseline.log_retention_days,
    )


def _deployer_bundle(context: AccountContext, foundation: ReleaseFoundation) -> aws.s3.BucketObjectv2:
    """What the deploy actions run (the serving program, its packages, the organisation and policy configs)."""
    return aws.s3.BucketObjectv2(
        "res-deployer-bundle",
        aws.s3.BucketObjectv2Args(
            bucket=foundation.bucket.name, key=BUNDLE_KEY,
            source=file_archive(deployer_bundle_files(context.source_root, context.project_root)),
            server_side_encryption="aws:kms", kms_key_id=foundation.key.arn,
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=foundation.bucket),
    )


def _pipeline(
    context: AccountContext, promotion: PromotionSettings, roles: ReleaseRoles, bundle: aws.s3.BucketObjectv2, project: str
) -> PromotionPipeline:
    group = naming.model_package_group_name(project)
    return PromotionPipeline(
        f"res-deploy-{project}",
        PromotionPipelineArgs(
            pipeline_name=naming.deploy_pipeline_name(context.settings.org, group),
            project=project,
            pipeline_role_arn=roles.pipeline_role.arn,
            promotion=promotion,
            tags={naming.PROJECT_TAG_KEY: project},
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, depends_on=[bundle]),
    )


def _product(context: AccountContext, promotion: PromotionSettings) -> DeploymentProduct:
    """Launchable by the RES persona roles whose level launches it (leads and DevOps)."""
    settings = context.settings
    launchers = [naming.persona_role_name(settings.org, persona) for persona, level in RES_ACCESS.items()
                 if level in LAUNCHES_DEPLOYMENT_PRODUCT]
    return DeploymentProduct(
        "res-deployment-product",
        DeploymentProductArgs(
            region=settings.org.region,
            account_id=settings.account_id,
            promotion=promotion,
            principal_patterns=[f"arn:aws:iam:::role/{role}" for role in launchers],
        ),
        opts=context.opts,
    )
