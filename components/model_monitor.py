"""Model Monitor for one endpoint: an hourly data-quality job over the captured data.

The baseline (constraints and statistics) comes from the model build pipeline, registered on the
package as ``DriftCheckBaselines.ModelDataQuality``; Pulumi has no resource for a baseline job, so the
deployer reads the two URIs (``mlops_functions.monitoring_baseline``) and passes them in. The job
runs in the stage VPC with network isolation, inter-container encryption and KMS on its volume and
reports. Violations (and failed runs) are sent to the stage's encrypted alert topic by an
EventBridge rule on the monitoring job's completion event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.model_endpoint import content_name

HOURLY = "cron(0 * ? * * *)"
#: The hourly job must finish within the hour.
MAX_RUNTIME_SECONDS = 3600
CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
REPORT_LOCAL_PATH = "/opt/ml/processing/output"


@dataclass
class ModelMonitorArgs:
    """Inputs of a :class:`ModelMonitor`."""

    endpoint_name: pulumi.Input[str]
    schedule_name: str
    """Name of the monitoring schedule (at most 63 characters)."""
    role_arn: pulumi.Input[str]
    """The project's monitor role (created by the platform stage stack)."""
    image_uri: str
    """The region's ``sagemaker-model-monitor-analyzer`` image."""
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: pulumi.Input[list[str]]
    kms_key_arn: pulumi.Input[str]
    report_s3_uri: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    baseline_constraints_uri: str | None = None
    baseline_statistics_uri: str | None = None
    """Both or neither. Without a baseline the job computes statistics only and reports no violations."""
    instance_type: str = "ml.m5.large"
    volume_size_gb: int = 20
    schedule_expression: str = HOURLY
    tags: dict[str, str] = field(default_factory=dict)


def violations_event_pattern(schedule_name: str) -> dict[str, Any]:
    """EventBridge pattern: a run of this schedule that found violations or failed (pure).

    A monitoring run is a processing job whose environment names its schedule
    (``sagemaker_monitoring_schedule_name``); the state-change event carries the job's description.
    """
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {
            "Environment": {"sagemaker_monitoring_schedule_name": [schedule_name]},
            "$or": [
                {"ProcessingJobStatus": ["Failed"]},
                {"ExitMessage": [{"prefix": "CompletedWithViolations"}]},
            ],
        },
    }


class ModelMonitor(pulumi.ComponentResource):
    """Data-quality monitoring of an endpoint, hourly, isolated and encrypted."""

    job_definition: aws.sagemaker.DataQualityJobDefinition
    schedule: aws.sagemaker.MonitoringSchedule
    schedule_name: pulumi.Output[str]

    def __init__(self, name: str, args: ModelMonitorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:ModelMonitor", name, None, opts)
        if (args.baseline_constraints_uri is None) != (args.baseline_statistics_uri is None):
            raise ValueError("baseline_constraints_uri and baseline_statistics_uri are given together")
        here = pulumi.ResourceOptions(parent=self)
        baseline = None
        if args.baseline_constraints_uri and args.baseline_statistics_uri:
            baseline = aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                    s3_uri=args.baseline_constraints_uri
                ),
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                    s3_uri=args.baseline_statistics_uri
                ),
            )
        # Job definitions are immutable: a content-derived name lets a changed one (new baseline)
        # exist before the schedule moves to it.
        self.job_definition = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-data-quality",
            aws.sagemaker.DataQualityJobDefinitionArgs(
                name=content_name(
                    f"{args.schedule_name[:40]}-dq", args.endpoint_name, args.role_arn, args.image_uri,
                    args.baseline_constraints_uri, args.baseline_statistics_uri, args.subnet_ids,
                    args.security_group_ids, args.kms_key_arn, args.report_s3_uri, args.instance_type,
                    args.volume_size_gb,
                ),
                role_arn=args.role_arn,
                data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                    image_uri=args.image_uri,
                    environment={"publish_cloudwatch_metrics": "Enabled"},
                ),
                data_quality_baseline_config=baseline,
                data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                    endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                        endpoint_name=args.endpoint_name,
                        local_path=CAPTURE_LOCAL_PATH,
                        s3_input_mode="File",
                        s3_data_distribution_type="FullyReplicated",
                    )
                ),
                data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                    kms_key_id=args.kms_key_arn,
                    monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                        s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                            local_path=REPORT_LOCAL_PATH, s3_uri=args.report_s3_uri, s3_upload_mode="EndOfJob"
                        )
                    ),
                ),
                job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                    cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                        instance_count=1,
                        instance_type=args.instance_type,
                        volume_size_in_gb=args.volume_size_gb,
                        volume_kms_key_id=args.kms_key_arn,
                    )
                ),
                network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
                    enable_inter_container_traffic_encryption=True,
                    enable_network_isolation=True,
                    vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                        subnets=args.subnet_ids, security_group_ids=args.security_group_ids
                    ),
                ),
                stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(
                    max_runtime_in_seconds=MAX_RUNTIME_SECONDS
                ),
                tags=args.tags or None,
            ),
            opts=here,
        )
        self.schedule = aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            aws.sagemaker.MonitoringScheduleArgs(
                name=args.schedule_name,
                monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                    monitoring_job_definition_name=self.job_definition.name,
                    monitoring_type="DataQuality",
                    schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                        schedule_expression=args.schedule_expression
                    ),
                ),
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self.job_definition),
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-violations",
            aws.cloudwatch.EventRuleArgs(
                name=f"{args.schedule_name[:50]}-violations",
                description="Model Monitor run with violations or failed: notify the alert topic",
                event_pattern=json.dumps(violations_event_pattern(args.schedule_name)),
                tags=args.tags or None,
            ),
            opts=here,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-violations-to-topic",
            aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=args.alarm_topic_arn),
            opts=pulumi.ResourceOptions(parent=rule),
        )
        self.schedule_name = self.schedule.name
        self.register_outputs({"scheduleName": self.schedule_name, "jobDefinitionName": self.job_definition.name})
