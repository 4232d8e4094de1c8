"""What one serving stack ``<project>-<stage>`` declares, from validated :class:`ServingSettings`.

The stage's platform stack (project ``mlops-platform``) holds the network, keys, alert topic and every
role; this stack reads them by StackReference and declares only serving resources, so a platform
deploy cannot revert a model and the stage deployment role stays scoped to serving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch_inference import BatchInference, BatchInferenceArgs
from components.model_endpoint import (
    BlueGreenPolicy,
    ModelEndpoint,
    ModelEndpointArgs,
    ScalingPolicy,
    uses_nvme_storage,
)
from components.model_monitor import ModelMonitor, ModelMonitorArgs
from components.private_api import PrivateApi, PrivateApiArgs
from components.serving_policies import (
    MONITORING_PREFIX,
    api_function_name,
    batch_state_machine_name,
    serving_bucket_names,
    transform_job_prefix,
)
from mlops_core.naming import PROJECT_TAG_KEY, role_arn, stack_reference_name, stage_deployment_role_name
from serving_settings import ServingSettings

PLATFORM_PROJECT = "mlops-platform"
SERVING_PROJECT = "mlops-serving"


def stage_provider(settings: ServingSettings, account_id: str) -> aws.Provider:
    """Provider for the stage account: the stage deployment role, tags, account guard."""
    org = settings.org
    tags = {**org.tags, "mlops:stack": settings.stack, "mlops:account-role": settings.stage, PROJECT_TAG_KEY: settings.project}
    return aws.Provider(
        f"{settings.stage}-serving",
        aws.ProviderArgs(
            region=org.region,
            allowed_account_ids=[account_id],
            assume_roles=[
                aws.ProviderAssumeRoleArgs(
                    role_arn=role_arn(account_id, stage_deployment_role_name(org)),
                    session_name=f"serving-{settings.stack}"[:64],
                )
            ],
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
        ),
    )


#: Outputs of the stage's platform stack this stack reads.
PLATFORM_OUTPUTS = (
    "subnetIds", "servingSecurityGroupId", "platformKeyArn", "logsKeyArn", "alertsTopicArn",
    "accessLogBucket", "endpointIds", "servingRoleArns",
)


class PlatformOutputs:
    """The stage platform stack's outputs, checked once: a missing one is a one-line error.

    An empty output map is tolerated: the offline harness answers a StackReference only after a
    first run that discovers it (and a real deploy of a never-deployed platform stack fails at the
    reference itself).
    """

    def __init__(self, settings: ServingSettings) -> None:
        self._settings = settings
        reference = pulumi.StackReference(stack_reference_name(PLATFORM_PROJECT, settings.platform_stack))
        self._outputs = reference.outputs.apply(self._check)

    def _check(self, outputs: Any) -> dict[str, Any]:
        outputs = dict(outputs or {})
        missing = [key for key in PLATFORM_OUTPUTS if outputs and key not in outputs]
        if missing:
            raise pulumi.RunError(
                f"platform stack {self._settings.platform_stack} does not export {', '.join(missing)}: "
                "deploy it with this version of the platform first"
            )
        return outputs

    def get(self, key: str) -> pulumi.Output[Any]:
        return self._outputs.apply(lambda outputs: outputs.get(key))

    def role(self, purpose: str) -> pulumi.Output[str]:
        """ARN of the project's serving role for ``purpose`` (created by the platform stage stack)."""
        settings = self._settings

        def pick(roles: Any) -> Any:
            if roles is None:
                return None
            try:
                return roles[settings.project][purpose]
            except (KeyError, TypeError):
                raise pulumi.RunError(
                    f"platform stack {settings.platform_stack} has no serving role {purpose!r} for project "
                    f"{settings.project}: deploy the platform stack after adding the project"
                ) from None

        return self.get("servingRoleArns").apply(pick)

    def execute_api_endpoint(self) -> pulumi.Output[str]:
        def pick(endpoint_ids: Any) -> Any:
            if endpoint_ids is None:
                return None
            if "execute-api" not in endpoint_ids:
                raise pulumi.RunError(
                    f"platform stack {self._settings.platform_stack} has no execute-api VPC endpoint (endpointIds)"
                )
            return endpoint_ids["execute-api"]

        return self.get("endpointIds").apply(pick)


