"""The "Model Building" Service Catalog product: self-service model projects launched by leads.

:func:`model_building_template` generates the product's CloudFormation template (a Python dict,
uploaded as JSON by Pulumi). A launch creates, for a project ``<name>`` launched from Studio
(``SageMakerProjectName``):

* the model package group ``sc-<name>`` (prefix ``sc-``: disjoint from config-driven projects, whose
  groups are their bare names) with the same cross-account resource policy as config projects;
* the project's repository connection: a CodeBuild source bound to the platform's CodeConnections
  connection, with a push webhook on the main branch;
* a CodeBuild project in the EXP VPC that runs the project's unit tests, then upserts and starts its
  SageMaker pipeline with ``python -m mlops_pipelines upsert`` (the platform's own definition builder);
* the pipeline role and the build role, both under the role path ``/<platform>-sc/``, both with the
  permissions boundary and both SageMaker deny guardrails;
* an EventBridge rule forwarding only new versions of ``sc-<name>`` to the RES bus, where the trigger
  starts ``<platform>-deploy-sc-<name>`` (the same naming rule as config-driven projects).

The launch role (:func:`launch_role_policy`) may create roles only under that path and only with the
boundary attached (``iam:PermissionsBoundary``); :func:`boundary_policy` is that ceiling.

:class:`ModelBuildingProduct` declares the portfolio (associated with the leads' sign-in and Studio
execution roles), the product (tagged ``sagemaker:studio-visibility=true``), the launch constraint,
the template object and ``aws.sagemaker.ServicecatalogPortfolioStatus`` (Studio projects enabled).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.exp_policies import (
    JOB_ACTIONS,
    JOB_KINDS,
    KMS_DATA_ACTIONS,
    PIPELINE_ACTIONS,
    S3_BUCKET_ACTIONS,
    S3_OBJECT_ACTIONS,
    SAGEMAKER_SERVICE,
    model_package_group_policy,
    vpc_interface_statements,
)
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.model_project import new_version_pattern

PRODUCT_PREFIX = "sc-"
STUDIO_VISIBILITY_TAG = ("sagemaker:studio-visibility", "true")
BUILD_IMAGE = "aws/codebuild/standard:7.0"
SOURCE_TYPES = {
    "GitHub": "GITHUB",
    "GitHubEnterpriseServer": "GITHUB_ENTERPRISE",
    "GitLab": "GITLAB",
    "GitLabSelfManaged": "GITLAB_SELF_MANAGED",
    "Bitbucket": "BITBUCKET",
}


@dataclass(frozen=True)
class TemplateSettings:
    """Values baked into the template (plain strings, known at apply)."""

    platform_name: str
    account_id: str
    region: str
    res_account_id: str
    stage_account_ids: list[str]
    vpc_id: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    """The build's security group(s) in the EXP VPC."""
    kms_key_arn: str
    """Encrypts build artifacts, logs' bucket objects and pipeline outputs (the products bucket's key)."""
    logs_key_arn: str
    artifacts_bucket: str
    boundary_arn: str
    guardrail_policy_arns: list[str]
    connection_arn: str
    source_provider_type: str
    repository_host: str
    """``https://github.com`` or the self-managed server's URL."""
    event_bus_arn: str
    events_role_arn: str
    codeartifact_domain: str
    codeartifact_repository: str
    codeartifact_internal_repository: str = "internal"
    """Holds the platform's own packages; no public upstream (``components/codeartifact.py``)."""
    platform_requirements: tuple[str, ...] = ()
    """The platform's packages the build installs from the internal repository, pinned (``name==version``)."""

    @property
    def role_path(self) -> str:
        return f"/{self.platform_name}-sc/"


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _tags(name: dict[str, str]) -> list[dict[str, Any]]:
    return [{"Key": "mlops:project", "Value": name}, {"Key": "mlops:origin", "Value": "service-catalog"}]


