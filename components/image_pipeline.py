"""The RES image pipeline: build, test, scan and promote the platform's container images.

The reference design "scans, tests, and builds the images before pushing them to a central Amazon
ECR registry". Here, all in RES (where the registry's enhanced scanning and pull-through cache are)::

    Source (repository bundle + toolchain) -> BuildAndTest -> ScanGate -> Promote

* **Source**: two S3 source actions. ``images/source.zip`` is this repository's image sources,
  uploaded by the res stack with Pulumi (an S3 event starts the pipeline when it changes);
  ``toolchain/pulumi-toolchain.zip`` is the Pulumi CLI, the pinned ``pulumi-resource-aws`` plugin
  and a wheelhouse for ``constraints.txt``, staged by ``mlops-platform bootstrap`` (isolated builds
  download nothing).
* **BuildAndTest** (privileged: Docker): builds ``images/deploy`` and ``images/inference`` from base
  images pulled through the ECR Public cache, runs each image's tests inside it, pushes to the
  quarantine repositories with the tag from ``images/<image>/VERSION``.
* **ScanGate** (unprivileged): waits for the scan of each quarantined image and fails on any
  CRITICAL finding (``images/scan_gate.py``).
* **Promote** (the image-build project again, ``IMAGE_STEP=promote``): copies the scanned images to
  the release repositories under the same tag. Tags are immutable, so a VERSION that was already released is skipped, never overwritten.

Only ``<p>-image-builder`` may push to the platform repositories (their policies deny everyone else).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.registry import PULL_ACTIONS, PULL_THROUGH_PREFIX, PUSH_ACTIONS

#: CodeBuild's own managed image (pulled from CodeBuild's registry, not from a public one).
BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
SOURCE_KEY = "images/source.zip"
TOOLCHAIN_KEY = "toolchain/pulumi-toolchain.zip"
#: CodeBuild projects: suffix -> (buildspec in the source, privileged). Docker runs only in the one
#: image-build project (allow-listed in the guardrail pack's ``privilegedProjects``).
PROJECTS: dict[str, tuple[str, bool]] = {
    "image-build": ("images/buildspecs/image-build.yml", True),
    "image-scan-gate": ("images/buildspecs/scan-gate.yml", False),
}
#: The pipeline's steps after the source stage: (stage, project suffix, IMAGE_STEP for the buildspec).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("BuildAndTest", "image-build", "build"),
    ("ScanGate", "image-scan-gate", "scan-gate"),
    ("Promote", "image-build", "promote"),
)
SOURCE_ARTIFACT = "repository"
TOOLCHAIN_ARTIFACT = "toolchain"


def privileged_project_names(platform_name: str) -> list[str]:
    """Image-builder projects that need Docker (the guardrail pack's ``privilegedProjects``)."""
    return [f"{platform_name}-{suffix}" for suffix, (_, privileged) in PROJECTS.items() if privileged]


@dataclass
class ImagePipelineArgs:
    """Inputs of an :class:`ImagePipeline`."""

    platform_name: str
    account_id: str
    region: str
    role_name: str
    """``naming.image_pipeline_role_name(org)``: the only pusher."""
    images: dict[str, tuple[str, str]]
    """Image -> (quarantine repository, release repository)."""
    artifact_bucket: pulumi.Input[str]
    """The release bucket: both source objects and the artifact store."""
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    pipeline_role_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_ids: list[pulumi.Input[str]]
    log_retention_days: int = 365


def builder_policy(region: str, account: str, platform_name: str, repositories: list[str], bucket: str,
                   key_arn: str) -> dict[str, Any]:
    """The image builder's permissions (pure)."""
    repo = lambda name: f"arn:aws:ecr:{region}:{account}:repository/{name}"  # noqa: E731
    return policy_document(
        [
            statement("PushAndPullPlatformImages",
                      [*PUSH_ACTIONS, *PULL_ACTIONS, "ecr:DescribeImageScanFindings", "ecr:DescribeImages"],
                      sorted(repo(r) for r in repositories)),
            # The first pull of a cached base image creates its repository and imports the image.
            statement("PullBaseImagesThroughTheCache",
                      [*PULL_ACTIONS, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                      repo(f"{PULL_THROUGH_PREFIX}/*")),
            statement("EcrToken", ["ecr:GetAuthorizationToken"], "*"),
            statement("ReadSources", ["s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                      [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]),
            statement("UseReleaseKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], key_arn),
            statement("WriteBuildLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                      f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{platform_name}-image-*"),
            statement("CodeBuildInVpc", [
                "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
            ], "*"),
            statement("CodeBuildEniPermission", ["ec2:CreateNetworkInterfacePermission"],
                      f"arn:aws:ec2:{region}:{account}:network-interface/*",
                      condition={"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}}),
        ]
    )


def stage_names() -> list[str]:
    return ["Source", *(stage for stage, _, _ in STEPS)]


def repository_variable(kind: str, image: str) -> str:
    """The build's variable naming ``image``'s repository: ``RELEASE_BATCH_INFERENCE`` for ``batch-inference``.

    A shell variable name (letters, digits, ``_``): images/build.sh's ``repo_var`` derives the same name.
    """
    return f"{kind}_{re.sub(r'[^A-Za-z0-9]', '_', image).upper()}"


class ImagePipeline(pulumi.ComponentResource):
    """CodePipeline + CodeBuild that build, test, scan and promote the platform images."""

    pipeline: aws.codepipeline.Pipeline
    role: aws.iam.Role

    def __init__(self, name: str, args: ImagePipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:ImagePipeline", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        registry = f"{args.account_id}.dkr.ecr.{args.region}.amazonaws.com"
        repositories = [r for pair in args.images.values() for r in pair]
        self.role = role_with_policy(
            f"{name}-role",
            role_name=args.role_name,
            description="Builds, tests and pushes the platform images (the only pusher)",
            trust_policy=service_trust_policy("codebuild.amazonaws.com", args.account_id),
            policy=pulumi.Output.all(args.artifact_bucket, args.kms_key_arn).apply(
                lambda v: builder_policy(args.region, args.account_id, args.platform_name, repositories, v[0], v[1])
            ),
            opts=here,
        ).role
        variables = {
            "REGISTRY": registry,
            "IMAGES": " ".join(sorted(args.images)),
            "CACHE_PREFIX": f"{registry}/{PULL_THROUGH_PREFIX}",
            **{repository_variable("QUARANTINE", image): pair[0] for image, pair in args.images.items()},
            **{repository_variable("RELEASE", image): pair[1] for image, pair in args.images.items()},
        }
        projects = {}
        for suffix, (spec_path, privileged) in PROJECTS.items():
            project_name = f"{args.platform_name}-{suffix}"
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-{suffix}-logs",
                aws.cloudwatch.LogGroupArgs(
                    name=f"/aws/codebuild/{project_name}", retention_in_days=args.log_retention_days,
                    kms_key_id=args.logs_key_arn,
                ),
                opts=here,
            )
            projects[suffix] = aws.codebuild.Project(
                f"{name}-{suffix}",
                aws.codebuild.ProjectArgs(
                    name=project_name,
                    description=f"Image pipeline: {suffix}",
                    service_role=self.role.arn,
                    build_timeout=60,
                    encryption_key=args.kms_key_arn,
                    artifacts=aws.codebuild.ProjectArtifactsArgs(type="CODEPIPELINE"),
                    source=aws.codebuild.ProjectSourceArgs(type="CODEPIPELINE", buildspec=spec_path),
                    environment=aws.codebuild.ProjectEnvironmentArgs(
                        compute_type="BUILD_GENERAL1_MEDIUM",
                        type="LINUX_CONTAINER",
                        image=BUILD_IMAGE,
                        image_pull_credentials_type="CODEBUILD",
                        # Docker needs it; only the image-build project has it (allow-listed).
                        privileged_mode=privileged,
                        environment_variables=[
                            aws.codebuild.ProjectEnvironmentEnvironmentVariableArgs(name=k, value=v, type="PLAINTEXT")
                            for k, v in sorted(variables.items())
                        ],
                    ),
                    vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                        vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=args.security_group_ids
                    ),
                    logs_config=aws.codebuild.ProjectLogsConfigArgs(
                        cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(status="ENABLED", group_name=log_group.name),
                        s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
            )

        def codebuild(stage: str, suffix: str, step: str) -> aws.codepipeline.PipelineStageActionArgs:
            return aws.codepipeline.PipelineStageActionArgs(
                name=stage, category="Test" if step == "scan-gate" else "Build", owner="AWS", provider="CodeBuild",
                version="1", input_artifacts=[SOURCE_ARTIFACT, TOOLCHAIN_ARTIFACT],
                configuration={
                    "ProjectName": projects[suffix].name,
                    "PrimarySource": SOURCE_ARTIFACT,
                    "EnvironmentVariables": json.dumps([{"name": "IMAGE_STEP", "value": step, "type": "PLAINTEXT"}]),
                },
            )

        def s3_source(action: str, key: str, artifact: str) -> aws.codepipeline.PipelineStageActionArgs:
            return aws.codepipeline.PipelineStageActionArgs(
                name=action, category="Source", owner="AWS", provider="S3", version="1",
                output_artifacts=[artifact],
                configuration={"S3Bucket": args.artifact_bucket, "S3ObjectKey": key, "PollForSourceChanges": "false"},
            )

        self.pipeline = aws.codepipeline.Pipeline(
            f"{name}-pipeline",
            aws.codepipeline.PipelineArgs(
                name=f"{args.platform_name}-images",
                pipeline_type="V2",
                # A newer source supersedes an older one: only the latest images matter.
                execution_mode="SUPERSEDED",
                role_arn=args.pipeline_role_arn,
                artifact_stores=[
                    aws.codepipeline.PipelineArtifactStoreArgs(
                        location=args.artifact_bucket, type="S3",
                        encryption_key=aws.codepipeline.PipelineArtifactStoreEncryptionKeyArgs(id=args.kms_key_arn, type="KMS"),
                    )
                ],
                stages=[
                    aws.codepipeline.PipelineStageArgs(
                        name="Source",
                        actions=[s3_source("Repository", SOURCE_KEY, SOURCE_ARTIFACT),
                                 s3_source("Toolchain", TOOLCHAIN_KEY, TOOLCHAIN_ARTIFACT)],
                    ),
                    *(aws.codepipeline.PipelineStageArgs(name=stage, actions=[codebuild(stage, suffix, step)])
                      for stage, suffix, step in STEPS),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(projects.values())),
        )
        self._start_on_new_source(name, args)
        self.register_outputs({"pipelineName": self.pipeline.name, "roleArn": self.role.arn})

    def _start_on_new_source(self, name: str, args: ImagePipelineArgs) -> None:
        """An upload of a new image source bundle starts the pipeline (S3 -> EventBridge -> CodePipeline)."""
        role = role_with_policy(
            f"{name}-start-role",
            role_name=f"{args.platform_name}-image-pipeline-start",
            description="EventBridge starts the image pipeline when its source changes",
            trust_policy=service_trust_policy("events.amazonaws.com", args.account_id),
            policy_resource_name=f"{name}-start-policy",
            policy=self.pipeline.arn.apply(
                lambda arn: policy_document([statement("StartImagePipeline", ["codepipeline:StartPipelineExecution"], arn)])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        rule = aws.cloudwatch.EventRule(
            f"{name}-source-changed",
            aws.cloudwatch.EventRuleArgs(
                name=f"{args.platform_name}-image-source-changed",
                description="A new image source bundle was uploaded",
                event_pattern=pulumi.Output.from_input(args.artifact_bucket).apply(
                    lambda bucket: json.dumps({
                        "source": ["aws.s3"],
                        "detail-type": ["Object Created"],
                        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [SOURCE_KEY, TOOLCHAIN_KEY]}},
                    })
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-source-changed-target",
            aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=self.pipeline.arn, role_arn=role.arn),
            opts=pulumi.ResourceOptions(parent=rule),
        )
