"""A SageMaker real-time endpoint serving one registered model package version.

What it builds, secure by default:

- the endpoint's log group ``/aws/sagemaker/Endpoints/<name>``, created before SageMaker would
  create it (KMS, retention);
- a SecureBucket for captured requests and responses (KMS);
- the Model from the package (``primaryContainer.modelPackageName``) in the stage VPC with network
  isolation, run by the project's model role;
- an EndpointConfiguration (``name_prefix``: configurations are immutable, a change creates a new
  one before the endpoint moves to it) with the volume key, data capture and one production variant;
- the 5xx and p99 latency alarms, to the stage's encrypted alert topic;
- the Endpoint, with a blue/green deployment policy that rolls back on those alarms when enabled;
- when enabled, an Application Auto Scaling target and a target-tracking policy on the variant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_core.instance_storage import has_nvme_instance_store

VARIANT_NAME = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@dataclass
class BlueGreenPolicy:
    """Blue/green update of the endpoint, rolled back automatically by the endpoint's alarms."""

    traffic_routing: str = "ALL_AT_ONCE"
    """``ALL_AT_ONCE`` or ``CANARY``."""
    canary_percent: int = 10
    wait_interval_seconds: int = 300
    termination_wait_seconds: int = 300
    maximum_execution_timeout_seconds: int = 3600


@dataclass
class ScalingPolicy:
    """Target tracking on ``SageMakerVariantInvocationsPerInstance``."""

    min_capacity: int
    max_capacity: int
    target_invocations_per_instance: float
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60


@dataclass
class ModelEndpointArgs:
    """Inputs of a :class:`ModelEndpoint`."""

    endpoint_name: str
    """Physical endpoint name (``naming.endpoint_name``; at most 63 characters)."""
    model_package_arn: pulumi.Input[str]
    """The versioned model package to serve (may live in another account)."""
    execution_role_arn: pulumi.Input[str]
    """The project's model role (created by the platform stage stack)."""
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: pulumi.Input[list[str]]
    kms_key_arn: pulumi.Input[str]
    """The stage's platform key: ML volume and captured data."""
    logs_key_arn: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str]
    """The stage's KMS-encrypted alert topic."""
    capture_bucket_name: str
    access_log_bucket: pulumi.Input[str]
    instance_type: str
    initial_instance_count: int
    data_capture_percent: int = 100
    capture_prefix: str = "capture"
    log_retention_days: int = 365
    latency_p99_ms: float = 500
    errors_5xx_per_minute: float = 1
    alarm_evaluation_periods: int = 2
    blue_green: BlueGreenPolicy | None = None
    """None: update without a deployment policy (DEV)."""
    scaling: ScalingPolicy | None = None
    """None: no scaling target (also phase one of an instance-type change)."""
    tags: dict[str, str] = field(default_factory=dict)


def content_name(prefix: str, *inputs: pulumi.Input[Any]) -> pulumi.Output[str]:
    """``<prefix>-<hash of the inputs>`` (at most 57 characters): changes exactly when an input does."""
    return pulumi.Output.all(*inputs).apply(
        lambda values: f"{prefix[:44]}-{hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:12]}"
    )


def uses_nvme_storage(instance_type: str) -> bool:
    """NVMe instance store (SageMaker refuses a volume KMS key there): ``mlops_core.instance_storage``."""
    return has_nvme_instance_store(instance_type)


def alarm_names(endpoint_name: str) -> dict[str, str]:
    return {"errors_5xx": f"{endpoint_name}-5xx-errors", "latency": f"{endpoint_name}-p99-latency"}