#: Writes ``build/spec.json``: the repository's optional ``pipeline-spec.json`` (project settings such
#: as ``input_data_uri`` or ``metric_threshold``) overridden by the platform's values from the build
#: environment, so a project cannot point its jobs at other roles, buckets, keys or networks.
SPEC_COMMAND = (
    "python -c \"import json, os; e = os.environ; "
    "s = json.load(open('pipeline-spec.json')) if os.path.exists('pipeline-spec.json') else {}; "
    "s.update(pipeline_name=e['PROJECT'], region=e['AWS_REGION'], role_arn=e['PIPELINE_ROLE_ARN'], "
    "bucket=e['ARTIFACTS_BUCKET'], kms_key_arn=e['KMS_KEY_ARN'], subnet_ids=e['SUBNET_IDS'].split(','), "
    "security_group_ids=e['SECURITY_GROUP_IDS'].split(','), model_package_group_name=e['MODEL_PACKAGE_GROUP'], "
    "output_prefix=e['PROJECT'] + '/pipelines'); "
    "os.makedirs('build', exist_ok=True); json.dump(s, open('build/spec.json', 'w'), indent=1)\""
)


def install_commands(s: TemplateSettings) -> list[str]:
    """The build's install phase (pure; tests run it against local indexes).

    Our packages come from the internal repository alone (no public upstream), pinned, with
    ``--no-deps``; then the project's requirements through the team repository with the same pins
    as constraints, so a same-named public package of any version can never replace ours.
    """
    where = f"--domain {s.codeartifact_domain} --domain-owner {s.account_id} --region {s.region}"
    commands = [f"aws codeartifact login --tool pip {where} --repository {s.codeartifact_repository}"]
    if s.platform_requirements:
        pins = " ".join(f'"{r}"' for r in s.platform_requirements)
        commands += [
            f"CA_TOKEN=\"$(aws codeartifact get-authorization-token {where} --query authorizationToken --output text)\"",
            f"CA_INTERNAL=\"$(aws codeartifact get-repository-endpoint {where} --repository {s.codeartifact_internal_repository} "
            "--format pypi --query repositoryEndpoint --output text)\"",
            f'printf "%s\\n" {pins} > platform-constraints.txt',
            'pip install --no-deps --index-url "${CA_INTERNAL/:\/\//://aws:${CA_TOKEN}@}simple/" -r platform-constraints.txt',
            "pip install -c platform-constraints.txt -r platform-constraints.txt -r requirements.txt",
        ]
    else:
        commands.append("pip install -r requirements.txt")
    return commands


def _buildspec(s: TemplateSettings) -> str:
    spec = {
        "version": 0.2,
        "env": {"shell": "bash"},
        "phases": {
            "install": {"commands": install_commands(s)},
            "build": {
                "commands": [
                    "python -m pytest -q tests",
                    'python -m mlops_pipelines package-code --bucket "$ARTIFACTS_BUCKET" --key-prefix "$PROJECT/code" --out-dir build/code > code-uris.json',
                    'aws s3 sync build/code "s3://$ARTIFACTS_BUCKET/" --sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN"',
                    SPEC_COMMAND,
                    'python -m mlops_pipelines upsert --spec build/spec.json --code-uris code-uris.json --start --git-commit "$CODEBUILD_RESOLVED_SOURCE_VERSION"',
                ]
            },
        },
    }
    return json.dumps(spec, indent=1)


