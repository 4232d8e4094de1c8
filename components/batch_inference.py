"""Scheduled batch inference: a Step Functions state machine running a SageMaker transform job.

The state machine calls ``CreateTransformJob`` through the ``.sync`` integration (it waits for the
job and fails when the job fails); an EventBridge Scheduler schedule starts it. Input and output are
SecureBuckets; the job encrypts its ML volume (``TransformResources.VolumeKmsKeyId``) and its output
(``TransformOutput.KmsKeyId``) with the stage key, and runs in the VPC and network isolation of its
Model (a transform job inherits both from the Model). The state machine logs to a KMS log group,
traces with X-Ray and encrypts its data with the stage key; failed, timed-out or aborted runs alarm
to the stage's encrypted topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.secure_bucket import SecureBucket, SecureBucketArgs

INPUT_PREFIX = "input"
OUTPUT_PREFIX = "output"


@dataclass
class BatchInferenceArgs:
    """Inputs of a :class:`BatchInference`."""

    state_machine_name: str
    """Name of the state machine and of its schedule (at most 64 characters)."""
    model_name: pulumi.Input[str]
    """The Model the transform job runs (the endpoint's, so both serve the same version)."""
    job_name_prefix: str
    """Transform jobs are named ``<prefix><uuid>``; the batch role is scoped to this prefix."""
    state_machine_role_arn: pulumi.Input[str]
    schedule_role_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    input_bucket_name: str
    output_bucket_name: str
    access_log_bucket: pulumi.Input[str]
    schedule_expression: str
    instance_type: str
    instance_count: int = 1
    content_type: str = "text/csv"
    volume_kms: bool = True
    """False only for NVMe instance types (SageMaker refuses a volume key for them)."""
    log_retention_days: int = 365
    tags: dict[str, str] = field(default_factory=dict)


def transform_state_machine_definition(
    *,
    model_name: str,
    job_name_prefix: str,
    input_s3_uri: str,
    output_s3_uri: str,
    kms_key_arn: str,
    instance_type: str,
    instance_count: int,
    content_type: str,
    volume_kms: bool = True,
) -> dict[str, Any]:
    """Amazon States Language for one transform job with ``.sync`` (pure; tested without Pulumi)."""
    if len(job_name_prefix) + 36 > 63:
        raise ValueError(f"transform job prefix {job_name_prefix!r} leaves no room for a UUID in 63 characters")
    resources: dict[str, Any] = {"InstanceType": instance_type, "InstanceCount": instance_count}
    if volume_kms:
        resources["VolumeKmsKeyId"] = kms_key_arn
    split = "Line" if content_type == "text/csv" else "None"
    return {
        "Comment": "Batch inference: one SageMaker transform job over the input prefix",
        "StartAt": "Transform",
        "States": {
            "Transform": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
                "Parameters": {
                    "TransformJobName.$": f"States.Format('{job_name_prefix}{{}}', States.UUID())",
                    "ModelName": model_name,
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_s3_uri}},
                        "ContentType": content_type,
                        "SplitType": split,
                    },
                    "TransformOutput": {
                        "S3OutputPath": output_s3_uri,
                        "KmsKeyId": kms_key_arn,
                        "Accept": content_type,
                        "AssembleWith": split,
                    },
                    "TransformResources": resources,
                },
                "Retry": [
                    {
                        "ErrorEquals": ["SageMaker.AmazonSageMakerException", "ThrottlingException"],
                        "IntervalSeconds": 60,
                        "MaxAttempts": 2,
                        "BackoffRate": 2.0,
                    }
                ],
                "End": True,
            }
        },
    }


