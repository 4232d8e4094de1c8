"""RES: the image pipeline that builds, tests and pushes the platform images, and its source bundle."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from accounts.res_foundation import ReleaseFoundation
from accounts.res_sources import IMAGE_SOURCES, PLATFORM_IMAGES, archive_files, file_archive
from components.image_pipeline import SOURCE_KEY, ImagePipeline, ImagePipelineArgs
from components.release_roles import ReleaseRoles
from mlops_core import naming


def build(context: AccountContext, foundation: ReleaseFoundation, roles: ReleaseRoles) -> ImagePipeline:
    """The pipeline, then its source object (an upload of a new one starts the pipeline)."""
    settings = context.settings
    org = settings.org
    images = ImagePipeline(
        "res-images",
        ImagePipelineArgs(
            platform_name=org.platform_name, account_id=settings.account_id, region=org.region,
            role_name=naming.image_pipeline_role_name(org),
            images={i: (naming.image_repository_name(org, i, quarantine=True), naming.image_repository_name(org, i))
                    for i in PLATFORM_IMAGES},
            artifact_bucket=foundation.bucket.name,
            kms_key_arn=foundation.key.arn, logs_key_arn=context.baseline.logs_key.arn,
            pipeline_role_arn=roles.pipeline_role.arn, vpc_id=context.baseline.network.vpc_id,
            subnet_ids=foundation.subnet_ids, security_group_ids=foundation.security_group_ids,
            log_retention_days=settings.config.baseline.log_retention_days,
        ),
        opts=context.opts,
    )
    aws.s3.BucketObjectv2(
        "res-image-sources",
        aws.s3.BucketObjectv2Args(
            bucket=foundation.bucket.name, key=SOURCE_KEY, source=file_archive(archive_files(IMAGE_SOURCES, context.source_root)),
            server_side_encryption="aws:kms", kms_key_id=foundation.key.arn,
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=foundation.bucket, depends_on=[images]),
    )
    return images
