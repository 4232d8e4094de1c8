"""``deploy model``: put one model package version into the serving stack ``<project>-<stage>``.

The RES pipeline's deploy actions call this with the package ARN from the registry event. It touches
only the serving stack (project ``mlops-serving`` in ``serving/``): checks the package's registry
status, creates or selects the stack, sets ``serving:modelPackageArn`` (and the Model Monitor baseline
the package carries, ``DriftCheckBaselines.ModelDataQuality``) in its working copy, and runs preview
(with the policy pack of the stage) and up.

- A ``Rejected`` package is refused at every stage; PROD takes only an ``Approved`` one.
- ``--rollback`` redeploys the previous version: the newest successful update in the stack's history
  whose ``serving:modelPackageArn`` differs from the current one (the same gates apply to it).
- An instance-type change on PROD needs two deploys: one ``up`` updates the endpoint before its
  Application Auto Scaling target, which AWS refuses while the target still names the old variant.
  So the deployer first previews with ``serving:autoscalingEnabled=false`` (the serving program then
  declares no scaling target) and runs an up limited (``--target``) to the scaling resources that
  preview deletes, so nothing else changes yet; then the full up with autoscaling back on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mlops_functions.monitoring_baseline import ModelPackageError, data_quality_baseline

from mlops_platform.deployer.errors import DeployerError, MissingCredentialsError, RefusedError
from mlops_platform.deployer.graph import STAGES, serving_stack_name
from mlops_platform.deployer.progress import Progress
from mlops_platform.deployer.runner import HistoryEntry, OperationResult, StackOperationError, StackRunner, StackTarget

MODEL_PACKAGE_KEY = "serving:modelPackageArn"
AUTOSCALING_KEY = "serving:autoscalingEnabled"
BASELINE_CONSTRAINTS_KEY = "serving:baselineConstraintsUri"
BASELINE_STATISTICS_KEY = "serving:baselineStatisticsUri"
ENDPOINT_CONFIG_TYPE = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
#: Resources that register the endpoint variant with Application Auto Scaling.
SCALING_TYPES = ("aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy")
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$")
PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")


@dataclass
class ModelDeployResult:
    stack: str
    model_package_arn: str
    approval_status: str
    phases: list[str]
    """The ups run, in order: ``["up"]`` or ``["scaling-off", "up"]``."""
    result: OperationResult | None = None


def check_model_package(sagemaker: Any, arn: str, stage: str) -> dict[str, Any]:
    """The package's ``DescribeModelPackage``, or ``RefusedError`` when the stage must not take it."""
    try:
        description = sagemaker.describe_model_package(ModelPackageName=arn)
        status = description.get("ModelApprovalStatus")
    except ClientError as error:
        info = error.response.get("Error", {})
        raise DeployerError(f"model package {arn}: {info.get('Code')}: {info.get('Message')}") from error
    except BotoCoreError as error:
        raise MissingCredentialsError(f"cannot read model package {arn}: {error}") from error
    if status == "Rejected":
        raise RefusedError(f"model package {arn} is Rejected: it is refused at every stage")
    if stage == "prod" and status != "Approved":
        raise RefusedError(f"model package {arn} is {status}: PROD takes only an Approved package")
    return description


def baseline_config(description: dict[str, Any]) -> dict[str, str]:
    """The Model Monitor baseline the package carries, as serving config (none: the keys stay unset)."""
    try:
        baseline = data_quality_baseline(description)
    except ModelPackageError:
        return {}
    return {BASELINE_CONSTRAINTS_KEY: baseline.constraints_s3_uri, BASELINE_STATISTICS_KEY: baseline.statistics_s3_uri}


def previous_model_package(stack: str, history: list[HistoryEntry]) -> str:
    """The version before the current one, from the stack's history (newest first)."""
    deployed = [
        entry.config[MODEL_PACKAGE_KEY]
        for entry in history
        if entry.kind == "update" and entry.result == "succeeded" and entry.config.get(MODEL_PACKAGE_KEY)
    ]
    if not deployed:
        raise DeployerError(f"cannot roll back {stack}: its history has no successful model deploy")
    current = deployed[0]
    for arn in deployed[1:]:
        if arn != current:
            return arn
    raise DeployerError(f"cannot roll back {stack}: every recorded deploy used {current}")


