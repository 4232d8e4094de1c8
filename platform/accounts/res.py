"""RES: the release account. Registry, model events, promotion pipelines, image pipeline, approvers.

Order of declaration (each part uses the ones before it):

1. the release key (ECR, bus, trigger, pipelines, topics) and the release workloads' security group;
2. the release bucket (pipeline artifacts, the deployer bundle, the image sources, the product
   template and the toolchain staged by bootstrap) and the approval topic;
3. the release roles, the registry (push only by the image builder), the model event bus;
4. the trigger Lambda, one promotion pipeline per config-driven model project, the image pipeline,
   the "Model Deployment" product;
5. people: the release approvers, the DevOps (release operator) and auditor sign-in roles.

See docs/res.md for the flow, the execution mode and the permission matrix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.deployment_product import DeploymentProduct, DeploymentProductArgs
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from components.event_bus import ModelEventBus, ModelEventBusArgs
from components.iam_documents import policy_document, statement
from components.image_pipeline import SOURCE_KEY, ImagePipeline, ImagePipelineArgs
from components.model_trigger import ModelTrigger, ModelTriggerArgs
from components.people import PersonaRole, PersonaRoleArgs, persona_user_names, sign_in_trust_policy
from components.promotion_pipeline import BUNDLE_KEY, PromotionPipeline, PromotionPipelineArgs, state_backend_url
from components.registry import ContainerRegistry, ContainerRegistryArgs, ImagePull, ImageRepositorySpec
from components.release_access import RELEASE_APPROVERS, RES_ACCESS, approver_policy, res_persona_policy
from components.release_roles import ReleaseNames, ReleaseRoles, ReleaseRolesArgs
from mlops_core import naming
from mlops_core.paths import policy_config_file
from mlops_core.roles import STAGES

#: What the deploy actions run, archive path -> repository path: the serving program with the
#: packages it and the deployer import (first on PYTHONPATH, so program and library always match) and
#: the policy pack. Never ``platform/``: at the root it would shadow the stdlib module.
DEPLOYER_BUNDLE_SOURCES = {
    "serving": "serving",
    "mlops_core": "mlops_core",
    "components": "components",
    "mlops_platform": "mlops_platform",
    "mlops_functions": "mlops_functions",
    "mlops_pipelines": "mlops_pipelines",
    "mlops_etl": "etl/mlops_etl",
    "policies": "policies",
}
#: What the image pipeline builds from: the images and what the deploy image installs (pyproject's layout).
IMAGE_SOURCES = {
    path: path
    for path in ("images", "mlops_core", "components", "mlops_platform", "mlops_functions", "mlops_pipelines", "etl",
                 "policies", "pyproject.toml", "constraints.txt", "README.md")
}
PLATFORM_IMAGES = ("deploy", "inference")


def image_tag(source_root: Path, image: str) -> str:
    """The released tag of a platform image: ``images/<image>/VERSION`` (tags are immutable)."""
    return (source_root / "images" / image / "VERSION").read_text(encoding="utf-8").strip()


#: Never shipped: byte code and caches change on every run and would make every preview show a diff.
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
#: Generated per checkout from its organization.yaml: taken from the project root, never from the sources.
GENERATED_PARTS = ("policies/config/",)


def archive_files(sources: dict[str, str], root: Path) -> dict[str, Path]:
    """Archive name -> file for the existing ``sources`` (archive path -> path under ``root``: files,
    or directories walked), sorted, without caches and generated files."""
    files: dict[str, Path] = {}
    for archive_path, relative in sources.items():
        path = root / relative
        if path.is_file():
            members = {archive_path: path}
        else:
            walked = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else []
            members = {f"{archive_path}/{f.relative_to(path).as_posix()}": f for f in walked}
        for name, file in members.items():
            skipped = SKIPPED_PARTS & set(Path(name).parts) or name.endswith(".pyc")
            if not skipped and not file.relative_to(root).as_posix().startswith(GENERATED_PARTS):
                files[name] = file
    return files


def deployer_bundle_files(source_root: Path, project_root: Path) -> dict[str, Path]:
    """The deployer bundle: the sources, plus the organisation file and the stages' policy configs of
    the checkout the stack reads its config from."""
    files = archive_files(DEPLOYER_BUNDLE_SOURCES, source_root)
    files["organization.yaml"] = project_root / "organization.yaml"
    for stage in STAGES:
        config = policy_config_file(project_root, stage)
        files[config.relative_to(project_root).as_posix()] = config
    return dict(sorted(files.items()))


def _archive(files: dict[str, Path]) -> pulumi.AssetArchive:
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(file)) for name, file in files.items()})


def build(context: AccountContext) -> None:
    """Declare the release account's resources (the baseline is already in place)."""
    settings, baseline, opts = context.settings, context.baseline, context.opts
    org, account, region = settings.org, settings.account_id, settings.org.region
    p = org.platform_name
    retention = settings.config.baseline.log_retention_days
    network = baseline.network

    # 1. key and network ------------------------------------------------------------------------
    release_key = _release_key(context)
    workloads_sg = _workloads_security_group(context)
    subnets, security_groups = network.subnet_ids, [workloads_sg.id]

    # 2. bucket and topic -------------------------------------------------------------------------
    release_bucket = baseline.secure_bucket(
        "res-release",
        "release",
        kms_key_arn=release_key.arn,
        noncurrent_version_days=30,
        opts=opts,
    )
    # The image pipeline starts when its source object changes (S3 -> EventBridge).
    aws.s3.BucketNotification(
        "res-release-events",
        aws.s3.BucketNotificationArgs(bucket=release_bucket.name, eventbridge=True),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=release_bucket),
    )
    approval_topic = aws.sns.Topic(
        "res-release-approvals",
        aws.sns.TopicArgs(name=f"{p}-release-approvals", kms_master_key_id=release_key.arn,
                          display_name=f"{p} release approvals"),
        opts=opts,
    )
    aws.sns.TopicPolicy(
        "res-release-approvals-policy",
        aws.sns.TopicPolicyArgs(
            arn=approval_topic.arn,
            policy=approval_topic.arn.apply(lambda arn: _topic_policy(arn, account, naming.role_arn(
                account, naming.release_pipeline_role_name(org)))),
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=approval_topic),
    )

    # 3. roles, registry, bus -----------------------------------------------------------------------
    stage_roles = [naming.role_arn(org.accounts.by_role()[s], naming.stage_deployment_role_name(org)) for s in STAGES]
    roles = ReleaseRoles(
        "res-release-roles",
        ReleaseRolesArgs(
            names=ReleaseNames(
                platform_name=p, region=region, res_account=account, exp_account=org.accounts.exp,
                deployer_role_name=naming.serving_deployer_role_name(org),
                pipeline_role_name=naming.release_pipeline_role_name(org),
                stage_deployment_role_arns=stage_roles,
                state_bucket=naming.bucket_name(org, account, naming.STATE_PURPOSE),
                state_key_alias=naming.kms_alias(org, naming.STATE_PURPOSE),
                deploy_repository=naming.image_repository_name(org, "deploy"),
            ),
            artifact_bucket=release_bucket.name,
            release_key_arn=release_key.arn,
            approval_topic_arn=approval_topic.arn,
        ),
        opts=opts,
    )
    stage_accounts = [org.accounts.by_role()[s] for s in STAGES]
    image_builder_arn = naming.role_arn(account, naming.image_pipeline_role_name(org))
    pulls = {
        "deploy": [ImagePull(account, [naming.role_arn(account, naming.serving_deployer_role_name(org))])],
        # SageMaker pulls with the model's execution role, which lives in the stage account.
        "inference": [ImagePull(a, [naming.role_arn(a, f"{p}-serving-*")]) for a in stage_accounts],
    }
    registry = ContainerRegistry(
        "res-registry",
        ContainerRegistryArgs(
            account_id=account, region=region, platform_name=p, kms_key_arn=release_key.arn,
            pusher_role_arn=image_builder_arn,
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
        opts=opts,
    )
    bus = ModelEventBus(
        "res-model-events",
        ModelEventBusArgs(
            bus_name=naming.event_bus_name(org),
            bus_arn=naming.event_bus_arn(org),
            exp_account_id=org.accounts.exp,
            sender_role_arn=naming.role_arn(org.accounts.exp, naming.events_forwarder_role_name(org)),
            kms_key_arn=release_key.arn,
        ),
        opts=opts,
    )

    # 4. trigger, pipelines, images, product -------------------------------------------------------
    trigger = ModelTrigger(
        "res-model-trigger",
        ModelTriggerArgs(
            function_name=naming.model_trigger_function_name(org), platform_name=p, account_id=account,
            region=region, exp_account_id=org.accounts.exp, event_bus_name=bus.name, subnet_ids=subnets,
            security_group_ids=security_groups, kms_key_arn=release_key.arn, logs_key_arn=baseline.logs_key.arn,
            log_retention_days=retention,
        ),
        opts=opts,
    )
    bundle = aws.s3.BucketObjectv2(
        "res-deployer-bundle",
        aws.s3.BucketObjectv2Args(
            bucket=release_bucket.name, key=BUNDLE_KEY, source=_archive(deployer_bundle_files(context.source_root, context.project_root)),
            server_side_encryption="aws:kms", kms_key_id=release_key.arn,
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=release_bucket),
    )
    deploy_image = naming.image_uri(org, "deploy", image_tag(context.source_root, "deploy"))
    backend_url = state_backend_url(naming.bucket_name(org, account, naming.STATE_PURPOSE), region)
    pipelines = {}
    for project in org.model_projects:
        group = naming.model_package_group_name(project.name)
        pipeline = PromotionPipeline(
            f"res-deploy-{project.name}",
            PromotionPipelineArgs(
                pipeline_name=naming.deploy_pipeline_name(org, group),
                project=project.name,
                platform_name=p,
                artifact_bucket=release_bucket.name,
                bundle_key=BUNDLE_KEY,
                kms_key_arn=release_key.arn,
                logs_key_arn=baseline.logs_key.arn,
                pipeline_role_arn=roles.pipeline_role.arn,
                deployer_role_arn=roles.deployer_role.arn,
                approval_topic_arn=approval_topic.arn,
                deploy_image=deploy_image,
                vpc_id=network.vpc_id,
                subnet_ids=subnets,
                security_group_ids=security_groups,
                backend_url=backend_url,
                log_retention_days=retention,
                tags={naming.PROJECT_TAG_KEY: project.name},
            ),
            opts=pulumi.ResourceOptions(provider=context.provider, depends_on=[bundle]),
        )
        pipelines[project.name] = pipeline.pipeline.name

    images = ImagePipeline(
        "res-images",
        ImagePipelineArgs(
            platform_name=p, account_id=account, region=region, role_name=naming.image_pipeline_role_name(org),
            images={i: (naming.image_repository_name(org, i, quarantine=True), naming.image_repository_name(org, i))
                    for i in PLATFORM_IMAGES},
            artifact_bucket=release_bucket.name,
            kms_key_arn=release_key.arn, logs_key_arn=baseline.logs_key.arn,
            pipeline_role_arn=roles.pipeline_role.arn, vpc_id=network.vpc_id, subnet_ids=subnets,
            security_group_ids=security_groups, log_retention_days=retention,
        ),
        opts=opts,
    )
    aws.s3.BucketObjectv2(
        "res-image-sources",
        aws.s3.BucketObjectv2Args(
            bucket=release_bucket.name, key=SOURCE_KEY, source=_archive(archive_files(IMAGE_SOURCES, context.source_root)),
            server_side_encryption="aws:kms", kms_key_id=release_key.arn,
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=release_bucket, depends_on=[images]),
    )
    devops_role = naming.persona_role_name(org, "devops")
    product = DeploymentProduct(
        "res-deployment-product",
        DeploymentProductArgs(
            platform_name=p, region=region, account_id=account, artifact_bucket=release_bucket.name,
            bundle_key=BUNDLE_KEY, kms_key_arn=release_key.arn, logs_key_arn=baseline.logs_key.arn,
            deployer_role_arn=roles.deployer_role.arn, approval_topic_arn=approval_topic.arn,
            deploy_image=deploy_image, vpc_id=network.vpc_id, subnet_ids=subnets,
            security_group_ids=security_groups, backend_url=backend_url, log_retention_days=retention,
            principal_patterns=[f"arn:aws:iam:::role/{devops_role}"],
        ),
        opts=opts,
    )

    # 5. people --------------------------------------------------------------------------------------
    approvers, persona_roles = _people(context)

    context.exports.update(
        {
            "releaseKeyArn": release_key.arn,
            "releaseBucket": release_bucket.name,
            "eventBusArn": bus.arn,
            "modelTriggerFunctionArn": trigger.function.arn,
            "deployPipelines": pipelines,
            "imagePipeline": images.pipeline.name,
            "repositoryUrls": registry.repository_urls,
            "servingDeployerRoleArn": roles.deployer_role.arn,
            "releaseApproverRoleArns": approvers,
            "personaRoleArns": persona_roles,
            "deploymentPortfolioId": product.portfolio.id,
            "approvalTopicArn": approval_topic.arn,
        }
    )


def _release_key(context: AccountContext) -> PlatformKey:
    """The key of the release path: images, the model bus, the trigger, pipelines and the approval topic."""
    org, account = context.settings.org, context.settings.account_id
    p = org.platform_name
    key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    return PlatformKey(
        "res-release",
        PlatformKeyArgs(
            account_id=account,
            alias=naming.kms_alias(org, "release"),
            description=f"{p} res: images, model events, release pipelines and approvals",
            users=[KeyUser(account, [f"arn:aws:iam::{account}:role/{p}-*", f"arn:aws:iam::{account}:role/{p}-product/*"])],
            # EventBridge encrypts the model bus (whose events come from EXP: held to the bus by the
            # encryption context) and writes the trigger's dead letters (held to this account).
            services=[
                ServiceUse("events.amazonaws.com", key_actions,
                           {"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": naming.event_bus_arn(org)}}),
                ServiceUse("events.amazonaws.com", key_actions, {"StringEquals": {"aws:SourceAccount": account}}),
            ],
        ),
        opts=context.opts,
    )


