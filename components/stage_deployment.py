"""The deployment role of a stage account (DEV, INT, PROD): what the RES serving deployer may do there.

``<p>-serving-deploy`` is trusted ONLY by the RES serving deployer role (the RES account root with
an ``aws:PrincipalArn`` condition naming ``<p>-serving-deployer``), and may only manage serving
resources: SageMaker models, endpoint configurations, endpoints and monitoring named with the
platform prefix, their autoscaling, alarms, topics, rules, the batch state machine and schedule, the
private API and its Lambda, their log groups and the project's serving buckets; ``iam:PassRole``
only to the project's serving roles (created by the platform stage stack) and only to the services
that run them. It carries a permissions boundary (the same services, this account and region only),
so a policy attached later cannot widen it.

The documents are pure functions (tested without Pulumi); :class:`StageDeploymentRole` declares them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from components.iam_role import role_with_policy
from components.serving_policies import SERVING_PURPOSES, serving_bucket_names
from mlops_core import naming
from mlops_core.config import OrganizationConfig

#: Services a serving role is passed to (model/monitor: SageMaker, batch: Step Functions,
#: batch-schedule: EventBridge Scheduler, api: Lambda).
PASSED_TO_SERVICES = ["lambda.amazonaws.com", "sagemaker.amazonaws.com", "scheduler.amazonaws.com", "states.amazonaws.com"]
AUTOSCALING_SLR = "sagemaker.application-autoscaling.amazonaws.com"
TAG_ACTIONS = ["TagResource", "UntagResource", "ListTagsForResource"]


@dataclass(frozen=True)
class StageScope:
    """What the deployment role of one stage account is scoped to (:func:`stage_scope` derives it)."""

    prefix: str
    """The platform name: serving resources are named ``<prefix>-...``."""
    region: str
    account_id: str
    """The stage account."""
    exp_account_id: str
    """Where the model packages are registered (models are created from them)."""
    serving_buckets: list[str]
    """Name patterns of the projects' serving buckets in this account, sorted."""
    serving_role_patterns: list[str]
    """ARN patterns of the projects' serving roles (the only roles the deployment passes), sorted."""
    key_arns: list[str] = field(default_factory=list)
    """The stage's platform and logs keys (ARNs, or patterns when unknown)."""


def stage_scope(
    org: OrganizationConfig, account_id: str, projects: list[str], key_arns: list[str] | None = None
) -> StageScope:
    """The scope of a stage account's deployment role (naming conventions).

    Buckets and roles are name patterns (``<p>-*-cap-<account>-<region>``, ``<p>-serving-*-model``),
    not one name per project: the shared role's policy stays the same size however many projects
    there are. Without projects it names none.
    """
    return StageScope(
        prefix=org.platform_name,
        region=org.region,
        account_id=account_id,
        exp_account_id=org.accounts.exp,
        serving_buckets=sorted(serving_bucket_names(org, account_id, "*").values()) if projects else [],
        serving_role_patterns=sorted(
            naming.role_arn(account_id, naming.serving_role_name(org, "*", purpose)) for purpose in SERVING_PURPOSES
        )
        if projects
        else [],
        key_arns=list(key_arns or []),
    )


def deployment_trust_policy(res_account_id: str, deployer_role_arn: str) -> dict[str, Any]:
    """Only the RES serving deployer role may assume the stage deployment role (pure)."""
    return policy_document(
        [
            statement(
                "ResServingDeployerOnly",
                ["sts:AssumeRole"],
                None,
                principal={"AWS": naming.account_root(res_account_id)},
                condition={"ArnEquals": {"aws:PrincipalArn": deployer_role_arn}},
            )
        ]
    )


