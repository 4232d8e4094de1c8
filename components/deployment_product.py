"""The "Model Deployment" Service Catalog product in RES (the reference design's self-service path).

A project lead or a DevOps engineer launches it with a project name; its CloudFormation template
(generated here, in Python, from the same :func:`components.promotion_pipeline.stage_specs` as the
config-driven pipelines) creates that project's deploy pipeline ``<p>-deploy-sc-<project>``: the same stages,
QUEUED, ``MODEL_PACKAGE_ARN`` variable, KMS artifact store, CodeBuild deploy and test projects in
the RES VPC running as the serving deployer, pre-created log groups. The ``sc-`` prefix keeps
product-made names disjoint from config-driven ones; the trigger finds both by the same rule
(``<p>-deploy-<model package group>``; product-made groups are ``sc-<project>``).

The launch role may create roles only under the path ``/<p>-product/`` and only if they carry the
product boundary (``iam:PermissionsBoundary`` condition); it passes those roles to CodePipeline and
the serving deployer role to CodeBuild, nothing else.

Limit: the serving roles of a project in DEV, INT and PROD are created by the platform stage stacks
from ``organization.yaml`` (IAM has no VPC endpoint for the isolated deploys), so a product-made
project also needs its entry there before its first deployment can succeed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.service_catalog import service_catalog_template_read
from components.promotion_pipeline import (
    BUILD_TIMEOUT_MINUTES,
    COMPUTE_TYPE,
    EXECUTION_MODE,
    PIPELINE_VARIABLE,
    SOURCE_ARTIFACT,
    PromotionSettings,
    TEST_TIMEOUT_MINUTES,
    ActionSpec,
    action_environment,
    approval_custom_data,
    build_actions,
    build_environment_variables,
    buildspec,
    stage_specs,
)

PRODUCT_NAME = "Model Deployment"
PROJECT_PLACEHOLDER = "@@PROJECT@@"
#: Product-made names: ``sc-<ProjectName>`` (disjoint from config-driven projects).
PRODUCT_PROJECT = {"Fn::Sub": "sc-${ProjectName}"}
TEMPLATE_PREFIX = "service-catalog/"


@dataclass(frozen=True)
class ProductTemplateValues:
    """What the generated template bakes in (plain values; the stack resolves Outputs first)."""

    platform_name: str
    region: str
    account_id: str
    artifact_bucket: str
    bundle_key: str
    kms_key_arn: str
    logs_key_arn: str
    deployer_role_arn: str
    approval_topic_arn: str
    deploy_image: str
    vpc_id: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    boundary_arn: str
    role_path: str
    backend_url: str
    log_retention_days: int = 365


def _with_project(text: str) -> Any:
    """``text`` with every placeholder replaced by ``sc-<ProjectName>`` (Fn::Join, no Fn::Sub parsing)."""
    parts = text.split(PROJECT_PLACEHOLDER)
    if len(parts) == 1:
        return text
    joined: list[Any] = []
    for index, part in enumerate(parts):
        if index:
            joined.append(PRODUCT_PROJECT)
        if part:
            joined.append(part)
    return {"Fn::Join": ["", joined]}


def _logical(action: ActionSpec) -> str:
    return f"{action.kind.capitalize()}{action.stage.capitalize()}"


def product_pipeline_role_policy(v: ProductTemplateValues) -> dict[str, Any]:
    return policy_document(
        [
            statement("Artifacts", ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetObject",
                                    "s3:GetObjectVersion", "s3:PutObject"],
                      [f"arn:aws:s3:::{v.artifact_bucket}", f"arn:aws:s3:::{v.artifact_bucket}/*"]),
            statement("RunProductBuilds", ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"],
                      f"arn:aws:codebuild:{v.region}:{v.account_id}:project/{v.platform_name}-sc-*"),
            statement("NotifyApprovers", ["sns:Publish"], v.approval_topic_arn),
            statement("UseReleaseKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], v.kms_key_arn),
        ]
    )


def deployment_product_template(v: ProductTemplateValues) -> dict[str, Any]:
    """The product's CloudFormation template (pure; cfn-lint clean)."""
    p = v.platform_name
    resources: dict[str, Any] = {
        "PipelineRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": f"{p}-release-sc-${{ProjectName}}"},
                "Path": v.role_path,
                "PermissionsBoundary": v.boundary_arn,
                "Description": "CodePipeline service role of a product-made deploy pipeline",
                "AssumeRolePolicyDocument": service_trust_policy("codepipeline.amazonaws.com", v.account_id),
                "Policies": [{"PolicyName": "release-pipeline", "PolicyDocument": product_pipeline_role_policy(v)}],
            },
        }
    }
    for action in build_actions():
        name = f"{p}-{PROJECT_PLACEHOLDER}-{action.kind}-{action.stage}"
        resources[f"{_logical(action)}Logs"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "LogGroupName": _with_project(f"/aws/codebuild/{name}"),
                "RetentionInDays": v.log_retention_days,
                "KmsKeyId": v.logs_key_arn,
            },
        }
        resources[f"{_logical(action)}Project"] = {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": _with_project(name),
                "Description": _with_project(f"{action.kind} {PROJECT_PLACEHOLDER} in {action.stage.upper()}"),
                "ServiceRole": v.deployer_role_arn,
                "EncryptionKey": v.kms_key_arn,
                "TimeoutInMinutes": BUILD_TIMEOUT_MINUTES if action.kind == "deploy" else TEST_TIMEOUT_MINUTES,
                "Artifacts": {"Type": "CODEPIPELINE"},
                "Source": {"Type": "CODEPIPELINE", "BuildSpec": _with_project(buildspec(PROJECT_PLACEHOLDER, action))},
                "Environment": {
                    "ComputeType": COMPUTE_TYPE,
                    "Type": "LINUX_CONTAINER",
                    "Image": v.deploy_image,
                    "ImagePullCredentialsType": "SERVICE_ROLE",
                    "PrivilegedMode": False,
                    "EnvironmentVariables": [
                        {"Name": k, "Value": val, "Type": "PLAINTEXT"} for k, val in build_environment_variables(v.backend_url).items()
                    ],
                },
                "VpcConfig": {"VpcId": v.vpc_id, "Subnets": v.subnet_ids, "SecurityGroupIds": v.security_group_ids},
                "LogsConfig": {
                    "CloudWatchLogs": {"Status": "ENABLED", "GroupName": {"Ref": f"{_logical(action)}Logs"}},
                    "S3Logs": {"Status": "DISABLED"},
                },
            },
        }
    stages = []
    for spec in stage_specs():
        actions = []
        for action in spec.actions:
            if action.kind == "source":
                item = {
                    "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
                    "Configuration": {"S3Bucket": v.artifact_bucket, "S3ObjectKey": v.bundle_key,
                                      "PollForSourceChanges": "false"},
                    "OutputArtifacts": [{"Name": SOURCE_ARTIFACT}],
                }
            elif action.kind == "approval":
                item = {
                    "ActionTypeId": {"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
                    "Configuration": {"NotificationArn": v.approval_topic_arn,
                                      "CustomData": _with_project(approval_custom_data(PROJECT_PLACEHOLDER, action.stage))},
                }
            else:
                item = {
                    "ActionTypeId": {"Category": "Test" if action.kind == "test" else "Build", "Owner": "AWS",
                                     "Provider": "CodeBuild", "Version": "1"},
                    "Configuration": {"ProjectName": {"Ref": f"{_logical(action)}Project"},
                                      "EnvironmentVariables": action_environment(action.stage)},
                    "InputArtifacts": [{"Name": SOURCE_ARTIFACT}],
                }
            actions.append({"Name": action.name, "RunOrder": 1, **item})
        stages.append({"Name": spec.name, "Actions": actions})
    resources["Pipeline"] = {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {
            "Name": {"Fn::Sub": f"{p}-deploy-sc-${{ProjectName}}"},
            "PipelineType": "V2",
            "ExecutionMode": EXECUTION_MODE,
            "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
            "ArtifactStore": {"Type": "S3", "Location": v.artifact_bucket,
                              "EncryptionKey": {"Id": v.kms_key_arn, "Type": "KMS"}},
            "Variables": [{"Name": PIPELINE_VARIABLE,
                           "Description": "ARN of the model package version to promote (set by the trigger Lambda)"}],
            "Stages": stages,
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{PRODUCT_NAME}: the promotion pipeline of one model project (DEV -> INT -> PROD)",
        "Parameters": {
            "ProjectName": {
                "Type": "String",
                "Description": "Model project; its model package group is sc-<ProjectName>",
                "AllowedPattern": "^[a-z][a-z0-9-]{2,20}[a-z0-9]$",
                "ConstraintDescription": "4-23 lower-case letters, digits and hyphens, starting with a letter",
            }
        },
        "Resources": resources,
        "Outputs": {"PipelineName": {"Description": "The deploy pipeline", "Value": {"Ref": "Pipeline"}}},
    }


def launch_role_policy(v: ProductTemplateValues, deployer_role_arn: str) -> dict[str, Any]:
    """What the launch role may do when CloudFormation provisions the product (pure)."""
    p, region, account = v.platform_name, v.region, v.account_id
    product_roles = f"arn:aws:iam::{account}:role{v.role_path}*"
    return policy_document(
        [
            statement("ProvisionStacks",
                      ["cloudformation:CreateStack", "cloudformation:DeleteStack", "cloudformation:DescribeStackEvents",
                       "cloudformation:DescribeStacks", "cloudformation:SetStackPolicy", "cloudformation:UpdateStack"],
                      f"arn:aws:cloudformation:{region}:{account}:stack/SC-*"),
            # Template validation has no resource-level permissions.
            statement("ValidateTemplates", ["cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"], "*"),
            statement("ReadTemplates", ["s3:GetObject"], f"arn:aws:s3:::{v.artifact_bucket}/{TEMPLATE_PREFIX}*"),
            service_catalog_template_read(),
            statement("CreateRolesOnlyWithTheBoundary",
                      ["iam:AttachRolePolicy", "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
                      product_roles,
                      condition={"StringEquals": {"iam:PermissionsBoundary": v.boundary_arn}}),
            statement("ManageProductRoles",
                      ["iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole",
                       "iam:GetRolePolicy", "iam:TagRole", "iam:UntagRole"],
                      product_roles),
            statement("PassProductRolesToCodePipeline", ["iam:PassRole"], product_roles,
                      condition={"StringEquals": {"iam:PassedToService": "codepipeline.amazonaws.com"}}),
            statement("PassDeployerToCodeBuild", ["iam:PassRole"], deployer_role_arn,
                      condition={"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}}),
            statement("ProductPipelines",
                      ["codepipeline:CreatePipeline", "codepipeline:DeletePipeline", "codepipeline:GetPipeline",
                       "codepipeline:GetPipelineState", "codepipeline:TagResource", "codepipeline:UntagResource",
                       "codepipeline:UpdatePipeline"],
                      f"arn:aws:codepipeline:{region}:{account}:{p}-deploy-sc-*"),
            statement("ProductBuildProjects",
                      ["codebuild:BatchGetProjects", "codebuild:CreateProject", "codebuild:DeleteProject",
                       "codebuild:UpdateProject"],
                      f"arn:aws:codebuild:{region}:{account}:project/{p}-sc-*"),
            statement("ProductLogGroups",
                      ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"],
                      f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{p}-sc-*"),
            statement("DescribeForValidation",
                      ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "logs:DescribeLogGroups"],
                      "*"),
            statement("UseTheKeys", ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                      sorted({v.kms_key_arn, v.logs_key_arn})),
        ]
    )


def product_boundary(v: ProductTemplateValues) -> dict[str, Any]:
    """The ceiling of every role the product creates: what a deploy pipeline role needs (pure)."""
    return product_pipeline_role_policy(v)


@dataclass
class DeploymentProductArgs:
    """Inputs of a :class:`DeploymentProduct`."""

    region: str
    account_id: str
    promotion: PromotionSettings
    """What the product-made pipelines run with: the same as the config-driven ones."""
    principal_patterns: list[str] = field(default_factory=list)
    """Who may launch it (Service Catalog ``IAM_PATTERN``s, e.g. the lead and DevOps persona roles)."""


class DeploymentProduct(pulumi.ComponentResource):
    """RES portfolio with the "Model Deployment" product, its launch role and the product boundary."""

    portfolio: aws.servicecatalog.Portfolio
    product: aws.servicecatalog.Product

    def __init__(self, name: str, args: DeploymentProductArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:DeploymentProduct", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        p = args.promotion.platform_name
        role_path = f"/{p}-product/"
        boundary_arn = f"arn:aws:iam::{args.account_id}:policy/{p}-product-boundary"

        def values(v: list[Any]) -> ProductTemplateValues:
            return ProductTemplateValues(
                platform_name=p, region=args.region, account_id=args.account_id, artifact_bucket=v[0],
                bundle_key=args.promotion.bundle_key, kms_key_arn=v[1], logs_key_arn=v[2], deployer_role_arn=v[3],
                approval_topic_arn=v[4], deploy_image=args.promotion.deploy_image, vpc_id=v[5], subnet_ids=list(v[6]),
                security_group_ids=list(v[7]), boundary_arn=boundary_arn, role_path=role_path,
                backend_url=args.promotion.backend_url, log_retention_days=args.promotion.log_retention_days,
            )

        resolved = pulumi.Output.all(
            args.promotion.artifact_bucket, args.promotion.kms_key_arn, args.promotion.logs_key_arn, args.promotion.deployer_role_arn,
            args.promotion.approval_topic_arn, args.promotion.vpc_id, pulumi.Output.all(*args.promotion.subnet_ids),
            pulumi.Output.all(*args.promotion.security_group_ids),
        ).apply(values)

        boundary = aws.iam.Policy(
            f"{name}-boundary",
            aws.iam.PolicyArgs(
                name=f"{p}-product-boundary",
                description="Ceiling of roles the Model Deployment product creates",
                policy=resolved.apply(lambda v: json.dumps(product_boundary(v))),
            ),
            opts=here,
        )
        launch_role = role_with_policy(
            f"{name}-launch-role",
            role_name=f"{p}-deployment-product-launch",
            path=role_path,
            description="Service Catalog launch role of the Model Deployment product",
            trust_policy=service_trust_policy("servicecatalog.amazonaws.com", args.account_id),
            policy_resource_name=f"{name}-launch-policy",
            policy=resolved.apply(lambda v: launch_role_policy(v, v.deployer_role_arn)),
            opts=here,
        ).role
        template = resolved.apply(lambda v: json.dumps(deployment_product_template(v), indent=1, sort_keys=True))
        template_key = template.apply(
            lambda text: f"{TEMPLATE_PREFIX}model-deployment-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
        )
        template_object = aws.s3.BucketObjectv2(
            f"{name}-template",
            aws.s3.BucketObjectv2Args(
                bucket=args.promotion.artifact_bucket, key=template_key, content=template, content_type="application/json",
                server_side_encryption="aws:kms", kms_key_id=args.promotion.kms_key_arn,
            ),
            opts=here,
        )
        self.portfolio = aws.servicecatalog.Portfolio(
            f"{name}-portfolio",
            aws.servicecatalog.PortfolioArgs(
                name=f"{p} model deployment", provider_name=p,
                description="Self-service deploy pipelines for model projects (RES)",
            ),
            opts=here,
        )
        self.product = aws.servicecatalog.Product(
            f"{name}-product",
            aws.servicecatalog.ProductArgs(
                name=PRODUCT_NAME, owner=p, type="CLOUD_FORMATION_TEMPLATE",
                description="Creates the DEV -> INT -> PROD promotion pipeline of one model project",
                provisioning_artifact_parameters=aws.servicecatalog.ProductProvisioningArtifactParametersArgs(
                    name="v1", type="CLOUD_FORMATION_TEMPLATE", disable_template_validation=False,
                    template_url=pulumi.Output.all(args.promotion.artifact_bucket, template_key).apply(
                        lambda v: f"https://{v[0]}.s3.{args.region}.amazonaws.com/{v[1]}"
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template_object]),
        )
        association = aws.servicecatalog.ProductPortfolioAssociation(
            f"{name}-association",
            aws.servicecatalog.ProductPortfolioAssociationArgs(portfolio_id=self.portfolio.id, product_id=self.product.id),
            opts=pulumi.ResourceOptions(parent=self.portfolio),
        )
        aws.servicecatalog.Constraint(
            f"{name}-launch-constraint",
            aws.servicecatalog.ConstraintArgs(
                portfolio_id=self.portfolio.id, product_id=self.product.id, type="LAUNCH",
                parameters=launch_role.arn.apply(lambda arn: json.dumps({"RoleArn": arn})),
                description="Provision with the launch role (boundary-bound role creation only)",
            ),
            opts=pulumi.ResourceOptions(parent=self.portfolio, depends_on=[association, boundary]),
        )
        for index, pattern in enumerate(args.principal_patterns):
            aws.servicecatalog.PrincipalPortfolioAssociation(
                f"{name}-principal-{index}",
                aws.servicecatalog.PrincipalPortfolioAssociationArgs(
                    portfolio_id=self.portfolio.id, principal_arn=pattern, principal_type="IAM_PATTERN"
                ),
                opts=pulumi.ResourceOptions(parent=self.portfolio),
            )
        self.register_outputs({"portfolioId": self.portfolio.id, "productId": self.product.id})
