"""Per model project, the RES CodePipeline (V2) that promotes one model package version DEV -> INT -> PROD.

Stages, in order (:func:`stage_specs`, shared with the "Model Deployment" product's template)::

    Source -> DeployDev -> TestDev -> ApproveInt -> DeployInt -> TestInt -> ApproveProd -> DeployProd

* **Started by the trigger Lambda** with the pipeline variable ``MODEL_PACKAGE_ARN`` (EventBridge
  cannot hand event fields to CodePipeline; V2 triggers are git-only). The variable has no default:
  a start without a package ARN fails in the first deploy action.
* **Execution mode QUEUED**: each version runs to completion in arrival order. SUPERSEDED would
  cancel a version waiting at a manual approval as soon as the next version arrives (approvers could
  never promote a version once a newer one exists, even if the newer one fails its tests); PARALLEL
  would let two versions deploy to the same serving stack at once. The cost of QUEUED: a version
  waits behind an unanswered approval, so approvers reject stale versions rather than ignore them.
* **Source**: CodePipeline requires a source stage. It is an S3 source of the *deployer bundle*
  (the ``serving/`` program, the organisation file, the policy pack and its configs) that the res
  stack uploads with Pulumi; ``PollForSourceChanges`` is off, so a new bundle never starts a run by
  itself: only the trigger does. Each run deploys with the bundle current at its start.
* **Deploy and test actions** are CodeBuild projects in the RES VPC running the deploy image from
  ECR (Pulumi CLI and the pinned ``pulumi-resource-aws`` plugin inside; nothing is downloaded at
  build time), as the serving deployer role, KMS-encrypted, logging to pre-created log groups.
* **Approvals** notify an encrypted SNS topic; only the release approver role of the stage may
  answer (its ``codepipeline:PutApprovalResult`` names ``<pipeline>/<stage>/Approve``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

PIPELINE_VARIABLE = "MODEL_PACKAGE_ARN"
EXECUTION_MODE = "QUEUED"
SOURCE_ARTIFACT = "bundle"
APPROVAL_ACTION = "Approve"
#: Stage of each manual approval (the stage it promotes into -> pipeline stage name).
APPROVAL_STAGES = {"int": "ApproveInt", "prod": "ApproveProd"}
#: The longest blue/green deployment a serving stack may ask for: the upper bound of
#: ``maximumExecutionTimeoutSeconds`` in ``serving/serving_settings.py`` (a test holds them equal).
MAX_BLUE_GREEN_SECONDS = 14400
#: A deploy action's time besides the blue/green itself: image start, preview and policy pack, the
#: other serving resources, new instances coming up. A deploy killed mid-update leaves a pending
#: operation and a lock in the state bucket, so the action outlasts the longest deployment.
DEPLOY_OVERHEAD_MINUTES = 30
BUILD_TIMEOUT_MINUTES = MAX_BLUE_GREEN_SECONDS // 60 + DEPLOY_OVERHEAD_MINUTES
TEST_TIMEOUT_MINUTES = 20
COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
#: Where the deployer bundle lives in the artifact bucket.
BUNDLE_KEY = "deployer/bundle.zip"
#: The Python environment inside the deploy image (images/deploy/Dockerfile).
IMAGE_VENV = "/opt/venv"


@dataclass(frozen=True)
class ActionSpec:
    """One pipeline action, independent of how it is declared (Pulumi or CloudFormation)."""

    name: str
    kind: str
    """``source``, ``deploy``, ``test`` or ``approval``."""
    stage: str | None = None
    """The account stage (dev, int, prod) a deploy, test or approval is about."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    actions: tuple[ActionSpec, ...]


def stage_specs() -> list[StageSpec]:
    """The promotion order (pure; the single source for the pipeline, the product and the docs)."""
    return [
        StageSpec("Source", (ActionSpec("Bundle", "source"),)),
        StageSpec("DeployDev", (ActionSpec("Deploy", "deploy", "dev"),)),
        StageSpec("TestDev", (ActionSpec("SmokeAndLatency", "test", "dev"),)),
        StageSpec(APPROVAL_STAGES["int"], (ActionSpec(APPROVAL_ACTION, "approval", "int"),)),
        StageSpec("DeployInt", (ActionSpec("Deploy", "deploy", "int"),)),
        StageSpec("TestInt", (ActionSpec("SmokeAndLatency", "test", "int"),)),
        StageSpec(APPROVAL_STAGES["prod"], (ActionSpec(APPROVAL_ACTION, "approval", "prod"),)),
        StageSpec("DeployProd", (ActionSpec("Deploy", "deploy", "prod"),)),
    ]


def build_actions() -> list[ActionSpec]:
    """The deploy and test actions, each backed by its own CodeBuild project."""
    return [a for s in stage_specs() for a in s.actions if a.kind in ("deploy", "test")]