def _arn(scope: StageScope, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{scope.region}:{scope.account_id}:{resource}"


def _sagemaker_resources(scope: StageScope) -> list[str]:
    p = scope.prefix
    return [
        _arn(scope, "sagemaker", f"{kind}/{p}-*")
        for kind in ("model", "endpoint-config", "endpoint", "data-quality-job-definition", "monitoring-schedule")
    ]


def deployment_role_policy(scope: StageScope) -> dict[str, Any]:
    """The deployment role's permissions (pure). Every statement names its resources."""
    statements = [
        *_endpoint_statements(scope),
        *_alarm_topic_rule_and_batch_statements(scope),
        *_api_and_log_statements(scope),
        *_bucket_and_role_statements(scope),
    ]
    if scope.key_arns:
        statements.append(
            statement(
                "UseStageKeys",
                ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                sorted(scope.key_arns),
            )
        )
        statements.append(
            statement(
                "GrantStageKeysToServices",
                ["kms:CreateGrant"],
                sorted(scope.key_arns),
                condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
    return policy_document(statements)


def _endpoint_statements(scope: StageScope) -> list[dict[str, Any]]:
    """SageMaker models, endpoints and monitoring, their scaling, model packages from EXP."""
    region, account = scope.region, scope.account_id
    return [
        statement(
            "ServingSageMaker",
            [
                "sagemaker:AddTags", "sagemaker:CreateDataQualityJobDefinition", "sagemaker:CreateEndpoint",
                "sagemaker:CreateEndpointConfig", "sagemaker:CreateModel", "sagemaker:CreateMonitoringSchedule",
                "sagemaker:DeleteDataQualityJobDefinition", "sagemaker:DeleteEndpoint",
                "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel", "sagemaker:DeleteMonitoringSchedule",
                "sagemaker:DeleteTags", "sagemaker:DescribeDataQualityJobDefinition", "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel", "sagemaker:DescribeMonitoringSchedule",
                "sagemaker:InvokeEndpoint", "sagemaker:ListTags", "sagemaker:StartMonitoringSchedule",
                "sagemaker:StopMonitoringSchedule", "sagemaker:UpdateEndpoint",
                "sagemaker:UpdateEndpointWeightsAndCapacities", "sagemaker:UpdateMonitoringSchedule",
            ],
            _sagemaker_resources(scope),
        ),
        statement(
            "ModelPackagesFromExp",
            ["sagemaker:DescribeModelPackage"],
            f"arn:aws:sagemaker:{region}:{scope.exp_account_id}:model-package/*",
        ),
        statement(
            "EndpointScaling",
            [
                "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy", "application-autoscaling:RegisterScalableTarget",
                *(f"application-autoscaling:{a}" for a in TAG_ACTIONS),
            ],
            _arn(scope, "application-autoscaling", "scalable-target/*"),
        ),
        # Describe* of Application Auto Scaling and CloudWatch alarms have no resource-level permissions.
        statement(
            "DescribeScalingAndAlarms",
            [
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingActivities",
                "application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarms",
            ],
            "*",
        ),
        statement(
            "AutoscalingServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            f"arn:aws:iam::{account}:role/aws-service-role/{AUTOSCALING_SLR}/*",
            condition={"StringEquals": {"iam:AWSServiceName": AUTOSCALING_SLR}},
        ),
    ]


def _alarm_topic_rule_and_batch_statements(scope: StageScope) -> list[dict[str, Any]]:
    """Alarms, topics, rules, the batch state machine and schedule."""
    p = scope.prefix
    return [
        statement(
            "ServingAlarms",
            ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", *(f"cloudwatch:{a}" for a in TAG_ACTIONS)],
            _arn(scope, "cloudwatch", f"alarm:{p}-*"),
        ),
        statement(
            "ServingTopics",
            [
                "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                "sns:Subscribe", *(f"sns:{a}" for a in TAG_ACTIONS),
            ],
            _arn(scope, "sns", f"{p}-*"),
        ),
        # Subscriptions are addressed by their own ARN, which these two actions cannot be scoped to.
        statement("TopicSubscriptions", ["sns:GetSubscriptionAttributes", "sns:Unsubscribe"], "*"),
        statement(
            "ServingRules",
            [
                "events:DeleteRule", "events:DescribeRule", "events:ListTargetsByRule", "events:PutRule",
                "events:PutTargets", "events:RemoveTargets", *(f"events:{a}" for a in TAG_ACTIONS),
            ],
            _arn(scope, "events", f"rule/{p}-*"),
        ),
        statement(
            "BatchStateMachines",
            [
                "states:CreateStateMachine", "states:DeleteStateMachine", "states:DescribeStateMachine",
                "states:ListStateMachineVersions", "states:UpdateStateMachine", *(f"states:{a}" for a in TAG_ACTIONS),
            ],
            _arn(scope, "states", f"stateMachine:{p}-*"),
        ),
        statement(
            "BatchSchedules",
            [
                "scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule",
                "scheduler:UpdateSchedule", *(f"scheduler:{a}" for a in TAG_ACTIONS),
            ],
            [_arn(scope, "scheduler", f"schedule/*/{p}-*"), _arn(scope, "scheduler", "schedule-group/default")],
        ),
    ]


def _api_and_log_statements(scope: StageScope) -> list[dict[str, Any]]:
    """The private API, its Lambda and the serving log groups."""
    p, region = scope.prefix, scope.region
    return [
        # API Gateway's control plane names APIs by generated ID, not by name: REST APIs of this region.
        statement(
            "PrivateApis",
            ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT",
             "apigateway:UpdateRestApiPolicy"],
            [f"arn:aws:apigateway:{region}::/restapis", f"arn:aws:apigateway:{region}::/restapis/*",
             f"arn:aws:apigateway:{region}::/tags/*"],
        ),
        statement(
            "ApiFunctions",
            [
                "lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:GetRuntimeManagementConfig",
                "lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:PutFunctionConcurrency",
                "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource",
                "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
            ],
            _arn(scope, "lambda", f"function:{p}-*"),
        ),
        statement(
            "ServingLogGroups",
            [
                "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
                "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup",
                "logs:UntagResource",
            ],
            [
                _arn(scope, "logs", f"log-group:{group}*")
                for group in (
                    f"/aws/sagemaker/Endpoints/{p}-", f"/aws/lambda/{p}-", f"/aws/apigateway/{p}-",
                    f"/aws/vendedlogs/states/{p}-", "API-Gateway-Execution-Logs_",
                )
            ],
        ),
        # Log deliveries (Step Functions, API Gateway access logs) and DescribeLogGroups accept only '*'.
        statement(
            "LogDeliveries",
            [
                "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
            ],
            "*",
        ),
    ]


def _bucket_and_role_statements(scope: StageScope) -> list[dict[str, Any]]:
    """The projects' serving buckets, network reads, passing the serving roles."""
    p, account = scope.prefix, scope.account_id
    buckets = scope.serving_buckets
    return [
        statement(
            "ServingBuckets",
            [
                "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:GetAccelerateConfiguration",
                "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketLogging",
                "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
                "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketTagging",
                "s3:GetBucketVersioning", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
                "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:ListBucket",
                "s3:PutBucketLogging", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
            ],
            [f"arn:aws:s3:::{b}" for b in buckets] or [f"arn:aws:s3:::{p}-none"],
        ),
        # The VPC configuration of models and functions is validated against these (no resource scope).
        statement(
            "DescribeNetwork",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
             "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs"],
            "*",
        ),
        statement(
            "PassServingRoles",
            ["iam:PassRole"],
            scope.serving_role_patterns or [naming.role_arn(account, f"{p}-serving-none")],
            condition={"StringEquals": {"iam:PassedToService": PASSED_TO_SERVICES}},
        ),
    ]


def deployment_boundary(scope: StageScope) -> dict[str, Any]:
    """Permissions boundary: the serving services, in this account and region (plus reading model
    packages in EXP), nothing of IAM but passing serving roles and the autoscaling service-linked
    role (pure)."""
    p, region, account = scope.prefix, scope.region, scope.account_id
    in_account = [
        "application-autoscaling:Delete*", "application-autoscaling:Deregister*",
        "application-autoscaling:ListTagsForResource", "application-autoscaling:Put*",
        "application-autoscaling:Register*", "application-autoscaling:TagResource",
        "application-autoscaling:UntagResource",
        "cloudwatch:DeleteAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource", "cloudwatch:UntagResource",
        "events:*Rule", "events:*Targets", "events:ListTargetsByRule", "events:ListTagsForResource",
        "events:TagResource", "events:UntagResource",
        "lambda:*Function*", "lambda:*Permission", "lambda:GetPolicy", "lambda:GetRuntimeManagementConfig",
        "lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:TagResource", "lambda:UntagResource",
        "logs:*KmsKey", "logs:*LogGroup", "logs:*RetentionPolicy", "logs:ListTagsForResource",
        "logs:ListTagsLogGroup", "logs:TagResource", "logs:UntagResource",
        "sagemaker:AddTags", "sagemaker:Create*", "sagemaker:Delete*", "sagemaker:Describe*",
        "sagemaker:InvokeEndpoint", "sagemaker:ListTags", "sagemaker:Start*", "sagemaker:Stop*", "sagemaker:Update*",
        "scheduler:*Schedule", "scheduler:ListTagsForResource", "scheduler:TagResource", "scheduler:UntagResource",
        "sns:*Attributes", "sns:*Topic", "sns:ListTagsForResource", "sns:Subscribe", "sns:TagResource",
        "sns:Unsubscribe", "sns:UntagResource",
        "states:*StateMachine", "states:ListStateMachineVersions", "states:ListTagsForResource",
        "states:TagResource", "states:UntagResource",
    ]
    # Actions without resource-level permissions (reads, log deliveries, subscriptions).
    unscoped = [
        "application-autoscaling:Describe*", "cloudwatch:DescribeAlarms", "ec2:Describe*", "logs:*Delivery",
        "sns:GetSubscriptionAttributes", "sns:Unsubscribe",
        "logs:*ResourcePolicy", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:ListLogDeliveries",
    ]
    buckets = [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:GetAccelerateConfiguration",
        "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration", "s3:ListBucket", "s3:PutBucketLogging", "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
    ]
    apis = ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT",
            "apigateway:UpdateRestApiPolicy"]
    return policy_document(
        [
            statement("ServingServicesInThisAccount", in_account, f"arn:aws:*:{region}:{account}:*"),
            statement("UnscopedReadsAndLogDeliveries", unscoped, "*"),
            statement("PlatformBuckets", buckets, f"arn:aws:s3:::{p}-*"),
            # Models are created from the registry in EXP (the one cross-account read).
            statement("ModelPackagesFromExp", ["sagemaker:DescribeModelPackage"],
                      f"arn:aws:sagemaker:{region}:{scope.exp_account_id}:model-package/*"),
            statement("RegionalApis", apis, f"arn:aws:apigateway:{region}::/*"),
            statement("StageKeysCeiling", ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                                           "kms:GenerateDataKey"], f"arn:aws:kms:{region}:{account}:key/*"),
            statement(
                "PassOnlyServingRoles",
                ["iam:PassRole"],
                naming.role_arn(account, f"{p}-serving-*"),
                condition={"StringEquals": {"iam:PassedToService": PASSED_TO_SERVICES}},
            ),
            statement(
                "OnlyTheAutoscalingServiceLinkedRole",
                ["iam:CreateServiceLinkedRole"],
                f"arn:aws:iam::{account}:role/aws-service-role/{AUTOSCALING_SLR}/*",
                condition={"StringEquals": {"iam:AWSServiceName": AUTOSCALING_SLR}},
            ),
            # IAM is global (its calls carry us-east-1), so it is left out of the region fence.
            {
                "Sid": "OnlyThePlatformRegion",
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": region}},
            },
        ]
    )


