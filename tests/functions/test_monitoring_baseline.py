"""Reading the data-quality baseline and approval status from a recorded DescribeModelPackage response."""

from __future__ import annotations

import copy

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from botocore.validate import ParamValidator

from mlops_functions.monitoring_baseline import (
    DataQualityBaseline,
    ModelPackageError,
    data_quality_baseline,
    describe_package_status,
    read_data_quality_baseline,
)

ARN = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/predictive-maintenance/3"
BASELINE_PREFIX = "s3://mlops-artifacts-222222222222-eu-central-1/predictive-maintenance/7q2k9d1xw0ab/baseline"
FIXTURE = "sagemaker_describe_model_package.json"


@pytest.fixture
def recorded(fixture_json):
    return fixture_json(FIXTURE)


@pytest.fixture
def sagemaker():
    client = boto3.client("sagemaker", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_fixture_matches_botocore_describe_model_package_output_shape(recorded):
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(
        "DescribeModelPackage"
    ).output_shape
    report = ParamValidator().validate(recorded, shape)
    assert not report.has_errors(), f"{FIXTURE} is not a DescribeModelPackage response:\n{report.generate_report()}"


def test_baseline_uris_come_from_drift_check_model_data_quality(recorded):
    assert data_quality_baseline(recorded) == DataQualityBaseline(
        constraints_s3_uri=f"{BASELINE_PREFIX}/constraints.json",
        statistics_s3_uri=f"{BASELINE_PREFIX}/statistics.json",
    )


def test_model_quality_baseline_is_not_taken_for_data_quality(recorded):
    description = copy.deepcopy(recorded)
    del description["DriftCheckBaselines"]["ModelDataQuality"]
    with pytest.raises(ModelPackageError, match=r"DriftCheckBaselines\.ModelDataQuality is missing"):
        data_quality_baseline(description)


def test_package_without_drift_check_baselines_names_the_package(recorded):
    description = copy.deepcopy(recorded)
    del description["DriftCheckBaselines"]
    with pytest.raises(ModelPackageError, match=f"^{ARN}: has no DriftCheckBaselines"):
        data_quality_baseline(description)


@pytest.mark.parametrize("kind", ["Constraints", "Statistics"])
def test_missing_baseline_file_is_named(recorded, kind):
    description = copy.deepcopy(recorded)
    del description["DriftCheckBaselines"]["ModelDataQuality"][kind]
    with pytest.raises(ModelPackageError, match=f"ModelDataQuality.{kind} is missing"):
        data_quality_baseline(description)


@pytest.mark.parametrize("uri", ["", "https://bucket.s3.amazonaws.com/constraints.json", "s3://"])
def test_constraints_uri_must_be_an_s3_uri(recorded, uri):
    description = copy.deepcopy(recorded)
    description["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"] = uri
    with pytest.raises(ModelPackageError, match=r"Constraints\.S3Uri"):
        data_quality_baseline(description)


def test_read_baseline_calls_describe_model_package_with_the_arn(sagemaker, recorded):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", recorded, {"ModelPackageName": ARN})
    assert read_data_quality_baseline(client, ARN).statistics_s3_uri == f"{BASELINE_PREFIX}/statistics.json"


@pytest.mark.parametrize("status", ["Approved", "Rejected", "PendingManualApproval"])
def test_describe_package_status_returns_the_registry_status(sagemaker, recorded, status):
    client, stubber = sagemaker
    response = copy.deepcopy(recorded)
    response["ModelApprovalStatus"] = status
    stubber.add_response("describe_model_package", response, {"ModelPackageName": ARN})
    assert describe_package_status(client, ARN) == status


def test_unversioned_package_has_no_status(sagemaker, recorded):
    client, stubber = sagemaker
    response = copy.deepcopy(recorded)
    del response["ModelApprovalStatus"]
    stubber.add_response("describe_model_package", response, {"ModelPackageName": ARN})
    with pytest.raises(ModelPackageError, match="no model approval status"):
        describe_package_status(client, ARN)
