"""VPC-only, encrypted ML inside SageMaker pipelines: rules on ``Pipeline.pipelineDefinition``.

Jobs a pipeline starts are not Pulumi resources, so the definition JSON (PascalCase API shapes) is
parsed and every step is checked, walking nested steps (a Condition's ``IfSteps``/``ElseSteps``).
``{"Get": "Parameters.X"}`` resolves to the parameter's default value; any other expression
(``Get`` of a step property or execution variable, ``Std:Join``...) counts as unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mlops_guard.allowlists import NVME_INSTANCE_TYPES
from mlops_guard.checks import matches_any
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, UNKNOWN, as_bool, as_list, is_present, is_unknown, lookup, parse_json_value
from mlops_guard.rules.images import IMAGE_CONFIG, check_image

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
PROCESSING_LIKE = ("Processing", "QualityCheck", "ClarifyCheck")
NO_COMPUTE_STEPS = ("Fail", "Lambda", "Callback", "RegisterModel", "EMR", "Condition")
"""Step types with nothing for these rules to check (Condition is walked into)."""


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    arguments: Mapping[str, Any]
    """Arguments with parameter references resolved and other expressions replaced by UNKNOWN."""


@dataclass(frozen=True)
class ParsedPipeline:
    steps: tuple[Step, ...] = ()
    problem: str | None = None
    """Why the definition could not be read (unknown, in S3, malformed)."""
    malformed: bool = False


def _resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "Get":
                if isinstance(inner, str) and inner.startswith("Parameters."):
                    return parameters.get(inner.split(".", 1)[1], UNKNOWN)
                return UNKNOWN
            if key.startswith("Std:") or key == "Join":
                return UNKNOWN
        return {k: _resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters) for v in value]
    return value


def _walk(raw_steps: Any, parameters: Mapping[str, Any]) -> Iterator[Step]:
    for raw in as_list(raw_steps):
        if not isinstance(raw, Mapping):
            continue
        arguments = raw.get("Arguments")
        arguments = {} if arguments is None else arguments
        step = Step(str(raw.get("Name", "?")), str(raw.get("Type", "?")), _resolve(arguments, parameters))
        yield step
        if step.type == "Condition" and isinstance(arguments, Mapping):
            # nested steps keep their own expressions: resolve them in the recursive call
            yield from _walk(arguments.get("IfSteps"), parameters)
            yield from _walk(arguments.get("ElseSteps"), parameters)
        if isinstance(raw.get("Steps"), list):  # tolerate step collections
            yield from _walk(raw["Steps"], parameters)


@lru_cache(maxsize=512)
def _parse_text(text: str) -> ParsedPipeline:
    try:
        definition = json.loads(text)
    except ValueError as exc:
        return ParsedPipeline(problem=f"pipelineDefinition is not valid JSON ({exc.msg})", malformed=True)
    return _parse(definition)


def _parse(definition: Any) -> ParsedPipeline:
    if not isinstance(definition, Mapping):
        return ParsedPipeline(problem="pipelineDefinition is not a JSON object", malformed=True)
    parameters = {
        p.get("Name"): p.get("DefaultValue", UNKNOWN) for p in as_list(definition.get("Parameters")) if isinstance(p, Mapping)
    }
    return ParsedPipeline(steps=tuple(_walk(definition.get("Steps"), parameters)))


def parse_pipeline(res: Resource) -> ParsedPipeline:
    value = lookup(res.props, "pipelineDefinition")
    if is_unknown(value):
        return ParsedPipeline(problem="pipelineDefinition is not known until apply")
    if value is MISSING or value is None or value == "":
        if is_present(lookup(res.props, "pipelineDefinitionS3Location")):
            return ParsedPipeline(problem="the definition is in S3 (pipelineDefinitionS3Location) and cannot be read offline")
        return ParsedPipeline()
    if isinstance(value, str):
        return _parse_text(value)
    return _parse(value)


def _steps(res: Resource, report: Report) -> Iterator[Step]:
    parsed = parse_pipeline(res)
    if parsed.problem:
        if parsed.malformed:
            report.violation(f"{res.name}: {parsed.problem}")
        else:
            report.unknown(f"{res.name}: {parsed.problem}")
        return
    known = {*PROCESSING_LIKE, "Training", "Tuning", "Transform", "Model", *NO_COMPUTE_STEPS}
    for step in parsed.steps:
        if not isinstance(step.arguments, Mapping):
            report.unknown(f"{res.name}: the arguments of step {step.name!r} are not known until apply")
            continue
        if step.type not in known:
            report.unknown(f"{res.name}: step {step.name!r} has type {step.type!r}, which these rules do not know")
            continue
        yield step


def _present(step: Step, path: str) -> bool:
    return is_present(lookup(step.arguments, path))


def _true(report: Report, res: Resource, step: Step, path: str) -> None:
    value = lookup(step.arguments, path)
    if is_unknown(value):
        report.unknown(f"{res.name}: step {step.name!r} {path} is not known until the pipeline runs")
    elif as_bool(value) is not True:
        report.violation(f"{res.name}: step {step.name!r} {path} is not true")


def _need(report: Report, res: Resource, step: Step, path: str, what: str) -> None:
    if not _present(step, path):
        report.violation(f"{res.name}: step {step.name!r} has no {what} ({path})")


def _vpc(report: Report, res: Resource, step: Step, prefix: str) -> None:
    _need(report, res, step, f"{prefix}VpcConfig.Subnets", "VPC subnets")
    _need(report, res, step, f"{prefix}VpcConfig.SecurityGroupIds", "VPC security groups")


@resource_policy(
    name="sagemaker-pipeline-steps-in-vpc",
    control="NET-SM-JOB-VPC",
    description="Processing, quality/clarify check, training, tuning and model steps of a pipeline run in the VPC "
    "with network isolation; a transform's model is a model step of the pipeline.",
    severity="critical",
    types=(PIPELINE,),
    remediation="Pass network_config=NetworkConfig(subnets=..., security_group_ids=..., "
    "enable_network_isolation=True) to processors and subnets/security_group_ids to estimators and models.",
)
def pipeline_steps_in_vpc(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    steps = list(_steps(res, report))
    model_steps = {s.name for s in steps if s.type == "Model"}
    raw_definition = lookup(res.props, "pipelineDefinition")
    for step in steps:
        if step.type in PROCESSING_LIKE:
            _vpc(report, res, step, "NetworkConfig.")
            _true(report, res, step, "NetworkConfig.EnableNetworkIsolation")
        elif step.type in ("Training", "Model"):
            _vpc(report, res, step, "")
            _true(report, res, step, "EnableNetworkIsolation")
        elif step.type == "Tuning":
            _vpc(report, res, step, "TrainingJobDefinition.")
            _true(report, res, step, "TrainingJobDefinition.EnableNetworkIsolation")
        elif step.type == "Transform":
            if not _transform_model_in_pipeline(raw_definition, step.name, model_steps):
                report.unknown(
                    f"{res.name}: step {step.name!r} transforms with a model defined outside the pipeline; "
                    "its VPC settings are checked where that model is declared"
                )


def _transform_model_in_pipeline(raw_definition: Any, step_name: str, model_steps: set[str]) -> bool:
    """True if the transform's ModelName is ``{"Get": "Steps.<a Model step>.ModelName"}``."""
    definition = parse_json_value(raw_definition)

    def find(raw_steps: Any) -> Any:
        for raw in as_list(raw_steps):
            if not isinstance(raw, Mapping):
                continue
            args = raw.get("Arguments") if isinstance(raw.get("Arguments"), Mapping) else {}
            if raw.get("Name") == step_name:
                return args.get("ModelName")
            for nested in (args.get("IfSteps"), args.get("ElseSteps")):
                found = find(nested)
                if found is not None:
                    return found
        return None

    name = find(definition.get("Steps") if isinstance(definition, Mapping) else None)
    if isinstance(name, Mapping) and isinstance(name.get("Get"), str) and name["Get"].startswith("Steps."):
        return name["Get"].split(".")[1] in model_steps
    return False