def codebuild_project_name(platform_name: str, project: str, action: ActionSpec) -> str:
    return f"{platform_name}-{project}-{action.kind}-{action.stage}"


def approval_action_arn(region: str, account: str, pipeline: str, stage: str) -> str:
    """ARN of the manual approval that promotes into ``stage`` (what ``PutApprovalResult`` is scoped to)."""
    return f"arn:aws:codepipeline:{region}:{account}:{pipeline}/{APPROVAL_STAGES[stage]}/{APPROVAL_ACTION}"


def deploy_command(project: str, stage: str) -> str:
    return f"mlops-platform deploy model --project {project} --stage {stage} --model-package-arn \"${PIPELINE_VARIABLE}\""


def test_command(project: str, stage: str) -> str:
    return f"python /opt/mlops/smoke_test.py --project {project} --stage {stage} --model-package-arn \"${PIPELINE_VARIABLE}\""


def buildspec(project: str, action: ActionSpec) -> str:
    """The inline buildspec of a deploy or test action (pure). Runs from the bundle's root."""
    command = deploy_command(project, action.stage) if action.kind == "deploy" else test_command(project, action.stage)
    spec = {
        "version": 0.2,
        "env": {"shell": "bash"},
        "phases": {
            "build": {
                "commands": [
                    # A start without a package ARN (e.g. "Release change" in the console) stops here.
                    f'test -n "${PIPELINE_VARIABLE}" || {{ echo "error: pipeline variable {PIPELINE_VARIABLE} is empty"; exit 2; }}',
                    'export MLOPS_PLATFORM_ROOT="$CODEBUILD_SRC_DIR"',
                    # The bundle's packages before the image's copies; serving/ uses ../.venv (the image's venv).
                    'export PYTHONPATH="$CODEBUILD_SRC_DIR:$CODEBUILD_SRC_DIR/policies"',
                    f'ln -sfn "{IMAGE_VENV}" "$CODEBUILD_SRC_DIR/.venv"',
                    command,
                ]
            }
        },
    }
    return json.dumps(spec, indent=2)


def state_backend_url(state_bucket: str, region: str) -> str:
    """The RES state bucket as the deployer's backend (``PULUMI_BACKEND_URL``)."""
    return f"s3://{state_bucket}?region={region}"


def build_environment_variables(backend_url: str) -> dict[str, str]:
    """Plain variables of every deploy/test project; the package ARN comes from the action."""
    return {"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_SKIP_CONFIRMATIONS": "true", "PULUMI_BACKEND_URL": backend_url}


def action_environment(stage: str) -> str:
    """The action's ``EnvironmentVariables``: the pipeline variable and the stage, as CodePipeline expects (JSON)."""
    return json.dumps(
        [
            {"name": PIPELINE_VARIABLE, "value": f"#{{variables.{PIPELINE_VARIABLE}}}", "type": "PLAINTEXT"},
            {"name": "MLOPS_STAGE", "value": stage, "type": "PLAINTEXT"},
        ]
    )


def approval_custom_data(project: str, stage: str) -> str:
    return (
        f"Promote model package #{{variables.{PIPELINE_VARIABLE}}} of {project} to {stage.upper()}? "
        "Reject stale versions: the pipeline is QUEUED and later versions wait behind this approval."
    )


@dataclass
class PromotionSettings:
    """What every deploy pipeline in RES runs with: the config-driven ones (:class:`PromotionPipeline`)
    and those the "Model Deployment" product makes (:mod:`components.deployment_product`)."""

    platform_name: str
    """Prefix of the build projects' names."""
    artifact_bucket: pulumi.Input[str]
    """Artifact store and source of the deployer bundle (a SecureBucket, versioned)."""
    bundle_key: str
    """The deployer bundle's key in the artifact bucket (:data:`BUNDLE_KEY`)."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the artifact store and the builds."""
    logs_key_arn: pulumi.Input[str]
    """Encrypts the builds' log groups."""
    deployer_role_arn: pulumi.Input[str]
    """The serving deployer role (the only principal the stage deployment roles trust)."""
    approval_topic_arn: pulumi.Input[str]
    """Where the manual approvals notify."""
    deploy_image: str
    """``<res>.dkr.ecr.<region>.amazonaws.com/<p>/deploy:<tag>``."""
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_ids: list[pulumi.Input[str]]
    """Network of the deploy and test builds (the RES VPC)."""
    backend_url: str
    """Where the serving stacks' state lives (:func:`state_backend_url`)."""
    log_retention_days: int = 365


@dataclass
class PromotionPipelineArgs:
    """Inputs of a :class:`PromotionPipeline`."""

    pipeline_name: str
    """``naming.deploy_pipeline_name(org, group)``: the trigger finds the pipeline by this rule."""
    project: str
    pipeline_role_arn: pulumi.Input[str]
    promotion: PromotionSettings
    """Bucket, bundle, keys, deployer, approvals, image, network and backend shared by every pipeline."""
    tags: dict[str, str] = field(default_factory=dict)


