"""Model Monitor inputs read from the model registry: the data-quality baseline and the approval status.

Pulumi has no resource for a baseline job: the model build pipeline computes the data-quality baseline
and registers it on the model package as ``DriftCheckBaselines.ModelDataQuality`` (constraints and
statistics files in S3). The deployer reads them with ``DescribeModelPackage`` and passes the two URIs
to the serving stack's ``DataQualityJobDefinition``
(``dataQualityBaselineConfig.constraintsResource.s3Uri`` / ``statisticsResource.s3Uri``).

Used by the deployer (RES CodeBuild), not a Lambda, but kept stdlib + boto3 only like the handlers.
IAM for the caller: ``sagemaker:DescribeModelPackage`` on the package (a cross-account call into EXP
needs the model package group's resource policy to allow it); reading the two S3 objects is the
monitoring job's role's business, not the deployer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")


class ModelPackageError(ValueError):
    """A model package lacks something the deployment needs; ``str()`` is one line naming it."""


@dataclass(frozen=True)
class DataQualityBaseline:
    """The S3 URIs of a data-quality baseline (Model Monitor's constraints.json and statistics.json)."""

    constraints_s3_uri: str
    statistics_s3_uri: str


def _package_label(description: Mapping[str, Any]) -> str:
    return str(description.get("ModelPackageArn") or description.get("ModelPackageName") or "model package")


def _s3_uri(description: Mapping[str, Any], metric: Mapping[str, Any], kind: str) -> str:
    label = _package_label(description)
    source = metric.get(kind)
    if not isinstance(source, Mapping):
        raise ModelPackageError(f"{label}: DriftCheckBaselines.ModelDataQuality.{kind} is missing")
    uri = source.get("S3Uri")
    if not isinstance(uri, str) or not uri.strip():
        raise ModelPackageError(f"{label}: DriftCheckBaselines.ModelDataQuality.{kind}.S3Uri is missing")
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise ModelPackageError(
            f"{label}: DriftCheckBaselines.ModelDataQuality.{kind}.S3Uri is not an s3:// URI: {uri!r}"
        )
    return uri


def data_quality_baseline(description: Mapping[str, Any]) -> DataQualityBaseline:
    """Extract the data-quality baseline from a ``DescribeModelPackage`` response.

    Raises :class:`ModelPackageError` when the package carries no such baseline (e.g. a model built
    without the pipeline's baseline step), so the deployer can stop with one clear line.
    """
    label = _package_label(description)
    baselines = description.get("DriftCheckBaselines")
    if not isinstance(baselines, Mapping):
        raise ModelPackageError(
            f"{label}: has no DriftCheckBaselines; register the package with a data-quality baseline "
            "(model build pipeline) or disable Model Monitor for this model"
        )
    data_quality = baselines.get("ModelDataQuality")
    if not isinstance(data_quality, Mapping):
        raise ModelPackageError(f"{label}: DriftCheckBaselines.ModelDataQuality is missing")
    return DataQualityBaseline(
        constraints_s3_uri=_s3_uri(description, data_quality, "Constraints"),
        statistics_s3_uri=_s3_uri(description, data_quality, "Statistics"),
    )


def read_data_quality_baseline(client: Any, model_package_arn: str) -> DataQualityBaseline:
    """``DescribeModelPackage`` with a ``sagemaker`` client, then :func:`data_quality_baseline`."""
    return data_quality_baseline(client.describe_model_package(ModelPackageName=model_package_arn))


def describe_package_status(client: Any, model_package_arn: str) -> str:
    """The package's registry approval status: ``Approved``, ``Rejected`` or ``PendingManualApproval``.

    An unversioned package (no approval status) raises :class:`ModelPackageError`: the platform only
    deploys versions of a model package group.
    """
    description = client.describe_model_package(ModelPackageName=model_package_arn)
    status = description.get("ModelApprovalStatus")
    if status not in APPROVAL_STATUSES:
        raise ModelPackageError(
            f"{_package_label(description)}: has no model approval status (not a versioned model package)"
        )
    return status