def _volume_key(report: Report, res: Resource, step: Step, key_path: str, type_path: str, patterns: list[str]) -> None:
    if _present(step, key_path):
        return
    instance_type = lookup(step.arguments, type_path)
    if is_unknown(instance_type):
        report.unknown(f"{res.name}: step {step.name!r} instance type is not known until the pipeline runs")
    elif not (isinstance(instance_type, str) and matches_any(instance_type, patterns)):
        report.violation(f"{res.name}: step {step.name!r} has no volume KMS key ({key_path})")


@resource_policy(
    name="sagemaker-pipeline-steps-encrypted",
    control="ENC-SM-PIPELINE",
    description="Pipeline processing, training, tuning and transform steps encrypt volumes (except NVMe instance "
    "types) and outputs with KMS keys.",
    severity="high",
    types=(PIPELINE,),
    remediation="Pass volume_kms_key and output_kms_key to processors, estimators and transformers.",
    config=NVME_INSTANCE_TYPES,
)
def pipeline_steps_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    patterns = list(config.get("nvmeInstanceTypes", []))
    for step in _steps(res, report):
        if step.type in PROCESSING_LIKE:
            cluster = "ProcessingResources.ClusterConfig"
            _volume_key(report, res, step, f"{cluster}.VolumeKmsKeyId", f"{cluster}.InstanceType", patterns)
            if _present(step, "ProcessingOutputConfig"):
                _need(report, res, step, "ProcessingOutputConfig.KmsKeyId", "output KMS key")
        elif step.type in ("Training", "Tuning"):
            prefix = "TrainingJobDefinition." if step.type == "Tuning" else ""
            _volume_key(report, res, step, f"{prefix}ResourceConfig.VolumeKmsKeyId", f"{prefix}ResourceConfig.InstanceType", patterns)
            _need(report, res, step, f"{prefix}OutputDataConfig.KmsKeyId", "output KMS key")
        elif step.type == "Transform":
            _volume_key(report, res, step, "TransformResources.VolumeKmsKeyId", "TransformResources.InstanceType", patterns)
            _need(report, res, step, "TransformOutput.KmsKeyId", "output KMS key")