class PromotionPipeline(pulumi.ComponentResource):
    """The deploy pipeline of one model project and its CodeBuild projects."""

    pipeline: aws.codepipeline.Pipeline
    build_projects: dict[str, aws.codebuild.Project]
    """``<kind>-<stage>`` -> project."""

    def __init__(self, name: str, args: PromotionPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:PromotionPipeline", name, None, opts)
        self.build_projects = {}
        for action in build_actions():
            key = f"{action.kind}-{action.stage}"
            self.build_projects[key] = self._build_project(f"{name}-{key}", action, args)

        stages = []
        for spec in stage_specs():
            stages.append(
                aws.codepipeline.PipelineStageArgs(
                    name=spec.name, actions=[self._action(a, args) for a in spec.actions]
                )
            )
        self.pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            aws.codepipeline.PipelineArgs(
                name=args.pipeline_name,
                pipeline_type="V2",
                execution_mode=EXECUTION_MODE,
                role_arn=args.pipeline_role_arn,
                artifact_stores=[
                    aws.codepipeline.PipelineArtifactStoreArgs(
                        location=args.promotion.artifact_bucket,
                        type="S3",
                        encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(
                            id=args.promotion.kms_key_arn, type="KMS"
                        ),
                    )
                ],
                variables=[
                    aws.codepipeline.PipelineVariableArgs(
                        name=PIPELINE_VARIABLE,
                        description="ARN of the model package version to promote (set by the trigger Lambda)",
                    )
                ],
                stages=stages,
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.build_projects.values())),
        )
        self.register_outputs({"pipelineName": self.pipeline.name})

    def _build_project(self, name: str, action: ActionSpec, args: PromotionPipelineArgs) -> aws.codebuild.Project:
        project_name = codebuild_project_name(args.promotion.platform_name, args.project, action)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/codebuild/{project_name}",
                retention_in_days=args.promotion.log_retention_days,
                kms_key_id=args.promotion.logs_key_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.codebuild.Project(
            name,
            aws.codebuild.ProjectArgs(
                name=project_name,
                description=f"{action.kind} {args.project} in {action.stage.upper()}",
                service_role=args.promotion.deployer_role_arn,
                build_timeout=BUILD_TIMEOUT_MINUTES if action.kind == "deploy" else TEST_TIMEOUT_MINUTES,
                encryption_key=args.promotion.kms_key_arn,
                artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
                source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=buildspec(args.project, action)),
                environment=aws.codebuild.ProjectEnvironmentArgs(
                    compute_type=COMPUTE_TYPE,
                    type="LINUX_CONTAINER",
                    image=args.promotion.deploy_image,
                    image_pull_credentials_type="SERVICE_ROLE",
                    privileged_mode=False,
                    environment_variables=[
                        aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=k, value=v, type="PLAINTEXT")
                        for k, v in build_environment_variables(args.promotion.backend_url).items()
                    ],
                ),
                vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                    vpc_id=args.promotion.vpc_id, subnets=args.promotion.subnet_ids, security_group_ids=args.promotion.security_group_ids
                ),
                logs_config=aws.codebuild.ProjectLogsConfigArgs(
                    cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                        status="ENABLED", group_name=log_group.name
                    ),
                    s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
                ),
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _action(self, action: ActionSpec, args: PromotionPipelineArgs) -> aws.codepipeline.PipelineStageActionArgs:
        if action.kind == "source":
            return aws.codepipeline.PipelineStageActionArgs(
                name=action.name,
                category="Source",
                owner="AWS",
                provider="S3",
                version="1",
                output_artifacts=[SOURCE_ARTIFACT],
                configuration={
                    "S3Bucket": args.promotion.artifact_bucket,
                    "S3ObjectKey": args.promotion.bundle_key,
                    "PollForSourceChanges": "false",
                },
            )
        if action.kind == "approval":
            return aws.codepipeline.PipelineStageActionArgs(
                name=action.name,
                category="Approval",
                owner="AWS",
                provider="Manual",
                version="1",
                configuration={
                    "NotificationArn": args.promotion.approval_topic_arn,
                    "CustomData": approval_custom_data(args.project, action.stage),
                },
            )
        project = self.build_projects[f"{action.kind}-{action.stage}"]
        return aws.codepipeline.PipelineStageActionArgs(
            name=action.name,
            category="Test" if action.kind == "test" else "Build",
            owner="AWS",
            provider="CodeBuild",
            version="1",
            input_artifacts=[SOURCE_ARTIFACT],
            configuration={"ProjectName": project.name, "EnvironmentVariables": action_environment(action.stage)},
        )
