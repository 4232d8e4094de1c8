"""Validated settings of one serving stack ``<project>-<stage>`` (pure; tested without Pulumi).

Three sources, merged in this order:

1. ``serving/stages/<stage>.yaml``: committed per-stage defaults (:class:`StageDefaults`);
2. ``organization.yaml`` ``modelProjects[].serving.<stage>``: per-model overrides
   (``config.ServingOverrides``);
3. the stack's config (namespace ``serving:``, :class:`ServingConfig`), set by the deployer: the
   model package ARN (never in git), the autoscaling phase switch and the Model Monitor baseline.

Every problem is one :class:`ConfigError` line naming the file or key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from components.serving_policies import serving_bucket_names
from mlops_core.config import CamelModel, ConfigError, OrganizationConfig, ServingOverrides, described, validation_problems
from mlops_core.roles import STAGES, Stage
from mlops_core.naming import endpoint_name

SERVING_DIR = Path(__file__).absolute().parent
STAGES_DIR = SERVING_DIR / "stages"
NAMESPACE = "serving"
MODEL_PACKAGE_ARN = described(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$",
                              "a versioned model package ARN, arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>")
S3_URI = described(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", "an s3://<bucket>/<key> URI")
InstanceType = Annotated[str, Field(pattern=described(r"^ml\.[a-z0-9]+\.[a-z0-9]+$", "a SageMaker instance type such as ml.m5.large"))]
ScheduleExpression = Annotated[str, Field(pattern=described(r"^(rate|cron)\(.+\)$", "an EventBridge Scheduler expression, rate(...) or cron(...)"))]
LogRetention = Literal[365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


# ---- serving/stages/<stage>.yaml -----------------------------------------------------------------


class BlueGreen(CamelModel):
    """SageMaker blue/green deployment (``deploymentConfig.blueGreenUpdatePolicy``)."""

    enabled: bool = False
    traffic_routing: Literal["ALL_AT_ONCE", "CANARY"] = "ALL_AT_ONCE"
    canary_percent: Annotated[int, Field(ge=1, le=50)] = 10
    """CANARY: share of the new fleet's capacity that takes traffic first."""
    wait_interval_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Bake time watched by the rollback alarms before shifting (the rest of the) traffic."""
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """How long the old fleet stays after the shift, for a quick rollback."""
    maximum_execution_timeout_seconds: Annotated[int, Field(ge=600, le=14400)] = 3600


class Autoscaling(CamelModel):
    """Application Auto Scaling of the production variant (target tracking)."""

    enabled: bool = False
    min_capacity: Annotated[int, Field(ge=1, le=20)] = 1
    max_capacity: Annotated[int, Field(ge=1, le=100)] = 2
    target_invocations_per_instance: Annotated[float, Field(gt=0)] = 100
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0)] = 300
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0)] = 60

    @model_validator(mode="after")
    def _min_below_max(self) -> Autoscaling:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"minCapacity {self.min_capacity} exceeds maxCapacity {self.max_capacity}")
        return self


class Alarms(CamelModel):
    latency_p99_ms: Annotated[float, Field(gt=0)] = 500
    """p99 ``ModelLatency`` above this (milliseconds) alarms (and rolls back a blue/green deploy)."""
    errors_5xx_per_minute: Annotated[float, Field(ge=0, alias="errors5xxPerMinute")] = 1
    """``Invocation5XXErrors`` per minute above this alarms."""
    evaluation_periods: Annotated[int, Field(ge=1, le=60)] = 2


class Extensions(CamelModel):
    batch_inference: bool = False
    private_api: bool = False
    model_monitor: bool = False


class BatchInferenceDefaults(CamelModel):
    schedule: ScheduleExpression = "cron(0 2 * * ? *)"
    """EventBridge Scheduler expression (UTC)."""
    instance_type: InstanceType = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    content_type: Literal["text/csv", "application/json"] = "text/csv"


class PrivateApiDefaults(CamelModel):
    throttling_rate_limit: Annotated[float, Field(gt=0, le=10000)] = 50
    throttling_burst_limit: Annotated[int, Field(ge=1, le=5000)] = 100
    reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 10
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 256


class ModelMonitorDefaults(CamelModel):
    instance_type: InstanceType = "ml.m5.large"
    volume_size_gb: Annotated[int, Field(ge=1, le=512)] = 20
    schedule: Literal["cron(0 * ? * * *)"] = "cron(0 * ? * * *)"
    """Hourly: the one cadence the job's 3,600-second runtime limit is made for."""