def model_package_arn(settings: ServingSettings) -> pulumi.Input[str]:
    """The package to serve: from config, else the one this stack exported on its last deploy."""
    if settings.model_package_arn:
        return settings.model_package_arn
    itself = pulumi.StackReference(stack_reference_name(SERVING_PROJECT, settings.stack))
    return itself.require_output("modelPackageArn")


@dataclass
class StageInputs:
    """What every part of a serving stack takes from the stage: its platform outputs and options."""

    settings: ServingSettings
    platform: PlatformOutputs
    account_id: str
    opts: pulumi.ResourceOptions
    tags: dict[str, str]
    buckets: dict[str, str]

    def __post_init__(self) -> None:
        self.subnet_ids = self.platform.get("subnetIds")
        self.security_group_ids = self.platform.get("servingSecurityGroupId").apply(lambda sg: [sg] if sg else [])
        self.platform_key = self.platform.get("platformKeyArn")
        self.logs_key = self.platform.get("logsKeyArn")
        self.alerts_topic = self.platform.get("alertsTopicArn")
        self.access_logs = self.platform.get("accessLogBucket")


def build(settings: ServingSettings) -> dict[str, Any]:
    """Declare the serving stack (endpoint, then the switched-on extensions); returns its exports."""
    account_id = settings.org.accounts.by_role()[settings.stage]
    stage = StageInputs(
        settings=settings,
        platform=PlatformOutputs(settings),
        account_id=account_id,
        opts=pulumi.ResourceOptions(provider=stage_provider(settings, account_id)),
        tags={PROJECT_TAG_KEY: settings.project, "mlops:stage": settings.stage},
        buckets=serving_bucket_names(settings.org, account_id, settings.project),
    )
    package = model_package_arn(settings)
    endpoint = _endpoint(stage, package)
    exports: dict[str, Any] = {
        "project": settings.project,
        "stage": settings.stage,
        "modelPackageArn": package,
        "endpointName": endpoint.endpoint_name,
        "modelName": endpoint.model_name,
        "captureS3Uri": endpoint.capture_s3_uri,
        "instanceType": settings.defaults.instance_type,
        "autoscaling": settings.autoscaling_active,
    }
    extensions = settings.extensions
    if extensions.batch_inference:
        batch = _batch_inference(stage, endpoint)
        exports["batchStateMachineArn"] = batch.state_machine_arn
        exports["batchInputBucket"] = batch.input_bucket.name
        exports["batchOutputBucket"] = batch.output_bucket.name
    if extensions.private_api:
        api = _private_api(stage, endpoint)
        exports["apiId"] = api.api_id
        exports["apiInvokeUrl"] = api.invoke_url
    if extensions.model_monitor:
        exports["monitoringScheduleName"] = _model_monitor(stage, endpoint).schedule_name
    return exports


def _endpoint(stage: StageInputs, package: pulumi.Input[str]) -> ModelEndpoint:
    settings, defaults = stage.settings, stage.settings.defaults
    blue_green = None
    if defaults.blue_green.enabled:
        bg = defaults.blue_green
        blue_green = BlueGreenPolicy(
            traffic_routing=bg.traffic_routing,
            canary_percent=bg.canary_percent,
            wait_interval_seconds=bg.wait_interval_seconds,
            termination_wait_seconds=bg.termination_wait_seconds,
            maximum_execution_timeout_seconds=bg.maximum_execution_timeout_seconds,
        )
    scaling = None
    if settings.autoscaling_active:
        auto = defaults.autoscaling
        scaling = ScalingPolicy(
            min_capacity=auto.min_capacity,
            max_capacity=auto.max_capacity,
            target_invocations_per_instance=auto.target_invocations_per_instance,
            scale_in_cooldown_seconds=auto.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds=auto.scale_out_cooldown_seconds,
        )
    return ModelEndpoint(
        settings.stack,
        ModelEndpointArgs(
            endpoint_name=settings.endpoint_name,
            model_package_arn=package,
            execution_role_arn=stage.platform.role("model"),
            subnet_ids=stage.subnet_ids,
            security_group_ids=stage.security_group_ids,
            kms_key_arn=stage.platform_key,
            logs_key_arn=stage.logs_key,
            alarm_topic_arn=stage.alerts_topic,
            capture_bucket_name=stage.buckets["capture"],
            access_log_bucket=stage.access_logs,
            instance_type=defaults.instance_type,
            initial_instance_count=defaults.initial_instance_count,
            data_capture_percent=defaults.data_capture_percent,
            log_retention_days=defaults.log_retention_days,
            latency_p99_ms=defaults.alarms.latency_p99_ms,
            errors_5xx_per_minute=defaults.alarms.errors_5xx_per_minute,
            alarm_evaluation_periods=defaults.alarms.evaluation_periods,
            blue_green=blue_green,
            scaling=scaling,
            tags=stage.tags,
        ),
        opts=stage.opts,
    )


