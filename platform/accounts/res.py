"""RES: the release account. Registry, model events, promotion pipelines, image pipeline, approvers.

Order of declaration (each part uses the ones before it; one module each):

1. the release key, the release workloads' security group, the release bucket (pipeline artifacts,
   the deployer bundle, the image sources, the product template and the toolchain staged by
   bootstrap) and the approval topic (:mod:`accounts.res_foundation`);
2. the release roles (:mod:`accounts.res_roles`), the registry, pushed only by the image builder
   (:mod:`accounts.res_registry`), the model event bus and the trigger Lambda
   (:mod:`accounts.res_events`);
3. the deployer bundle, one promotion pipeline per config-driven model project and the "Model
   Deployment" product (:mod:`accounts.res_promotion`), the image pipeline (:mod:`accounts.res_images`);
4. people: the release approvers, the DevOps (release operator) and auditor sign-in roles
   (:mod:`accounts.res_people`).

What the bundle and the image sources contain: :mod:`accounts.res_sources`. See docs/res.md for the
flow, the execution mode and the permission matrix.
"""

from __future__ import annotations

from accounts import res_events, res_foundation, res_images, res_people, res_promotion, res_registry, res_roles
from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Declare the release account's resources (the baseline is already in place)."""
    foundation = res_foundation.build(context)
    roles = res_roles.build(context, foundation)
    registry = res_registry.build(context, foundation)
    events = res_events.build(context, foundation)
    promotion = res_promotion.build(context, foundation, roles)
    images = res_images.build(context, foundation, roles)
    people = res_people.build(context)

    context.exports.update(
        {
            "releaseKeyArn": foundation.key.arn,
            "releaseBucket": foundation.bucket.name,
            "eventBusArn": events.bus.arn,
            "modelTriggerFunctionArn": events.trigger.function.arn,
            "deployPipelines": promotion.pipelines,
            "imagePipeline": images.pipeline.name,
            "repositoryUrls": registry.repository_urls,
            "servingDeployerRoleArn": roles.deployer_role.arn,
            "releaseApproverRoleArns": people.approvers,
            "personaRoleArns": people.persona_roles,
            "deploymentPortfolioId": promotion.product.portfolio.id,
            "approvalTopicArn": foundation.approval_topic.arn,
        }
    )