class StageDefaults(CamelModel):
    """The committed defaults of one stage (``serving/stages/<stage>.yaml``)."""

    instance_type: InstanceType
    initial_instance_count: Annotated[int, Field(ge=1, le=20)]
    data_capture_percent: Annotated[int, Field(ge=1, le=100)] = 100
    log_retention_days: LogRetention = 365
    blue_green: BlueGreen = BlueGreen()
    autoscaling: Autoscaling = Autoscaling()
    alarms: Alarms = Alarms()
    extensions: Extensions = Extensions()
    batch_inference: BatchInferenceDefaults = BatchInferenceDefaults()
    private_api: PrivateApiDefaults = PrivateApiDefaults()
    model_monitor: ModelMonitorDefaults = ModelMonitorDefaults()

    def with_overrides(self, overrides: ServingOverrides | None) -> StageDefaults:
        """The defaults with a model's overrides from organization.yaml applied (validated again)."""
        if overrides is None:
            return self
        data = self.model_dump(by_alias=True)
        set_fields = overrides.model_dump(exclude_none=True)
        for key, target in (("instance_type", "instanceType"), ("initial_instance_count", "initialInstanceCount")):
            if key in set_fields:
                data[target] = set_fields[key]
        for key, target in (("min_capacity", "minCapacity"), ("max_capacity", "maxCapacity")):
            if key in set_fields:
                data["autoscaling"][target] = set_fields[key]
        for key, target in (("batch_inference", "batchInference"), ("private_api", "privateApi"), ("model_monitor", "modelMonitor")):
            if key in set_fields:
                data["extensions"][target] = set_fields[key]
        return StageDefaults.model_validate(data)


# ---- stack config (serving:) ---------------------------------------------------------------------


class ServingConfig(CamelModel):
    """The ``serving:`` keys of a serving stack, as the deployer (or the offline plan) sets them."""

    project: str | None = None
    """Model project; default: the stack name without its ``-<stage>`` suffix."""
    stage: Stage | None = None
    """Default: the stack name's suffix."""
    platform_stack: Annotated[str, Field(pattern=described(r"^[a-z][a-z0-9-]{0,62}$", "a stack name: lower-case letters, digits and hyphens"))] | None = None
    """The stage's platform stack (project ``mlops-platform``); default: the stage."""
    model_package_arn: Annotated[str, Field(pattern=MODEL_PACKAGE_ARN)] | None = None
    """The version to serve. Absent: keep the one this stack exported on its last deploy."""
    autoscaling_enabled: bool = True
    """The deployer's phase switch: ``false`` deregisters the scaling target (instance-type change)."""
    baseline_constraints_uri: Annotated[str, Field(pattern=S3_URI)] | None = None
    baseline_statistics_uri: Annotated[str, Field(pattern=S3_URI)] | None = None

    @model_validator(mode="after")
    def _baseline_pair(self) -> ServingConfig:
        if (self.baseline_constraints_uri is None) != (self.baseline_statistics_uri is None):
            raise ValueError("baselineConstraintsUri and baselineStatisticsUri are set together")
        return self


@dataclass(frozen=True)
class ServingSettings:
    """Everything the serving program needs, validated."""

    stack: str
    org: OrganizationConfig
    project: str
    stage: str
    platform_stack: str
    model_package_arn: str | None
    defaults: StageDefaults
    """Stage defaults with the model's overrides applied."""
    autoscaling_enabled: bool
    baseline_constraints_uri: str | None
    baseline_statistics_uri: str | None

    @property
    def endpoint_name(self) -> str:
        return endpoint_name(self.org, self.project, self.stage)

    @property
    def autoscaling_active(self) -> bool:
        """Scaling target and policy exist: enabled for the stage and not switched off for phase one."""
        return self.defaults.autoscaling.enabled and self.autoscaling_enabled

    @property
    def extensions(self) -> Extensions:
        return self.defaults.extensions


