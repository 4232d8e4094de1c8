"""The RES trigger: a rule on the model bus invokes a Lambda that starts the project's deploy pipeline.

EventBridge cannot hand event fields to CodePipeline and V2 pipeline triggers are git-only, so the
rule targets :mod:`mlops_functions.model_trigger` (its docstring is the contract: env, IAM, network).
Hardened: in the RES VPC, environment encrypted with the release key, its own log group (retention,
KMS) created before the function, reserved concurrency, failed invocations and undeliverable events
go to an encrypted SQS queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from mlops_functions import model_trigger

CODE_FILE = Path(model_trigger.__file__)
HANDLER = "model_trigger.handler"
RUNTIME = "python3.12"
#: A handful of model versions arrive per day; more concurrency would only hide a storm.
RESERVED_CONCURRENCY = 2
#: Lambda retries an asynchronous invocation twice before the on-failure destination.
ASYNC_RETRIES = 2
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
ENI_ACTIONS = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:UnassignPrivateIpAddresses",
]


@dataclass
class ModelTriggerArgs:
    """Inputs of a :class:`ModelTrigger`."""

    function_name: str
    """``naming.model_trigger_function_name(org)``; the role gets the same name."""
    platform_name: str
    account_id: str
    region: str
    exp_account_id: str
    event_bus_name: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_ids: list[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    """Encrypts the environment and the failure queue."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int = 365


def trigger_role_policy(region: str, account: str, platform_name: str, log_group_arn: str, queue_arn: str,
                        key_arn: str) -> dict[str, Any]:
    """What the function may do: start deploy pipelines, log, attach to the VPC, report failures (pure)."""
    return policy_document(
        [
            statement(
                "StartDeployPipelines",
                ["codepipeline:StartPipelineExecution"],
                f"arn:aws:codepipeline:{region}:{account}:{platform_name}-deploy-*",
            ),
            statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:*"),
            # Lambda manages the function's ENIs; these actions have no resource-level permissions.
            statement("VpcNetworkInterfaces", ENI_ACTIONS, "*"),
            statement("ReportFailures", ["sqs:SendMessage"], queue_arn),
            statement("UseReleaseKey", ["kms:Decrypt", "kms:GenerateDataKey"], key_arn),
        ]
    )


def failure_queue_policy(queue_arn: str, rule_arn: str, account: str) -> dict[str, Any]:
    """EventBridge may send undeliverable events of this rule only (pure)."""
    return policy_document(
        [
            statement(
                "RuleDeadLetters",
                ["sqs:SendMessage"],
                queue_arn,
                principal={"Service": "events.amazonaws.com"},
                condition={"ArnEquals": {"aws:SourceArn": rule_arn}, "StringEquals": {"aws:SourceAccount": account}},
            ),
            statement(
                "DenyInsecureTransport",
                ["sqs:*"],
                queue_arn,
                effect="Deny",
                principal={"AWS": "*"},
                condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
        ]
    )


class ModelTrigger(pulumi.ComponentResource):
    """Bus rule -> Lambda -> ``StartPipelineExecution`` with ``MODEL_PACKAGE_ARN``."""

    function: aws.lambda_.Function
    rule_arn: pulumi.Output[str]
    failure_queue_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ModelTriggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:release:ModelTrigger", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/lambda/{args.function_name}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
            ),
            opts=here,
        )
        queue = aws.sqs.Queue(
            f"{name}-failures",
            aws.sqs.QueueArgs(
                name=f"{args.function_name}-failures",
                kms_master_key_id=args.kms_key_arn,
                kms_data_key_reuse_period_seconds=300,
                message_retention_seconds=DLQ_RETENTION_SECONDS,
            ),
            opts=here,
        )
        role = role_with_policy(
            f"{name}-role",
            role_name=args.function_name,
            description="RES model trigger Lambda: starts deploy pipelines",
            trust_policy=service_trust_policy("lambda.amazonaws.com", args.account_id),
            policy=pulumi.Output.all(log_group.arn, queue.arn, args.kms_key_arn).apply(
                lambda v: trigger_role_policy(args.region, args.account_id, args.platform_name, v[0], v[1], v[2])
            ),
            opts=here,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            aws.lambda_.FunctionArgs(
                name=args.function_name,
                description="Starts <platform>-deploy-<group> for a new model package version",
                runtime=RUNTIME,
                handler=HANDLER,
                code=pulumi.AssetArchive({CODE_FILE.name: pulumi.FileAsset(str(CODE_FILE))}),
                role=role.role.arn,
                timeout=30,
                memory_size=256,
                reserved_concurrent_executions=RESERVED_CONCURRENCY,
                kms_key_arn=args.kms_key_arn,
                environment=aws.lambda_.FunctionEnvironmentArgs(
                    variables={"PLATFORM_NAME": args.platform_name, "EXP_ACCOUNT_ID": args.exp_account_id}
                ),
                vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                    subnet_ids=args.subnet_ids, security_group_ids=args.security_group_ids
                ),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group.name),
                tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="PassThrough"),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, role.policy]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            aws.lambda_.FunctionEventInvokeConfigArgs(
                function_name=self.function.name,
                maximum_retry_attempts=ASYNC_RETRIES,
                maximum_event_age_in_seconds=3600,
                destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                    on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=queue.arn)
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            aws.cloudwatch.EventRuleArgs(
                name=f"{args.function_name}-model-created",
                description="Model package versions created in EXP (not approval changes)",
                event_bus_name=args.event_bus_name,
                event_pattern=json.dumps(model_trigger.event_pattern(args.exp_account_id)),
                state="ENABLED",
            ),
            opts=here,
        )
        aws.sqs.QueuePolicy(
            f"{name}-failures-policy",
            aws.sqs.QueuePolicyArgs(
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, rule.arn).apply(
                    lambda v: json.dumps(failure_queue_policy(v[0], v[1], args.account_id))
                ),
            ),
            opts=pulumi.ResourceOptions(parent=queue),
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            aws.lambda_.PermissionArgs(
                function=self.function.name,
                action="lambda:InvokeFunction",
                principal="events.amazonaws.com",
                source_arn=rule.arn,
                source_account=args.account_id,
            ),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            aws.cloudwatch.EventTargetArgs(
                rule=rule.name,
                event_bus_name=args.event_bus_name,
                arn=self.function.arn,
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=queue.arn),
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=10
                ),
            ),
            opts=pulumi.ResourceOptions(parent=rule),
        )
        self.rule_arn = rule.arn
        self.failure_queue_arn = queue.arn
        self.register_outputs({"functionArn": self.function.arn, "ruleArn": self.rule_arn})
