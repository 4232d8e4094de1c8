"""Container images and supply chain (guardrails.md §2.5)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlops_guard.allowlists import APPROVED_IMAGE_REGISTRIES, ECR_IMAGE, PLATFORM_ACCOUNT_IDS
from mlops_guard.checks import require, require_true
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, as_bool, as_list, is_unknown, lookup

IMAGE_CONFIG = {**PLATFORM_ACCOUNT_IDS, **APPROVED_IMAGE_REGISTRIES}


def image_approved(image: Any, config: Mapping[str, Any]) -> bool | None:
    """True if the image comes from a platform account's ECR or an approved registry; None if unknown."""
    if is_unknown(image):
        return None
    if not isinstance(image, str):
        return False
    match = ECR_IMAGE.match(image)
    if not match:
        return False
    host = image.split("/", 1)[0]
    if match.group("account") in set(config.get("platformAccountIds", [])):
        return True
    return host in set(config.get("approvedImageRegistries", []))


def check_image(report: Report, subject: str, where: str, image: Any, config: Mapping[str, Any]) -> None:
    approved = image_approved(image, config)
    if approved is None:
        report.unknown(f"{subject}: the image at {where} is not known until apply")
    elif not approved:
        report.violation(f"{subject}: image {image!r} at {where} is not from the platform's ECR or SageMaker's registries")


@resource_policy(
    name="ecr-repository-scan-on-push",
    control="IMG-ECR-SCAN",
    description="ECR repositories scan images on push.",
    severity="high",
    types=("aws:ecr/repository:Repository",),
    refs=("SH:ECR.1", "CKV:CKV_AWS_163"),
    remediation="Set imageScanningConfiguration.scanOnPush=True (or enhanced scanning on the registry).",
)
def ecr_scan_on_push(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_true(report, res, "imageScanningConfiguration.scanOnPush", "scan on push is not enabled")


@resource_policy(
    name="ecr-repository-immutable-tags",
    control="IMG-ECR-IMMUTABLE",
    description="ECR image tags are immutable.",
    severity="high",
    types=("aws:ecr/repository:Repository",),
    refs=("SH:ECR.2", "CKV:CKV_AWS_51"),
    remediation="Set imageTagMutability='IMMUTABLE'.",
)
def ecr_immutable_tags(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require(
        report,
        res,
        "imageTagMutability",
        lambda v: v in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"),
        "imageTagMutability must be IMMUTABLE (the default is MUTABLE)",
    )


@resource_policy(
    name="sagemaker-image-approved-registry",
    control="IMG-SM-IMAGE-SOURCE",
    description="SageMaker models, training jobs and monitoring jobs use images from the platform's ECR or "
    "SageMaker's own image registries (derived from the SageMaker SDK's image URI config).",
    severity="high",
    types=(
        "aws:sagemaker/model:Model",
        "aws:sagemaker/trainingJob:TrainingJob",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    ),
    refs=(),  # SH:SageMaker.16/.19 require repositoryAccessMode Vpc, not the image source (EXCEPTIONS.md)
    remediation="Push the image to the platform's ECR, or use an image URI from sagemaker.image_uris.retrieve.",
    config=IMAGE_CONFIG,
)
def sagemaker_image_approved(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    paths: list[str] = []
    if res.type == "aws:sagemaker/model:Model":
        if lookup(res.props, "primaryContainer") is not MISSING:
            paths.append("primaryContainer.image")
        paths += [f"containers.{i}.image" for i, _ in enumerate(as_list(lookup(res.props, "containers")))]
    elif res.type == "aws:sagemaker/trainingJob:TrainingJob":
        paths.append("algorithmSpecification.trainingImage")
    elif res.type == "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
        paths.append("dataQualityAppSpecification.imageUri")
    elif is_unknown(lookup(res.props, "monitoringScheduleConfig.monitoringJobDefinition")) or lookup(
        res.props, "monitoringScheduleConfig.monitoringJobDefinition"
    ) not in (MISSING, None):
        paths.append("monitoringScheduleConfig.monitoringJobDefinition.monitoringAppSpecification.imageUri")
    for path in paths:
        image = lookup(res.props, path)
        if image is MISSING or image is None:
            if path.startswith("algorithmSpecification") and lookup(res.props, "algorithmSpecification.algorithmName") not in (MISSING, None):
                continue  # a marketplace/built-in algorithm by name
            if path.endswith(".image") and lookup(res.props, path.rsplit(".", 1)[0] + ".modelPackageName") not in (MISSING, None):
                continue  # the image comes from a model package in the registry
            report.violation(f"{res.name}: no image at {path}")
            continue
        check_image(report, res.name, path, image, config)


CREDENTIAL_NAME = re.compile(r"(secret|password|passwd|token|api[_-]?key|access[_-]?key|private[_-]?key)", re.I)


@resource_policy(
    name="codebuild-project-hardened",
    control="IMG-CB-HARDEN",
    description="CodeBuild projects run unprivileged (unless allow-listed image builders) and keep no credentials "
    "in plaintext environment variables or the source URL.",
    severity="high",
    types=("aws:codebuild/project:Project",),
    refs=("SH:CodeBuild.1", "SH:CodeBuild.2", "CKV:CKV_AWS_316"),
    remediation="Use SECRETS_MANAGER/PARAMETER_STORE variables; list image-build projects in privilegedProjects.",
    config={"privilegedProjects": {"type": "array", "items": {"type": "string"}, "default": []}},
)
def codebuild_project_hardened(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    privileged = lookup(res.props, "environment.privilegedMode")
    allowed = set(config.get("privilegedProjects", []))
    if is_unknown(privileged):
        report.unknown(f"{res.name}: environment.privilegedMode is not known until apply")
    elif as_bool(privileged) and res.name not in allowed and lookup(res.props, "name") not in allowed:
        report.violation(f"{res.name}: privilegedMode is on and the project is not an allow-listed image builder")
    for index, variable in enumerate(as_list(lookup(res.props, "environment.environmentVariables"))):
        if not isinstance(variable, Mapping):
            continue
        kind = variable.get("type", "PLAINTEXT")
        if kind == "PLAINTEXT" and CREDENTIAL_NAME.search(str(variable.get("name", ""))):
            report.violation(f"{res.name}: environment variable {variable.get('name')!r} looks like a credential in plaintext")
    location = lookup(res.props, "source.location")
    if isinstance(location, str) and re.match(r"^https?://[^/@\s]+:[^/@\s]+@", location):
        report.violation(f"{res.name}: source.location embeds credentials")
