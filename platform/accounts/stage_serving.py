"""DEV / INT / PROD: roles and shared resources that the serving stacks of each model project use.

IAM has no VPC endpoint outside us-east-1, so the isolated serving deploy cannot create roles:
every role a serving stack uses is created here, named by convention per project
(``naming.serving_role_name``; documents in ``components.serving_policies``). The serving stacks
read what they need from this stack's outputs:

- ``servingSecurityGroupId``: endpoints, transform jobs, monitoring jobs and the API Lambda; no
  ingress, egress HTTPS to the VPC (interface endpoints) and the S3 prefix list (gateway endpoint).
- ``servingRoleArns``: ``{project: {purpose: role ARN}}``. The roles SageMaker assumes (model,
  monitor) carry both deny guardrails (:mod:`components.guardrails`).

The account-wide API Gateway CloudWatch role is set here too: API Gateway execution logging needs
it, and the serving deploy cannot create roles.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.guardrails import SageMakerGuardrails, SageMakerGuardrailsArgs
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.serving_policies import (
    SAGEMAKER_PURPOSES,
    SERVING_PURPOSES,
    ServingScope,
    serving_role_name_problems,
    serving_role_policy,
    serving_scope,
    serving_trust_policy,
)
from mlops_core.naming import PROJECT_TAG_KEY, serving_role_name


def build(context: AccountContext) -> None:
    """Declare the per-project serving roles and the stage's shared serving resources."""
    settings = context.settings
    problems = serving_role_name_problems(settings.org)
    if problems:
        raise pulumi.RunError(f"organization.yaml: modelProjects: {problems[0]}")
    security_group = _serving_security_group(context)
    _apigateway_logging_role(context)

    guardrails = _deny_guardrails(context, security_group)

    role_arns: dict[str, dict[str, pulumi.Output[str]]] = {}
    for project in settings.org.model_projects:
        role_arns[project.name] = {}
        for purpose in SERVING_PURPOSES:
            role = _serving_role(context, project.name, purpose)
            if purpose in SAGEMAKER_PURPOSES:
                guardrails.attach(role.name, f"{settings.role}-serving-{project.name}-{purpose}",
                                  opts=pulumi.ResourceOptions(parent=role))
            role_arns[project.name][purpose] = role.arn
    context.exports["servingSecurityGroupId"] = security_group.id
    context.exports["servingRoleArns"] = role_arns


def _serving_security_group(context: AccountContext) -> aws.ec2.SecurityGroup:
    network = context.baseline.network
    s3_description = "HTTPS to S3 through the gateway endpoint (model artifacts, capture, batch data)"
    to_endpoints = network.endpoint_egress(endpoints_description="HTTPS to the VPC interface endpoints", s3_description=s3_description)
    # Not ``to_endpoints.s3_gateway``: this group has always planned the prefix list as one Output of a
    # list (a first preview shows the list unknown, not a list of one unknown); kept so plans stay equal.
    s3_gateway = aws.ec2.SecurityGroupEgressArgs(
        description=s3_description, protocol="tcp", from_port=443, to_port=443,
        prefix_list_ids=network.s3_prefix_list_id.apply(lambda prefix_list: [prefix_list]),
    )
    egress = [to_endpoints.interface_endpoints, s3_gateway]
    return aws.ec2.SecurityGroup(
        f"{context.settings.role}-serving-sg",
        aws.ec2.SecurityGroupArgs(
            vpc_id=network.vpc_id,
            description="Serving: SageMaker endpoints, transform and monitoring jobs, inference API Lambda",
            ingress=[],
            egress=egress,
            tags={"Name": f"{context.settings.org.platform_name}-serving"},
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=network.vpc),
    )


def _serving_role(context: AccountContext, project: str, purpose: str) -> aws.iam.Role:
    settings = context.settings
    org = settings.org
    name = serving_role_name(org, project, purpose)
    scope_inputs = pulumi.Output.all(context.baseline.network.vpc_id, context.baseline.platform_key.arn)

    def scope(values: list[str]) -> ServingScope:
        vpc_id, key_arn = values
        return serving_scope(org, project, settings.role, settings.account_id, vpc_id, key_arn)

    return role_with_policy(
        f"{settings.role}-serving-{project}-{purpose}",
        role_name=name,
        description=f"Serving {purpose} role of model project {project} ({settings.role})",
        trust_policy=serving_trust_policy(serving_scope(org, project, settings.role, settings.account_id, "", ""), purpose),
        max_session_duration=3600,
        tags={PROJECT_TAG_KEY: project, "mlops:serving-purpose": purpose},
        policy_name=f"serving-{purpose}",
        policy=scope_inputs.apply(lambda values: serving_role_policy(scope(values), purpose)),
        opts=context.opts,
    ).role


def _deny_guardrails(context: AccountContext, security_group: aws.ec2.SecurityGroup) -> SageMakerGuardrails:
    """The two SageMaker deny guardrails of the stage: only the stage subnets and the serving group."""
    network = context.baseline.network
    return SageMakerGuardrails(
        f"{context.settings.role}-serving-guardrails",
        SageMakerGuardrailsArgs(
            name_prefix=f"{context.settings.org.platform_name}-serving",
            subnet_ids=network.subnet_ids,
            security_group_ids=[security_group.id],
            sagemaker_api_endpoint_ids=[network.endpoint_ids["sagemaker.api"]],
        ),
        opts=context.opts,
    )


def _apigateway_logging_role(context: AccountContext) -> None:
    """API Gateway's account-wide CloudWatch role (execution and access logs of the private APIs)."""
    settings = context.settings
    account, region = settings.account_id, settings.org.region
    groups = [
        f"arn:aws:logs:{region}:{account}:log-group:API-Gateway-Execution-Logs_*",
        f"arn:aws:logs:{region}:{account}:log-group:/aws/apigateway/*",
    ]
    role = role_with_policy(
        f"{settings.role}-apigateway-logs-role",
        role_name=f"{settings.org.platform_name}-apigateway-logs",
        description="Lets API Gateway write execution and access logs of the private APIs",
        trust_policy=service_trust_policy("apigateway.amazonaws.com", account),
        max_session_duration=3600,
        policy_resource_name=f"{settings.role}-apigateway-logs-policy",
        policy_name="apigateway-logs",
        policy=policy_document(
            [
                statement(
                    "WriteApiLogs",
                    ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [*groups, *(f"{g}:log-stream:*" for g in groups)],
                ),
                statement("FindLogGroups", ["logs:DescribeLogGroups"], f"arn:aws:logs:{region}:{account}:log-group:*"),
            ]
        ),
        opts=context.opts,
    ).role
    aws.apigateway.Account(
        f"{settings.role}-apigateway-account",
        aws.apigateway.AccountArgs(cloudwatch_role_arn=role.arn),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=role),
    )