def changes_instance_type(preview: OperationResult) -> bool:
    """Whether the preview changes an endpoint configuration's instance type."""
    return any(
        step.type == ENDPOINT_CONFIG_TYPE and step.op != "same" and any("instanceType" in d for d in step.diffs)
        for step in preview.steps
    )


def scaling_removals(preview: OperationResult) -> list[str]:
    """URNs of the scaling target and policies a preview (with autoscaling off) would delete."""
    return [step.urn for step in preview.steps if step.type in SCALING_TYPES and step.op in ("delete", "delete-replaced")]


def validate_request(project: str, stage: str, model_package_arn: str | None, rollback: bool) -> None:
    """The command line's arguments, checked before anything else runs."""
    if not PROJECT_NAME.match(project):
        raise DeployerError(f"--project {project!r}: expected lowercase letters, digits and '-' (2-40 characters)")
    if stage not in STAGES:
        raise DeployerError(f"--stage {stage!r}: expected one of {', '.join(STAGES)}")
    if rollback == bool(model_package_arn):
        raise DeployerError("give exactly one of --model-package-arn ARN and --rollback")
    if model_package_arn and not MODEL_PACKAGE_ARN.match(model_package_arn):
        raise DeployerError(f"--model-package-arn {model_package_arn!r}: not a versioned SageMaker model package ARN")


def deploy_model(
    *,
    project: str,
    stage: str,
    model_package_arn: str | None,
    rollback: bool,
    runner: StackRunner,
    sagemaker_client: Callable[[str], Any],
    progress: Progress,
    serving_dir: Path,
) -> ModelDeployResult:
    """Deploy (or roll back) the model of ``<project>-<stage>``; see the module docstring.

    ``sagemaker_client(region)`` returns a boto3 SageMaker client for the package's region.
    """
    validate_request(project, stage, model_package_arn, rollback)
    name = serving_stack_name(project, stage)
    if rollback:
        model_package_arn = previous_model_package(name, runner.history(StackTarget(name, stage, serving_dir)))
    assert model_package_arn is not None
    match = MODEL_PACKAGE_ARN.match(model_package_arn)
    if not match:
        raise DeployerError(f"stack {name}: recorded package {model_package_arn!r} is not a model package ARN")
    description = check_model_package(sagemaker_client(match.group(1)), model_package_arn, stage)
    status = str(description.get("ModelApprovalStatus"))

    progress.register([name])
    config = {MODEL_PACKAGE_KEY: model_package_arn, **baseline_config(description)}
    outcome = ModelDeployResult(name, model_package_arn, status, [])

    def forward(operation: str, event: Any) -> None:
        progress.engine_event(name, operation, event)

    def preview(extra: dict[str, str]) -> OperationResult:
        progress.state(name, "preview", "previewing")
        result = runner.preview(StackTarget(name, stage, serving_dir, {**config, **extra}), forward)
        progress.result(name, result)
        return result

    def up(phase: str, extra: dict[str, str], only: tuple[str, ...] = ()) -> OperationResult:
        progress.state(name, "up", "deploying", phase)
        result = runner.up(StackTarget(name, stage, serving_dir, {**config, **extra}, only), forward)
        progress.result(name, result)
        outcome.phases.append(phase)
        return result

    try:
        first = preview({})
        removals = scaling_removals(preview({AUTOSCALING_KEY: "false"})) \
            if stage == "prod" and changes_instance_type(first) else []
        if removals:
            # Phase one only deregisters scaling (a targeted up, so the endpoint keeps its old variant);
            # phase two is the full deploy. Each up follows a preview with the policy pack.
            up("scaling-off", {AUTOSCALING_KEY: "false"}, tuple(removals))
            preview({AUTOSCALING_KEY: "true"})
            outcome.result = up("up", {AUTOSCALING_KEY: "true"})
        else:
            outcome.result = up("up", {})
    except StackOperationError as error:
        progress.result(name, error.result)
        progress.state(name, error.operation, "failed", error.reason)
        raise
    progress.state(name, "up", "succeeded", model_package_arn)
    return outcome