@dataclass
class StageDeploymentRoleArgs:
    """Inputs of a :class:`StageDeploymentRole`."""

    role_name: str
    """``naming.stage_deployment_role_name``: the RES deployer assumes it by this name."""
    boundary_name: str
    """The permissions boundary policy's name."""
    res_account_id: str
    deployer_role_arn: str
    """The RES serving deployer role: the only principal the role trusts."""
    scope: StageScope
    """What the boundary and the policy are scoped to (:func:`stage_scope`, without key ARNs)."""
    key_arns: list[pulumi.Input[str]]
    """The stage's platform and logs keys, added to the policy's scope once known."""


class StageDeploymentRole(pulumi.ComponentResource):
    """``<p>-serving-deploy`` with its boundary and scoped inline policy."""

    role: aws.iam.Role
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: StageDeploymentRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:access:StageDeploymentRole", name, None, opts)
        boundary = aws.iam.Policy(
            f"{name}-boundary",
            aws.iam.PolicyArgs(
                name=args.boundary_name,
                description="Ceiling of the serving deployment role: serving services in this account and region",
                policy=json.dumps(deployment_boundary(args.scope)),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role = role_with_policy(
            f"{name}-role",
            role_name=args.role_name,
            description="Assumed by the RES serving deployer to deploy serving stacks",
            trust_policy=deployment_trust_policy(args.res_account_id, args.deployer_role_arn),
            permissions_boundary=boundary.arn,
            max_session_duration=3600,
            policy_resource_name=f"{name}-policy",
            policy_name="serving-deploy",
            policy=pulumi.Output.all(*args.key_arns).apply(
                lambda keys: deployment_role_policy(replace(args.scope, key_arns=list(keys)))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
