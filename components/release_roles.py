"""RES roles of the release path: the serving deployer (CodeBuild) and the deploy pipelines' service role.

* ``<p>-serving-deployer`` runs every deploy and test action. It is the only principal the stage
  deployment roles trust; it reads the Pulumi state in RES (through the S3 endpoint, see bootstrap),
  reads model packages in EXP, pulls the deploy image and assumes ``<p>-serving-deploy`` in DEV,
  INT and PROD. Nothing else: it has no rights in the stage accounts by itself.
* ``<p>-release-pipeline`` is CodePipeline's service role: artifacts, starting the CodeBuild
  projects of the platform, notifying approvers.

Policies are pure functions of their inputs, tested without Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.registry import PULL_ACTIONS

#: Pulumi project names (``Pulumi.yaml`` of the platform and ``serving/Pulumi.yaml``): the DIY backend
#: keeps each project's stacks under ``.pulumi/{stacks,history,backups}/<project>/``.
PLATFORM_PROJECT = "mlops-platform"
SERVING_PROJECT = "mlops-serving"
CODEBUILD_VPC_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]


@dataclass(frozen=True)
class ReleaseNames:
    """Everything the release roles' policies name (plain strings, known before deployment)."""

    platform_name: str
    region: str
    res_account: str
    exp_account: str
    deployer_role_name: str
    pipeline_role_name: str
    stage_deployment_role_arns: list[str]
    """``<p>-serving-deploy`` in DEV, INT and PROD."""
    state_bucket: str
    state_key_alias: str
    deploy_repository: str
    """Released deploy image repository name."""


def bucket_arns(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def deployer_policy(names: ReleaseNames, artifact_bucket: str, release_key_arn: str) -> dict[str, Any]:
    """The serving deployer's permissions (pure)."""
    region, res = names.region, names.res_account
    return policy_document(
        [
            statement("AssumeStageDeploymentRoles", ["sts:AssumeRole"], names.stage_deployment_role_arns),
            statement(
                "ReadModelPackagesInExp",
                ["sagemaker:DescribeModelPackage"],
                f"arn:aws:sagemaker:{region}:{names.exp_account}:model-package/*",
            ),
            # Serving stacks only: their state, history, backups and locks; platform stacks are read
            # (the serving program's StackReferences), never written.
            statement(
                "ServingStackState",
                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                [f"arn:aws:s3:::{names.state_bucket}/.pulumi/{part}/{SERVING_PROJECT}/*" for part in ("backups", "history", "stacks")]
                + [f"arn:aws:s3:::{names.state_bucket}/.pulumi/locks/*"],
            ),
            statement(
                "ReadPlatformStackOutputs",
                ["s3:GetObject"],
                [f"arn:aws:s3:::{names.state_bucket}/.pulumi/meta.yaml",
                 f"arn:aws:s3:::{names.state_bucket}/.pulumi/stacks/{PLATFORM_PROJECT}/*"],
            ),
            statement("PulumiStateBucket", ["s3:GetBucketLocation", "s3:ListBucket"], f"arn:aws:s3:::{names.state_bucket}"),
            statement(
                "PulumiStateKey",
                ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                f"arn:aws:kms:{region}:{res}:key/*",
                condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": names.state_key_alias}},
            ),
            statement(
                "ReadDeployerBundle",
                ["s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion"],
                bucket_arns(artifact_bucket),
            ),
            statement("UseReleaseKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], release_key_arn),
            statement(
                "WriteBuildLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"arn:aws:logs:{region}:{res}:log-group:/aws/codebuild/{names.platform_name}-*",
            ),
            # GetAuthorizationToken has no resource-level permissions.
            statement("EcrToken", ["ecr:GetAuthorizationToken"], "*"),
            statement(
                "PullDeployImage",
                PULL_ACTIONS,
                f"arn:aws:ecr:{region}:{res}:repository/{names.deploy_repository}",
            ),
            # CodeBuild attaches the build to the VPC; the describe/create ENI actions have no resource scope.
            statement("CodeBuildInVpc", CODEBUILD_VPC_ACTIONS, "*"),
            statement(
                "CodeBuildEniPermission",
                ["ec2:CreateNetworkInterfacePermission"],
                f"arn:aws:ec2:{region}:{res}:network-interface/*",
                condition={"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}},
            ),
        ]
    )


def pipeline_policy(names: ReleaseNames, artifact_bucket: str, release_key_arn: str, topic_arn: str) -> dict[str, Any]:
    """The deploy pipelines' service role (pure)."""
    region, res = names.region, names.res_account
    return policy_document(
        [
            statement(
                "Artifacts",
                ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                bucket_arns(artifact_bucket),
            ),
            statement(
                "RunPlatformBuilds",
                ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
                f"arn:aws:codebuild:{region}:{res}:project/{names.platform_name}-*",
            ),
            statement("NotifyApprovers", ["sns:Publish"], topic_arn),
            statement("UseReleaseKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], release_key_arn),
        ]
    )


@dataclass
class ReleaseRolesArgs:
    """Inputs of :class:`ReleaseRoles`."""

    names: ReleaseNames
    artifact_bucket: pulumi.Input[str]
    release_key_arn: pulumi.Input[str]
    approval_topic_arn: pulumi.Input[str]


class ReleaseRoles(pulumi.ComponentResource):
    """The serving deployer role and the deploy pipelines' service role."""

    deployer_role: aws.iam.Role
    pipeline_role: aws.iam.Role

    def __init__(self, name: str, args: ReleaseRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:ReleaseRoles", name, None, opts)
        names = args.names
        self.deployer_role = role_with_policy(
            f"{name}-deployer",
            role_name=names.deployer_role_name,
            description="RES CodeBuild: runs mlops-platform deploy model and the smoke tests",
            trust_policy=service_trust_policy("codebuild.amazonaws.com", names.res_account),
            max_session_duration=3600,
            policy=pulumi.Output.all(args.artifact_bucket, args.release_key_arn).apply(
                lambda v: deployer_policy(names, v[0], v[1])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        self.pipeline_role = role_with_policy(
            f"{name}-pipeline",
            role_name=names.pipeline_role_name,
            description="RES CodePipeline: the model deploy pipelines",
            trust_policy=service_trust_policy("codepipeline.amazonaws.com", names.res_account),
            policy=pulumi.Output.all(args.artifact_bucket, args.release_key_arn, args.approval_topic_arn).apply(
                lambda v: pipeline_policy(names, v[0], v[1], v[2])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        self.register_outputs({"deployerRoleArn": self.deployer_role.arn, "pipelineRoleArn": self.pipeline_role.arn})
