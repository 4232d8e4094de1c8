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
from components.promotion_pipeline import BUNDLE_KEY, PromotionPipeline, PromotionPipelineArgs, state_backend_url
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
    pipelines = {
        project.name: _pipeline(context, foundation, roles, bundle, project.name).pipeline.name
        for project in context.settings.org.model_projects
    }
    return Promotion(pipelines=pipelines, product=_product(context, foundation, roles))


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


def _deploy_image(context: AccountContext) -> str:
    return naming.image_uri(context.settings.org, "deploy", image_tag(context.source_root, "deploy"))


def _backend_url(context: AccountContext) -> str:
    org = context.settings.org
    return state_backend_url(naming.bucket_name(org, context.settings.account_id, naming.STATE_PURPOSE), org.region)


def _pipeline(
    context: AccountContext, foundation: ReleaseFoundation, roles: ReleaseRoles, bundle: aws.s3.BucketObjectv2, project: str
) -> PromotionPipeline:
    settings, network = context.settings, context.baseline.network
    org = settings.org
    group = naming.model_package_group_name(project)
    return PromotionPipeline(
        f"res-deploy-{project}",
        PromotionPipelineArgs(
            pipeline_name=naming.deploy_pipeline_name(org, group),
            project=project,
            platform_name=org.platform_name,
            artifact_bucket=foundation.bucket.name,
            bundle_key=BUNDLE_KEY,
            kms_key_arn=foundation.key.arn,
            logs_key_arn=context.baseline.logs_key.arn,
            pipeline_role_arn=roles.pipeline_role.arn,
            deployer_role_arn=roles.deployer_role.arn,
            approval_topic_arn=foundation.approval_topic.arn,
            deploy_image=_deploy_image(context),
            vpc_id=network.vpc_id,
            subnet_ids=foundation.subnet_ids,
            security_group_ids=foundation.security_group_ids,
            backend_url=_backend_url(context),
            log_retention_days=settings.config.baseline.log_retention_days,
            tags={naming.PROJECT_TAG_KEY: project},
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, depends_on=[bundle]),
    )


def _product(context: AccountContext, foundation: ReleaseFoundation, roles: ReleaseRoles) -> DeploymentProduct:
    """Launchable by the DevOps persona role."""
    settings, network = context.settings, context.baseline.network
    org = settings.org
    devops_role = naming.persona_role_name(org, "devops")
    return DeploymentProduct(
        "res-deployment-product",
        DeploymentProductArgs(
            platform_name=org.platform_name, region=org.region, account_id=settings.account_id,
            artifact_bucket=foundation.bucket.name,
            bundle_key=BUNDLE_KEY, kms_key_arn=foundation.key.arn, logs_key_arn=context.baseline.logs_key.arn,
            deployer_role_arn=roles.deployer_role.arn, approval_topic_arn=foundation.approval_topic.arn,
            deploy_image=_deploy_image(context), vpc_id=network.vpc_id, subnet_ids=foundation.subnet_ids,
            security_group_ids=foundation.security_group_ids, backend_url=_backend_url(context),
            log_retention_days=settings.config.baseline.log_retention_days,
            principal_patterns=[f"arn:aws:iam:::role/{devops_role}"],
        ),
        opts=context.opts,
    )