def scaling_resource_id(endpoint_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{VARIANT_NAME}"


class ModelEndpoint(pulumi.ComponentResource):
    """A private, encrypted, monitored SageMaker endpoint for one model package version."""

    model: aws.sagemaker.Model
    endpoint: aws.sagemaker.Endpoint
    capture_bucket: SecureBucket
    model_name: pulumi.Output[str]
    endpoint_name: pulumi.Output[str]
    capture_s3_uri: pulumi.Output[str]

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:ModelEndpoint", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/sagemaker/Endpoints/{args.endpoint_name}",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=args.tags or None,
            ),
            opts=here,
        )
        self.capture_bucket = SecureBucket(
            f"{name}-capture",
            SecureBucketArgs(
                bucket_name=args.capture_bucket_name,
                kms_key_arn=args.kms_key_arn,
                access_log_bucket=args.access_log_bucket,
                tags=args.tags,
            ),
            opts=here,
        )
        self.capture_s3_uri = self.capture_bucket.name.apply(lambda b: f"s3://{b}/{args.capture_prefix}")

        self.model = aws.sagemaker.Model(
            f"{name}-model",
            aws.sagemaker.ModelArgs(
                # Models are immutable: a new name whenever an input changes lets the new model exist
                # before the endpoint leaves the old one. Names start with the endpoint's (IAM scope).
                name=content_name(
                    args.endpoint_name, args.model_package_arn, args.execution_role_arn, args.subnet_ids,
                    args.security_group_ids,
                ),
                primary_container=aws.sagemaker.ModelPrimaryContainerArgs(model_package_name=args.model_package_arn),
                execution_role_arn=args.execution_role_arn,
                enable_network_isolation=True,
                vpc_config=aws.sagemaker.ModelVpcConfigArgs(
                    subnets=args.subnet_ids, security_group_ids=args.security_group_ids
                ),
                tags=args.tags or None,
            ),
            opts=here,
        )
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            aws.sagemaker.EndpointConfigurationArgs(
                # SageMaker appends 26 characters to the prefix: at most 37 fit in 63.
                name_prefix=f"{args.endpoint_name[:36]}-",
                kms_key_arn=None if uses_nvme_storage(args.instance_type) else args.kms_key_arn,
                production_variants=[
                    aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                        variant_name=VARIANT_NAME,
                        model_name=self.model.name,
                        instance_type=args.instance_type,
                        initial_instance_count=args.initial_instance_count,
                        initial_variant_weight=1.0,
                    )
                ],
                data_capture_config=aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                    enable_capture=True,
                    initial_sampling_percentage=args.data_capture_percent,
                    destination_s3_uri=self.capture_s3_uri,
                    kms_key_id=args.kms_key_arn,
                    capture_options=[
                        aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Input"),
                        aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode="Output"),
                    ],
                    capture_content_type_header=aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                        csv_content_types=["text/csv"], json_content_types=["application/json"]
                    ),
                ),
                tags=args.tags or None,
            ),
            # Captured data lands in the bucket from the first request: bucket, policy and encryption first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.capture_bucket]),
        )

        alarms = self._alarms(name, args)
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            aws.sagemaker.EndpointArgs(
                name=args.endpoint_name,
                endpoint_config_name=config.name,
                deployment_config=_deployment_config(args, list(alarm_names(args.endpoint_name).values())),
                tags=args.tags or None,
            ),
            # The log group and the rollback alarms exist before the endpoint (and its first deploy).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *alarms]),
        )
        if args.scaling is not None:
            self._autoscaling(name, args, args.scaling)

        self.model_name = self.model.name
        self.endpoint_name = self.endpoint.name
        self.register_outputs(
            {"endpointName": self.endpoint_name, "modelName": self.model_name, "captureS3Uri": self.capture_s3_uri}
        )

    def _alarms(self, name: str, args: ModelEndpointArgs) -> list[aws.cloudwatch.MetricAlarm]:
        dimensions = {"EndpointName": args.endpoint_name, "VariantName": VARIANT_NAME}
        names = alarm_names(args.endpoint_name)
        common = dict(
            namespace="AWS/SageMaker",
            dimensions=dimensions,
            period=60,
            evaluation_periods=args.alarm_evaluation_periods,
            datapoints_to_alarm=args.alarm_evaluation_periods,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            tags=args.tags or None,
        )
        errors = aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-alarm",
            aws.cloudwatch.MetricAlarmArgs(
                name=names["errors_5xx"],
                alarm_description=f"{args.endpoint_name}: model 5xx errors; rolls back a blue/green deploy",
                metric_name="Invocation5XXErrors",
                statistic="Sum",
                threshold=args.errors_5xx_per_minute,
                **common,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        latency = aws.cloudwatch.MetricAlarm(
            f"{name}-latency-alarm",
            aws.cloudwatch.MetricAlarmArgs(
                name=names["latency"],
                alarm_description=f"{args.endpoint_name}: p99 model latency; rolls back a blue/green deploy",
                metric_name="ModelLatency",
                extended_statistic="p99",
                # ModelLatency is reported in microseconds.
                threshold=args.latency_p99_ms * 1000,
                **common,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [errors, latency]

    def _autoscaling(self, name: str, args: ModelEndpointArgs, scaling: ScalingPolicy) -> None:
        target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            aws.appautoscaling.TargetArgs(
                service_namespace="sagemaker",
                # Derived from the endpoint's output: the target is registered only once the endpoint exists.
                resource_id=self.endpoint.name.apply(scaling_resource_id),
                scalable_dimension=SCALABLE_DIMENSION,
                min_capacity=scaling.min_capacity,
                max_capacity=scaling.max_capacity,
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.appautoscaling.Policy(
            f"{name}-scaling-policy",
            aws.appautoscaling.PolicyArgs(
                name=f"{args.endpoint_name}-invocations",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=scaling.target_invocations_per_instance,
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                    ),
                    scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                    scale_out_cooldown=scaling.scale_out_cooldown_seconds,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=target),
        )


def _deployment_config(args: ModelEndpointArgs, rollback_alarms: list[str]) -> aws.sagemaker.EndpointDeploymentConfigArgs | None:
    policy = args.blue_green
    if policy is None:
        return None
    wait = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs
    routing = wait(type=policy.traffic_routing, wait_interval_in_seconds=policy.wait_interval_seconds)
    if policy.traffic_routing == "CANARY":
        routing = wait(
            type="CANARY",
            wait_interval_in_seconds=policy.wait_interval_seconds,
            canary_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                type="CAPACITY_PERCENT", value=policy.canary_percent
            ),
        )
    return aws.sagemaker.EndpointDeploymentConfigArgs(
        blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=policy.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=policy.maximum_execution_timeout_seconds,
        ),
        auto_rollback_configuration=aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
            alarms=[aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=n) for n in rollback_alarms]
        ),
    )