def model_building_template(s: TemplateSettings) -> dict[str, Any]:
    """The product's CloudFormation template (pure; cfn-lint clean)."""
    name = _sub(f"{PRODUCT_PREFIX}${{SageMakerProjectName}}")
    group_arn = _sub(f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:model-package-group/{PRODUCT_PREFIX}${{SageMakerProjectName}}")
    group_policy = model_package_group_policy("GROUP_ARN", "GROUP_NAME", s.account_id, s.region, s.res_account_id, s.stage_account_ids)
    group_policy_json = json.dumps(group_policy).replace("GROUP_ARN", "${GroupArn}").replace("GROUP_NAME", f"{PRODUCT_PREFIX}${{SageMakerProjectName}}")
    pattern = new_version_pattern(s.account_id, "GROUP_NAME")
    pattern["detail"]["ModelPackageGroupName"] = [name]

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{s.platform_name} Model Building product: registry group, build, pipeline role and new-version events",
        "Parameters": {
            "SageMakerProjectName": {
                "Type": "String",
                "Description": "Project name (set by SageMaker Studio)",
                "AllowedPattern": "^[a-z][a-z0-9-]{2,20}[a-z0-9]$",
                "MinLength": 4,
                "MaxLength": 22,
            },
            "SageMakerProjectId": {"Type": "String", "Description": "Project ID (set by SageMaker Studio)", "MinLength": 1, "MaxLength": 20},
            "RepositoryId": {"Type": "String", "Description": "Repository as owner/name", "AllowedPattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
            "Branch": {"Type": "String", "Default": "main", "Description": "Branch whose pushes build the project", "AllowedPattern": "^[A-Za-z0-9._/-]+$"},
        },
        "Resources": {
            "ModelPackageGroup": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {
                    "ModelPackageGroupName": name,
                    "ModelPackageGroupDescription": _sub("Model Building product project ${SageMakerProjectName}"),
                    "ModelPackageGroupPolicy": {"Fn::Sub": [group_policy_json, {"GroupArn": group_arn}]},
                    "Tags": [*_tags(name), {"Key": "sagemaker:project-name", "Value": {"Ref": "SageMakerProjectName"}}, {"Key": "sagemaker:project-id", "Value": {"Ref": "SageMakerProjectId"}}],
                },
            },
            "PipelineRole": _template_role(s, name, "pipeline", "sagemaker.amazonaws.com", _pipeline_role_policy(s)),
            "BuildRole": _template_role(s, name, "build", "codebuild.amazonaws.com", _build_role_policy(s)),
            "BuildLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "LogGroupName": _sub(f"/aws/codebuild/{PRODUCT_PREFIX}${{SageMakerProjectName}}"),
                    "KmsKeyId": s.logs_key_arn,
                    "RetentionInDays": 365,
                },
            },
            "Build": _build_project(s, name),
            "NewVersionRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": _sub(f"{PRODUCT_PREFIX}${{SageMakerProjectName}}-new-version"),
                    "Description": "New model versions of this project -> RES event bus",
                    "EventPattern": pattern,
                    "State": "ENABLED",
                    "Targets": [{"Id": "res-bus", "Arn": s.event_bus_arn, "RoleArn": s.events_role_arn}],
                },
            },
        },
        "Outputs": {
            "ModelPackageGroupName": {"Value": name},
            "BuildProject": {"Value": {"Ref": "Build"}},
        },
    }