# ---- loading -------------------------------------------------------------------------------------


def _all_problems(exc: ValidationError, source: str, prefix: str = "") -> ConfigError:
    """Every problem of the validation, one line each, as the platform's config reports them."""
    return ConfigError.of(validation_problems(exc, source, prefix))


def load_stage_defaults(stage: str, stages_dir: Path = STAGES_DIR) -> StageDefaults:
    """Read and validate ``serving/stages/<stage>.yaml``."""
    path = stages_dir / f"{stage}.yaml"
    source = f"serving/stages/{stage}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found") from None
    except yaml.YAMLError:
        raise ConfigError(source, "", "not valid YAML") from None
    if not isinstance(raw, Mapping):
        raise ConfigError(source, "", "must be a mapping of keys to values")
    try:
        return StageDefaults.model_validate(raw)
    except ValidationError as exc:
        raise _all_problems(exc, source) from None


def serving_config_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``serving:`` keys without their namespace (as the engine passes config: strings)."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace == NAMESPACE and name:
            if isinstance(value, str) and name == "autoscalingEnabled":
                value = value.strip().lower()
            values[name] = value
    return values


def resolve_settings(
    stack: str, config: Mapping[str, Any], org: OrganizationConfig, stages_dir: Path = STAGES_DIR
) -> ServingSettings:
    """Validate the stack's config and merge stage defaults with the model's overrides."""
    source = f"serving stack {stack}"
    try:
        values = ServingConfig.model_validate(serving_config_values(config))
    except ValidationError as exc:
        raise _all_problems(exc, source, f"{NAMESPACE}:") from None
    named_project, _, named_stage = stack.rpartition("-")
    stage = values.stage or (named_stage if named_stage in STAGES else None)
    if stage is None:
        raise ConfigError(source, f"{NAMESPACE}:stage", "is not set and the stack name does not end in -dev, -int or -prod")
    project = values.project or (named_project if named_stage == stage else None)
    if not project:
        raise ConfigError(source, f"{NAMESPACE}:project", "is not set and cannot be read from the stack name")
    try:
        model_project = org.project(project)
    except KeyError:
        known = ", ".join(p.name for p in org.model_projects) or "none"
        raise ConfigError(source, f"{NAMESPACE}:project", f"unknown model project {project!r} (projects: {known})") from None
    try:
        endpoint_name(org, project, stage)
    except ValueError as exc:
        raise ConfigError(source, f"{NAMESPACE}:project", str(exc)) from None
    try:
        serving_bucket_names(org, org.accounts.by_role()[stage], project)
    except ValueError as exc:
        raise ConfigError(source, f"{NAMESPACE}:project", str(exc)) from None
    defaults = load_stage_defaults(stage, stages_dir)
    try:
        merged = defaults.with_overrides(model_project.serving.get(stage))
    except ValidationError as exc:
        raise _all_problems(exc, "organization.yaml", f"modelProjects ({project}).serving.{stage} -> ") from None
    return ServingSettings(
        stack=stack,
        org=org,
        project=project,
        stage=stage,
        platform_stack=values.platform_stack or stage,
        model_package_arn=values.model_package_arn,
        defaults=merged,
        autoscaling_enabled=values.autoscaling_enabled,
        baseline_constraints_uri=values.baseline_constraints_uri,
        baseline_statistics_uri=values.baseline_statistics_uri,
    )


def model_package_group(arn: str) -> str:
    """The group of a versioned package ARN (``.../model-package/<group>/<version>``)."""
    match = re.match(MODEL_PACKAGE_ARN, arn)
    if not match:
        raise ValueError(f"{arn!r} is not a versioned model package ARN")
    return arn.rsplit("/", 2)[-2]