@resource_policy(
    name="sagemaker-pipeline-images-approved",
    control="IMG-SM-IMAGE-SOURCE",
    description="Pipeline steps use images from the platform's ECR or SageMaker's own registries.",
    severity="high",
    types=(PIPELINE,),
    remediation="Use image_uris.retrieve(...) or images pushed to the platform's ECR.",
    config=IMAGE_CONFIG,
)
def pipeline_images_approved(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for step in _steps(res, report):
        paths: list[str] = []
        if step.type in PROCESSING_LIKE:
            paths = ["AppSpecification.ImageUri"]
        elif step.type == "Training":
            paths = [] if _present(step, "AlgorithmSpecification.AlgorithmName") else ["AlgorithmSpecification.TrainingImage"]
        elif step.type == "Tuning":
            paths = ["TrainingJobDefinition.AlgorithmSpecification.TrainingImage"]
        elif step.type == "Model":
            if _present(step, "PrimaryContainer"):
                paths.append("PrimaryContainer.Image")
            paths += [f"Containers.{i}.Image" for i, _ in enumerate(as_list(lookup(step.arguments, "Containers")))]
        for path in paths:
            image = lookup(step.arguments, path)
            if image is MISSING:
                report.violation(f"{res.name}: step {step.name!r} has no image at {path}")
            else:
                check_image(report, res.name, f"step {step.name!r} {path}", image, config)