def _workloads_security_group(context: AccountContext) -> aws.ec2.SecurityGroup:
    """The trigger Lambda's and the release builds' security group: HTTPS to the endpoints and S3 only."""
    settings = context.settings
    p, region = settings.org.platform_name, settings.org.region
    s3_prefix_list = aws.ec2.get_prefix_list_output(
        name=f"com.amazonaws.{region}.s3", opts=pulumi.InvokeOptions(provider=context.provider)
    )
    return aws.ec2.SecurityGroup(
        "res-release-workloads",
        aws.ec2.SecurityGroupArgs(
            name=f"{p}-release-workloads",
            description="Trigger Lambda and release builds: HTTPS to the VPC endpoints and S3 only",
            vpc_id=context.baseline.network.vpc_id,
            ingress=[],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="interface endpoints", protocol="tcp", from_port=443, to_port=443,
                    cidr_blocks=[settings.config.vpc_cidr],
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    description="S3 gateway endpoint", protocol="tcp", from_port=443, to_port=443,
                    prefix_list_ids=[s3_prefix_list.id],
                ),
            ],
            tags={"Name": f"{p}-release-workloads"},
        ),
        opts=context.opts,
    )


def _people(context: AccountContext) -> tuple[dict[str, pulumi.Output[str]], dict[str, pulumi.Output[str]]]:
    """Federated sign-in roles in RES: release approvers per stage, DevOps and auditor personas."""
    org, account, opts = context.settings.org, context.settings.account_id, context.opts
    approvers: dict[str, pulumi.Output[str]] = {}
    for stage, personas in RELEASE_APPROVERS.items():
        people = sorted({name for persona in personas for name in persona_user_names(org, persona)})
        if not people:
            continue
        role = PersonaRole(
            f"res-release-approver-{stage}",
            PersonaRoleArgs(
                role_name=naming.release_approver_role_name(org, stage),
                persona=f"approver-{stage}",
                trust_policy=sign_in_trust_policy(org, account, list(personas), people),
                policies={"approve-release": approver_policy(org, stage)},
                description=f"Approves promotions into {stage.upper()} ({', '.join(personas)})",
            ),
            opts=opts,
        )
        approvers[stage] = role.arn

    persona_roles: dict[str, pulumi.Output[str]] = {}
    for persona, level in RES_ACCESS.items():
        people = persona_user_names(org, persona)
        document = res_persona_policy(org, persona)
        if not people or document is None:
            continue
        role = PersonaRole(
            f"res-persona-{persona.replace('_', '-')}",
            PersonaRoleArgs(
                role_name=naming.persona_role_name(org, persona),
                persona=persona,
                trust_policy=sign_in_trust_policy(org, account, [persona], people),
                policies={"release-access": document},
                description=f"{persona} in RES: {level}",
            ),
            opts=opts,
        )
        persona_roles[persona] = role.arn
    return approvers, persona_roles


def _topic_policy(topic_arn: str, account: str, publisher_arn: str) -> str:
    """Only the release pipeline role publishes approval requests; TLS only."""
    return json.dumps(
        policy_document(
            [
                statement("ReleasePipelinePublishes", ["sns:Publish"], topic_arn,
                          principal={"AWS": naming.account_root(account)},
                          condition={"ArnEquals": {"aws:PrincipalArn": publisher_arn}}),
                statement("DenyInsecureTransport", ["sns:Publish"], topic_arn, effect="Deny", principal={"AWS": "*"},
                          condition={"Bool": {"aws:SecureTransport": "false"}}),
            ]
        )
    )