class BatchInference(pulumi.ComponentResource):
    """A scheduled, encrypted, logged batch transform of one Model."""

    input_bucket: SecureBucket
    output_bucket: SecureBucket
    state_machine: aws.sfn.StateMachine
    state_machine_arn: pulumi.Output[str]
    schedule_name: pulumi.Output[str]

    def __init__(self, name: str, args: BatchInferenceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:BatchInference", name, None, opts)
        if len(args.state_machine_name) > 64:
            raise ValueError(f"state machine name {args.state_machine_name!r} exceeds the schedule's 64 characters")
        here = pulumi.ResourceOptions(parent=self)
        self.input_bucket = SecureBucket(
            f"{name}-input",
            SecureBucketArgs(bucket_name=args.input_bucket_name, kms_key_arn=args.kms_key_arn,
                             access_log_bucket=args.access_log_bucket, tags=args.tags),
            opts=here,
        )
        self.output_bucket = SecureBucket(
            f"{name}-output",
            SecureBucketArgs(bucket_name=args.output_bucket_name, kms_key_arn=args.kms_key_arn,
                             access_log_bucket=args.access_log_bucket, tags=args.tags),
            opts=here,
        )
        # Step Functions vended logs must go to a group under /aws/vendedlogs/ (resource policy size).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/vendedlogs/states/{args.state_machine_name}",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=args.tags or None,
            ),
            opts=here,
        )
        definition = pulumi.Output.all(
            args.model_name, self.input_bucket.name, self.output_bucket.name, args.kms_key_arn
        ).apply(
            lambda values: json.dumps(
                transform_state_machine_definition(
                    model_name=values[0],
                    job_name_prefix=args.job_name_prefix,
                    input_s3_uri=f"s3://{values[1]}/{INPUT_PREFIX}/",
                    output_s3_uri=f"s3://{values[2]}/{OUTPUT_PREFIX}/",
                    kms_key_arn=values[3],
                    instance_type=args.instance_type,
                    instance_count=args.instance_count,
                    content_type=args.content_type,
                    volume_kms=args.volume_kms,
                ),
                indent=2,
            )
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            aws.sfn.StateMachineArgs(
                name=args.state_machine_name,
                type="STANDARD",
                role_arn=args.state_machine_role_arn,
                definition=definition,
                logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                    level="ALL",
                    include_execution_data=False,
                    log_destination=log_group.arn.apply(lambda arn: f"{arn}:*"),
                ),
                tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
                encryption_configuration=aws.sfn.StateMachineEncryptionConfigurationArgs(
                    type="CUSTOMER_MANAGED_KMS_KEY",
                    kms_key_id=args.kms_key_arn,
                    kms_data_key_reuse_period_seconds=300,
                ),
                tags=args.tags or None,
            ),
            opts=here,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            aws.scheduler.ScheduleArgs(
                name=args.state_machine_name,
                description=f"Starts the batch inference of {args.state_machine_name}",
                schedule_expression=args.schedule_expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                kms_key_arn=args.kms_key_arn,
                state="ENABLED",
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=self.state_machine.arn,
                    role_arn=args.schedule_role_arn,
                    input=json.dumps({}),
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                        maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                    ),
                ),
            ),
            opts=here,
        )
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{metric.lower()}-alarm",
                aws.cloudwatch.MetricAlarmArgs(
                    name=f"{args.state_machine_name}-{metric}",
                    alarm_description=f"{args.state_machine_name}: a batch inference run ended in {metric}",
                    namespace="AWS/States",
                    metric_name=metric,
                    dimensions={"StateMachineArn": self.state_machine.arn},
                    statistic="Sum",
                    period=300,
                    evaluation_periods=1,
                    threshold=0,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=[args.alarm_topic_arn],
                    tags=args.tags or None,
                ),
                opts=pulumi.ResourceOptions(parent=self.state_machine),
            )
        self.state_machine_arn = self.state_machine.arn
        self.schedule_name = schedule.name
        self.register_outputs(
            {
                "stateMachineArn": self.state_machine_arn,
                "scheduleName": self.schedule_name,
                "inputBucket": self.input_bucket.name,
                "outputBucket": self.output_bucket.name,
            }
        )