def _batch_inference(stage: StageInputs, endpoint: ModelEndpoint) -> BatchInference:
    settings, batch = stage.settings, stage.settings.defaults.batch_inference
    return BatchInference(
        f"{settings.stack}-batch",
        BatchInferenceArgs(
            state_machine_name=batch_state_machine_name(settings.endpoint_name),
            model_name=endpoint.model_name,
            job_name_prefix=transform_job_prefix(settings.project),
            state_machine_role_arn=stage.platform.role("batch"),
            schedule_role_arn=stage.platform.role("batch-schedule"),
            kms_key_arn=stage.platform_key,
            logs_key_arn=stage.logs_key,
            alarm_topic_arn=stage.alerts_topic,
            input_bucket_name=stage.buckets["batch_input"],
            output_bucket_name=stage.buckets["batch_output"],
            access_log_bucket=stage.access_logs,
            schedule_expression=batch.schedule,
            instance_type=batch.instance_type,
            instance_count=batch.instance_count,
            content_type=batch.content_type,
            volume_kms=not uses_nvme_storage(batch.instance_type),
            log_retention_days=settings.defaults.log_retention_days,
            tags=stage.tags,
        ),
        opts=stage.opts,
    )


def _private_api(stage: StageInputs, endpoint: ModelEndpoint) -> PrivateApi:
    settings, api = stage.settings, stage.settings.defaults.private_api
    return PrivateApi(
        f"{settings.stack}-api",
        PrivateApiArgs(
            api_name=settings.endpoint_name,
            function_name=api_function_name(settings.endpoint_name),
            endpoint_name=endpoint.endpoint_name,
            function_role_arn=stage.platform.role("api"),
            vpc_endpoint_id=stage.platform.execute_api_endpoint(),
            subnet_ids=stage.subnet_ids,
            security_group_ids=stage.security_group_ids,
            kms_key_arn=stage.platform_key,
            logs_key_arn=stage.logs_key,
            account_id=stage.account_id,
            region=settings.org.region,
            throttling_rate_limit=api.throttling_rate_limit,
            throttling_burst_limit=api.throttling_burst_limit,
            reserved_concurrency=api.reserved_concurrency,
            memory_mb=api.memory_mb,
            log_retention_days=settings.defaults.log_retention_days,
            tags=stage.tags,
        ),
        opts=stage.opts,
    )


def _model_monitor(stage: StageInputs, endpoint: ModelEndpoint) -> ModelMonitor:
    from sagemaker.core import image_uris  # only when needed: the SDK is slow to import

    settings, monitor = stage.settings, stage.settings.defaults.model_monitor
    if not settings.baseline_constraints_uri:
        pulumi.log.warn(
            f"{settings.stack}: no serving:baselineConstraintsUri/baselineStatisticsUri; the data-quality "
            "job computes statistics only and reports no violations until the deployer passes the baseline"
        )
    return ModelMonitor(
        f"{settings.stack}-monitor",
        ModelMonitorArgs(
            endpoint_name=endpoint.endpoint_name,
            schedule_name=f"{settings.endpoint_name[:54]}-monitor",
            role_arn=stage.platform.role("monitor"),
            image_uri=image_uris.retrieve("model-monitor", region=settings.org.region),
            subnet_ids=stage.subnet_ids,
            security_group_ids=stage.security_group_ids,
            kms_key_arn=stage.platform_key,
            report_s3_uri=endpoint.capture_bucket.name.apply(lambda bucket: f"s3://{bucket}/{MONITORING_PREFIX}"),
            alarm_topic_arn=stage.alerts_topic,
            baseline_constraints_uri=settings.baseline_constraints_uri,
            baseline_statistics_uri=settings.baseline_statistics_uri,
            instance_type=monitor.instance_type,
            volume_size_gb=monitor.volume_size_gb,
            schedule_expression=monitor.schedule,
            tags=stage.tags,
        ),
        opts=stage.opts,
    )