def _pipeline_role_policy(s: TemplateSettings) -> dict[str, Any]:
    """The product-made project's pipeline role: its SageMaker jobs, objects, key and new versions."""
    bucket_arn = f"arn:aws:s3:::{s.artifacts_bucket}"
    project_prefix = f"{bucket_arn}/{PRODUCT_PREFIX}${{SageMakerProjectName}}/*"
    sm = f"arn:aws:sagemaker:{s.region}:{s.account_id}"
    return policy_document(
        [
            statement("SageMakerJobs", JOB_ACTIONS, [f"{sm}:{kind}/*" for kind in JOB_KINDS]),
            statement("PassItself", ["iam:PassRole"], f"arn:aws:iam::{s.account_id}:role{s.role_path}{PRODUCT_PREFIX}${{SageMakerProjectName}}-pipeline", condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}}),
            statement("ProjectObjects", S3_OBJECT_ACTIONS, project_prefix),
            statement("ProjectBucket", S3_BUCKET_ACTIONS, bucket_arn),
            statement("ProjectKey", KMS_DATA_ACTIONS, s.kms_key_arn),
            statement("RegisterPendingVersions", ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"], [f"{sm}:model-package-group/{PRODUCT_PREFIX}${{SageMakerProjectName}}", f"{sm}:model-package/{PRODUCT_PREFIX}${{SageMakerProjectName}}/*"]),
            statement("JobLogs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:{s.region}:{s.account_id}:log-group:/aws/sagemaker/*"),
            *vpc_interface_statements(s.account_id, s.region),
        ]
    )


def _build_role_policy(s: TemplateSettings) -> dict[str, Any]:
    """The product-made project's build role: repository, CodeArtifact, upserting the pipeline, VPC."""
    bucket_arn = f"arn:aws:s3:::{s.artifacts_bucket}"
    project_prefix = f"{bucket_arn}/{PRODUCT_PREFIX}${{SageMakerProjectName}}/*"
    sm = f"arn:aws:sagemaker:{s.region}:{s.account_id}"
    pipeline_arn = f"{sm}:pipeline/{PRODUCT_PREFIX}${{SageMakerProjectName}}*"
    return policy_document(
        [
            statement("BuildLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:{s.region}:{s.account_id}:log-group:/aws/codebuild/{PRODUCT_PREFIX}${{SageMakerProjectName}}:*"),
            statement("ProjectObjects", S3_OBJECT_ACTIONS, project_prefix),
            statement("ProjectBucket", S3_BUCKET_ACTIONS, bucket_arn),
            statement("ProjectKey", KMS_DATA_ACTIONS, s.kms_key_arn),
            statement("Repository", ["codeconnections:GetConnectionToken", "codeconnections:UseConnection"], s.connection_arn),
            statement("PipThroughCodeArtifact", ["codeartifact:GetAuthorizationToken"], f"arn:aws:codeartifact:{s.region}:{s.account_id}:domain/{s.codeartifact_domain}"),
            statement(
                "ReadTeamAndInternalRepositories",
                ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
                [f"arn:aws:codeartifact:{s.region}:{s.account_id}:repository/{s.codeartifact_domain}/{r}" for r in (s.codeartifact_repository, s.codeartifact_internal_repository)],
            ),
            statement("CodeArtifactBearerToken", ["sts:GetServiceBearerToken"], "*", condition={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}),
            statement("UpsertPipeline", ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", *PIPELINE_ACTIONS], pipeline_arn),
            statement("PassPipelineRole", ["iam:PassRole"], f"arn:aws:iam::{s.account_id}:role{s.role_path}{PRODUCT_PREFIX}${{SageMakerProjectName}}-pipeline", condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}}),
            *[st for st in vpc_interface_statements(s.account_id, s.region) if st["Sid"] == "DescribeVpc"],
            statement(
                "VpcInterfaces",
                ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
                [f"arn:aws:ec2:{s.region}:{s.account_id}:{kind}/*" for kind in ("network-interface", "security-group", "subnet")],
            ),
            statement(
                "VpcInterfacePermission",
                ["ec2:CreateNetworkInterfacePermission"],
                f"arn:aws:ec2:{s.region}:{s.account_id}:network-interface/*",
                condition={"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}},
            ),
        ]
    )


def _template_role(s: TemplateSettings, name: Any, purpose: str, service: str, document: dict[str, Any]) -> dict[str, Any]:
    """A role of a product-made project: under the product's path, with the boundary and the guardrails."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": _sub(f"{PRODUCT_PREFIX}${{SageMakerProjectName}}-{purpose}"),
            "Path": s.role_path,
            "PermissionsBoundary": s.boundary_arn,
            "ManagedPolicyArns": sorted(s.guardrail_policy_arns),
            "AssumeRolePolicyDocument": service_trust_policy(service, s.account_id),
            "Policies": [{"PolicyName": purpose, "PolicyDocument": _sub_tree(document)}],
            "Tags": _tags(name),
        },
    }


def _build_project(s: TemplateSettings, name: Any) -> dict[str, Any]:
    """The project's CodeBuild project: pushes to the branch run the unit tests and upsert the pipeline."""
    return {
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Name": name,
            "Description": "Unit tests, then upsert and start the project's SageMaker pipeline",
            "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
            "EncryptionKey": s.kms_key_arn,
            "Source": {
                "Type": SOURCE_TYPES[s.source_provider_type],
                "Location": _sub(f"{s.repository_host}/${{RepositoryId}}.git"),
                "Auth": {"Type": "CODECONNECTIONS", "Resource": s.connection_arn},
                "BuildSpec": _buildspec(s),
            },
            "SourceVersion": {"Ref": "Branch"},
            "Triggers": {
                "Webhook": True,
                "FilterGroups": [[{"Type": "EVENT", "Pattern": "PUSH"}, {"Type": "HEAD_REF", "Pattern": _sub("^refs/heads/${Branch}$")}]],
            },
            "Artifacts": {"Type": "NO_ARTIFACTS"},
            "Environment": {
                "Type": "LINUX_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": BUILD_IMAGE,
                "PrivilegedMode": False,
                "EnvironmentVariables": [
                    {"Name": "PROJECT", "Type": "PLAINTEXT", "Value": name},
                    {"Name": "ARTIFACTS_BUCKET", "Type": "PLAINTEXT", "Value": s.artifacts_bucket},
                    {"Name": "KMS_KEY_ARN", "Type": "PLAINTEXT", "Value": s.kms_key_arn},
                    {"Name": "PIPELINE_ROLE_ARN", "Type": "PLAINTEXT", "Value": {"Fn::GetAtt": ["PipelineRole", "Arn"]}},
                    {"Name": "MODEL_PACKAGE_GROUP", "Type": "PLAINTEXT", "Value": name},
                    {"Name": "SUBNET_IDS", "Type": "PLAINTEXT", "Value": ",".join(sorted(s.subnet_ids))},
                    {"Name": "SECURITY_GROUP_IDS", "Type": "PLAINTEXT", "Value": ",".join(sorted(s.security_group_ids))},
                ],
            },
            "VpcConfig": {
                "VpcId": s.vpc_id,
                "Subnets": sorted(s.subnet_ids),
                "SecurityGroupIds": sorted(s.security_group_ids),
            },
            "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED", "GroupName": {"Ref": "BuildLogGroup"}}},
            "TimeoutInMinutes": 60,
            "Tags": _tags(name),
        },
    }


def _sub_tree(value: Any) -> Any:
    if isinstance(value, str) and "${" in value:
        return _sub(value)
    if isinstance(value, dict):
        return {k: _sub_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub_tree(v) for v in value]
    return value


# ---- launch role and its boundary -----------------------------------------------------------------


def boundary_policy(s: TemplateSettings) -> dict[str, Any]:
    """Permissions boundary of every role the product creates: the most a product role may ever do."""
    sm = f"arn:aws:sagemaker:{s.region}:{s.account_id}"
    bucket_arn = f"arn:aws:s3:::{s.artifacts_bucket}"
    return policy_document(
        [
            statement("SageMakerJobs", JOB_ACTIONS, [f"{sm}:{kind}/*" for kind in JOB_KINDS]),
            statement("Pipelines", ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", *PIPELINE_ACTIONS], f"{sm}:pipeline/{PRODUCT_PREFIX}*"),
            statement("Registry", ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"], [f"{sm}:model-package-group/{PRODUCT_PREFIX}*", f"{sm}:model-package/{PRODUCT_PREFIX}*"]),
            statement("PassProductRoles", ["iam:PassRole"], f"arn:aws:iam::{s.account_id}:role{s.role_path}*", condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}}),
            statement("Objects", S3_OBJECT_ACTIONS, f"{bucket_arn}/{PRODUCT_PREFIX}*"),
            statement("Bucket", S3_BUCKET_ACTIONS, bucket_arn),
            statement("Key", KMS_DATA_ACTIONS, s.kms_key_arn),
            statement("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], [f"arn:aws:logs:{s.region}:{s.account_id}:log-group:/aws/sagemaker/*", f"arn:aws:logs:{s.region}:{s.account_id}:log-group:/aws/codebuild/{PRODUCT_PREFIX}*"]),
            statement("Repository", ["codeconnections:GetConnectionToken", "codeconnections:UseConnection"], s.connection_arn),
            statement("CodeArtifactToken", ["codeartifact:GetAuthorizationToken"], f"arn:aws:codeartifact:{s.region}:{s.account_id}:domain/{s.codeartifact_domain}"),
            statement("CodeArtifactRead", ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"], f"arn:aws:codeartifact:{s.region}:{s.account_id}:repository/{s.codeartifact_domain}/*"),
            statement("BearerToken", ["sts:GetServiceBearerToken"], "*", condition={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}),
            *vpc_interface_statements(s.account_id, s.region),
        ]
    )


#: Tag Service Catalog puts on its own copy of every provisioning artifact (in a bucket it owns, whose
#: name it does not publish): CloudFormation reads that copy as the launch role, so the read is scoped by
#: the tag, as AWS's launch-constraint guide writes it.
SERVICE_CATALOG_PROVISIONING_TAG = "servicecatalog:provisioning"


def service_catalog_template_read() -> dict[str, Any]:
    """The launch role's read of Service Catalog's copy of the template (every launch fails without it)."""
    return statement(
        "ReadServiceCatalogTemplateCopy",
        ["s3:GetObject"],
        "*",
        condition={"StringEquals": {f"s3:ExistingObjectTag/{SERVICE_CATALOG_PROVISIONING_TAG}": "true"}},
    )


def launch_role_policy(s: TemplateSettings, template_object_arn: str) -> dict[str, Any]:
    """Least privilege for Service Catalog to launch the product: product-prefixed resources only."""
    sm = f"arn:aws:sagemaker:{s.region}:{s.account_id}"
    roles = f"arn:aws:iam::{s.account_id}:role{s.role_path}{PRODUCT_PREFIX}*"
    boundary = {"ArnEquals": {"iam:PermissionsBoundary": s.boundary_arn}}
    return policy_document(
        [
            statement("ReadTemplate", ["s3:GetObject"], template_object_arn),
            service_catalog_template_read(),
            statement("DecryptTemplate", ["kms:Decrypt", "kms:DescribeKey"], s.kms_key_arn),
            statement(
                "ProductStacks",
                ["cloudformation:CreateStack", "cloudformation:DeleteStack", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks", "cloudformation:SetStackPolicy", "cloudformation:UpdateStack"],
                f"arn:aws:cloudformation:{s.region}:{s.account_id}:stack/SC-*",
            ),
            statement("ReadTemplates", ["cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"], "*"),
            statement(
                "RegistryGroups",
                ["sagemaker:AddTags", "sagemaker:CreateModelPackageGroup", "sagemaker:DeleteModelPackageGroup", "sagemaker:DeleteModelPackageGroupPolicy", "sagemaker:DescribeModelPackageGroup", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:PutModelPackageGroupPolicy"],
                f"{sm}:model-package-group/{PRODUCT_PREFIX}*",
            ),
            statement("CreateRolesOnlyWithBoundary", ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy"], roles, condition=boundary),
            statement(
                "AttachOnlyGuardrails",
                ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                roles,
                condition={"ArnEquals": {"iam:PermissionsBoundary": s.boundary_arn, "iam:PolicyARN": sorted(s.guardrail_policy_arns)}},
            ),
            statement("ManageProductRoles", ["iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole"], roles),
            statement("PassProductRoles", ["iam:PassRole"], roles, condition={"StringEquals": {"iam:PassedToService": ["codebuild.amazonaws.com", SAGEMAKER_SERVICE]}}),
            statement("PassEventsRole", ["iam:PassRole"], s.events_role_arn, condition={"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}),
            statement(
                "Builds",
                ["codebuild:BatchGetProjects", "codebuild:CreateProject", "codebuild:CreateWebhook", "codebuild:DeleteProject", "codebuild:DeleteWebhook", "codebuild:UpdateProject", "codebuild:UpdateWebhook"],
                f"arn:aws:codebuild:{s.region}:{s.account_id}:project/{PRODUCT_PREFIX}*",
            ),
            statement("UseConnection", ["codeconnections:PassConnection", "codeconnections:UseConnection"], s.connection_arn),
            statement(
                "BuildLogGroups",
                ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"],
                f"arn:aws:logs:{s.region}:{s.account_id}:log-group:/aws/codebuild/{PRODUCT_PREFIX}*",
            ),
            statement("DescribeLogGroups", ["logs:DescribeLogGroups"], "*"),
            statement(
                "EventRules",
                ["events:DeleteRule", "events:DescribeRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource"],
                f"arn:aws:events:{s.region}:{s.account_id}:rule/{PRODUCT_PREFIX}*",
            ),
            statement("DescribeNetwork", ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"], "*"),
        ]
    )


# ---- the portfolio and product ------------------------------------------------------------------


@dataclass
class ModelBuildingProductArgs:
    """Inputs of :class:`ModelBuildingProduct`."""

    platform_name: str
    account_id: str
    region: str
    settings: pulumi.Input[TemplateSettings]
    """Template values (an Output once IDs are known)."""
    template_bucket: pulumi.Input[str]
    """SecureBucket holding the template (encrypted with ``settings.kms_key_arn``)."""
    boundary_name: str = ""
    launch_role_name: str = ""


class ModelBuildingProduct(pulumi.ComponentResource):
    """Portfolio, product, template object, launch role with boundary, Studio projects enabled."""

    portfolio: aws.servicecatalog.Portfolio
    product: aws.servicecatalog.Product
    launch_role: aws.iam.Role
    boundary: aws.iam.Policy
    template_key: pulumi.Output[str]

    def __init__(self, name: str, args: ModelBuildingProductArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:servicecatalog:ModelBuildingProduct", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        settings = pulumi.Output.from_input(args.settings)
        boundary_name = args.boundary_name or f"{args.platform_name}-sc-boundary"
        launch_role_name = args.launch_role_name or f"{args.platform_name}-sc-launch"

        aws.sagemaker.ServicecatalogPortfolioStatus(
            f"{name}-studio-projects", aws.sagemaker.ServicecatalogPortfolioStatusArgs(status="Enabled"), opts=here
        )
        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            aws.iam.PolicyArgs(
                name=boundary_name,
                description="Permissions boundary of every role the Model Building product creates",
                policy=settings.apply(lambda s: json.dumps(boundary_policy(s))),
            ),
            opts=here,
        )
        template = settings.apply(lambda s: json.dumps(model_building_template(s), indent=1, sort_keys=True))
        self.template_key = template.apply(lambda body: f"model-building/{hashlib.sha256(body.encode()).hexdigest()[:16]}.json")
        template_object = aws.s3.BucketObjectv2(
            f"{name}-template",
            aws.s3.BucketObjectv2Args(
                bucket=args.template_bucket,
                key=self.template_key,
                content=template,
                content_type="application/json",
                server_side_encryption="aws:kms",
                kms_key_id=settings.apply(lambda s: s.kms_key_arn),
            ),
            opts=here,
        )
        object_arn = pulumi.Output.concat("arn:aws:s3:::", args.template_bucket, "/", self.template_key)
        self.launch_role = role_with_policy(
            f"{name}-launch-role",
            role_name=launch_role_name,
            description="Service Catalog launch role of the Model Building product",
            trust_policy=service_trust_policy("servicecatalog.amazonaws.com", args.account_id),
            policy_resource_name=f"{name}-launch-policy",
            policy_name="launch-model-building",
            policy=pulumi.Output.all(settings, object_arn).apply(lambda v: launch_role_policy(v[0], v[1])),
            opts=here,
        ).role

        self.portfolio = aws.servicecatalog.Portfolio(
            f"{name}-portfolio",
            aws.servicecatalog.PortfolioArgs(
                name=f"{args.platform_name} model building",
                description="Self-service model projects for leads (SageMaker Studio projects)",
                provider_name=args.platform_name,
            ),
            opts=here,
        )
        template_url = pulumi.Output.concat("https://", args.template_bucket, f".s3.{args.region}.amazonaws.com/", self.template_key)
        self.product = aws.servicecatalog.Product(
            f"{name}-product",
            aws.servicecatalog.ProductArgs(
                name=f"{args.platform_name} Model Building",
                owner=args.platform_name,
                type="CLOUD_FORMATION_TEMPLATE",
                description="Model package group, build with tests and pipeline upsert, pipeline role, new-version events",
                provisioning_artifact_parameters=aws.servicecatalog.ProductProvisioningArtifactParametersArgs(
                    name="v1",
                    type="CLOUD_FORMATION_TEMPLATE",
                    template_url=template_url,
                    disable_template_validation=False,
                ),
                tags=dict([STUDIO_VISIBILITY_TAG]),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template_object]),
        )
        association = aws.servicecatalog.ProductPortfolioAssociation(
            f"{name}-product-association",
            aws.servicecatalog.ProductPortfolioAssociationArgs(portfolio_id=self.portfolio.id, product_id=self.product.id),
            opts=pulumi.ResourceOptions(parent=self.portfolio),
        )
        aws.servicecatalog.Constraint(
            f"{name}-launch-constraint",
            aws.servicecatalog.ConstraintArgs(
                portfolio_id=self.portfolio.id,
                product_id=self.product.id,
                type="LAUNCH",
                parameters=self.launch_role.arn.apply(lambda arn: json.dumps({"RoleArn": arn})),
                description="Launch with the least-privilege launch role",
            ),
            opts=pulumi.ResourceOptions(parent=self.portfolio, depends_on=[association]),
        )
        self._name = name
        self.register_outputs({"portfolioId": self.portfolio.id, "productId": self.product.id, "launchRoleArn": self.launch_role.arn})

    def associate_launchers(self, principal_arns: list[pulumi.Output[str]], patterns: list[str] = ()) -> None:
        """Let these principals launch the product (children of the portfolio).

        A separate step because the leads' sign-in role is declared after the product (its policy
        names the product). Pass each role's ``arn`` *output*, never an ARN built from its name: the
        association must wait for the role, or Service Catalog refuses a principal that does not
        exist yet. ``patterns`` are ``IAM_PATTERN`` ARNs (e.g. Identity Center roles of a permission set).
        """
        for index, principal in enumerate(principal_arns):
            aws.servicecatalog.PrincipalPortfolioAssociation(
                f"{self._name}-launcher-{index}",
                aws.servicecatalog.PrincipalPortfolioAssociationArgs(portfolio_id=self.portfolio.id, principal_arn=principal, principal_type="IAM"),
                opts=pulumi.ResourceOptions(parent=self.portfolio),
            )
        for index, pattern in enumerate(patterns):
            aws.servicecatalog.PrincipalPortfolioAssociation(
                f"{self._name}-launcher-pattern-{index}",
                aws.servicecatalog.PrincipalPortfolioAssociationArgs(portfolio_id=self.portfolio.id, principal_arn=pattern, principal_type="IAM_PATTERN"),
                opts=pulumi.ResourceOptions(parent=self.portfolio),
            )
