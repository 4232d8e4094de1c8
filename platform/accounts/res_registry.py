"""RES: the container registry of the platform images (pushed only by the image builder)."""

from __future__ import annotations

from accounts.common import AccountContext
from accounts.res_foundation import ReleaseFoundation
from accounts.res_sources import PLATFORM_IMAGES
from components.registry import ContainerRegistry, ContainerRegistryArgs, ImagePull, ImageRepositorySpec
from mlops_core import naming
from mlops_core.roles import STAGES


def build(context: AccountContext, foundation: ReleaseFoundation) -> ContainerRegistry:
    """A release and a quarantine repository per image; who pulls each image."""
    org, account = context.settings.org, context.settings.account_id
    p = org.platform_name
    stage_accounts = [org.accounts.by_role()[s] for s in STAGES]
    pulls = {
        "deploy": [ImagePull(account, [naming.role_arn(account, naming.serving_deployer_role_name(org))])],
        # SageMaker pulls with the model's execution role, which lives in the stage account.
        "inference": [ImagePull(a, [naming.role_arn(a, f"{p}-serving-*")]) for a in stage_accounts],
    }
    return ContainerRegistry(
        "res-registry",
        ContainerRegistryArgs(
            account_id=account, region=org.region, platform_name=p, kms_key_arn=foundation.key.arn,
            pusher_role_arn=naming.role_arn(account, naming.image_pipeline_role_name(org)),
            images=[
                ImageRepositorySpec(
                    image=image,
                    release_name=naming.image_repository_name(org, image),
                    quarantine_name=naming.image_repository_name(org, image, quarantine=True),
                    pulls=pulls[image],
                )
                for image in PLATFORM_IMAGES
            ],
        ),
        opts=context.opts,
    )
