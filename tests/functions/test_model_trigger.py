"""The RES trigger Lambda: creation events start the project's pipeline once; everything else is ignored.

Events are fixtures shaped like the documented `SageMaker Model Package State Change` example
(SageMaker developer guide, "Events that Amazon SageMaker AI sends to Amazon EventBridge"),
as they arrive on the RES bus after forwarding from EXP (account = EXP).
"""

from __future__ import annotations

import copy
import hashlib
import re

import boto3
import pytest
from botocore.stub import Stubber

from mlops_functions import model_trigger

PLATFORM = "mlops"
EXP_ACCOUNT = "222222222222"
CREATED_ARN = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/predictive-maintenance/3"


@pytest.fixture
def codepipeline():
    client = boto3.client("codepipeline", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expected_start(arn: str, pipeline: str) -> dict:
    return {
        "name": pipeline,
        "variables": [{"name": "MODEL_PACKAGE_ARN", "value": arn}],
        "clientRequestToken": "mp-" + hashlib.sha256(arn.encode()).hexdigest(),
    }


def run(event, client, exp_account=EXP_ACCOUNT):
    return model_trigger.handle_event(
        event, codepipeline=client, platform_name=PLATFORM, exp_account_id=exp_account
    )


def test_creation_event_starts_the_project_pipeline_with_the_event_arn(codepipeline, fixture_json):
    client, stubber = codepipeline
    stubber.add_response(
        "start_pipeline_execution",
        {"pipelineExecutionId": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"},
        expected_start(CREATED_ARN, "mlops-deploy-predictive-maintenance"),
    )
    outcome = run(fixture_json("model_package_created.json"), client)
    assert outcome.action == "started", f"creation event was not started: {outcome.reason}"
    assert outcome.pipeline_execution_id == "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def test_product_made_group_uses_the_same_naming_rule_and_epoch_millisecond_times(codepipeline, fixture_json):
    client, stubber = codepipeline
    arn = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/sc-visionqc/1"
    stubber.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": "x-1"}, expected_start(arn, "mlops-deploy-sc-VisionQC")
    )
    outcome = run(fixture_json("model_package_created_product_group.json"), client)
    assert outcome.pipeline_name == "mlops-deploy-sc-VisionQC", "pipeline name must keep the group's real spelling"


def test_same_package_delivered_twice_sends_the_same_token_both_times(codepipeline, fixture_json):
    client, stubber = codepipeline
    for _ in range(2):
        stubber.add_response(
            "start_pipeline_execution",
            {"pipelineExecutionId": "same-execution"},
            expected_start(CREATED_ARN, "mlops-deploy-predictive-maintenance"),
        )
    event = fixture_json("model_package_created.json")
    first, second = run(event, client), run(copy.deepcopy(event), client)
    assert first.pipeline_execution_id == second.pipeline_execution_id == "same-execution"


@pytest.mark.parametrize(
    "fixture, reason_part",
    [
        ("model_package_approved.json", "'Approved'"),
        ("model_package_rejected.json", "'Rejected'"),
        ("model_package_reset_to_pending.json", "modified"),
        ("model_package_in_progress.json", "'InProgress'"),
    ],
)
def test_non_creation_events_start_nothing(codepipeline, fixture_json, fixture, reason_part):
    client, _stubber = codepipeline  # no response queued: any API call would raise
    outcome = run(fixture_json(fixture), client)
    assert outcome.action == "ignored", f"{fixture} must not start a deployment"
    assert reason_part in outcome.reason, f"{fixture}: unexpected reason {outcome.reason!r}"


def test_group_without_pipeline_is_ignored(codepipeline, fixture_json):
    client, stubber = codepipeline
    arn = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/adhoc-experiments/12"
    stubber.add_client_error(
        "start_pipeline_execution",
        service_error_code="PipelineNotFoundException",
        service_message="Pipeline not found",
        http_status_code=400,
        expected_params=expected_start(arn, "mlops-deploy-adhoc-experiments"),
    )
    outcome = run(fixture_json("model_package_created_other_group.json"), client)
    assert outcome.action == "ignored"
    assert "no pipeline" in outcome.reason


def test_other_codepipeline_errors_are_raised_for_lambda_retry(codepipeline, fixture_json):
    client, stubber = codepipeline
    stubber.add_client_error(
        "start_pipeline_execution", service_error_code="ConflictException", http_status_code=409
    )
    with pytest.raises(Exception, match="ConflictException"):
        run(fixture_json("model_package_created.json"), client)


def test_event_from_another_account_is_ignored(codepipeline, fixture_json):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    event["account"] = "999999999999"
    assert run(event, client).action == "ignored"


def test_package_arn_of_another_account_is_ignored(codepipeline, fixture_json):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    event["detail"]["ModelPackageArn"] = CREATED_ARN.replace("222222222222", "999999999999")
    assert run(event, client).action == "ignored"


def test_group_name_not_matching_the_arn_is_ignored(codepipeline, fixture_json):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    event["detail"]["ModelPackageGroupName"] = "another-project"
    outcome = run(event, client)
    assert outcome.action == "ignored" and "does not match" in outcome.reason


@pytest.mark.parametrize("field", ["ModelPackageArn", "ModelPackageGroupName"])
def test_event_missing_identifying_field_is_ignored(codepipeline, fixture_json, field):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    del event["detail"][field]
    outcome = run(event, client)
    assert outcome.action == "ignored" and field in outcome.reason


def test_other_detail_type_is_ignored(codepipeline, fixture_json):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    event["detail-type"] = "SageMaker Model State Change"
    assert run(event, client).action == "ignored"


def test_modification_within_creation_window_still_counts_as_creation(codepipeline, fixture_json):
    client, stubber = codepipeline
    stubber.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": "e"}, expected_start(CREATED_ARN, "mlops-deploy-predictive-maintenance")
    )
    event = fixture_json("model_package_created.json")
    event["detail"]["LastModifiedTime"] = "2026-11-20T14:05:36Z"  # 3 minutes after creation
    assert run(event, client).action == "started"


def test_client_request_token_matches_the_codepipeline_pattern_and_length():
    token = model_trigger.client_request_token(CREATED_ARN)
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,128}", token), f"token {token!r} violates StartPipelineExecution's pattern"


def test_different_packages_get_different_tokens():
    other = CREATED_ARN[:-1] + "4"
    assert model_trigger.client_request_token(CREATED_ARN) != model_trigger.client_request_token(other)


def test_event_pattern_forwards_only_pending_completed_packages_of_exp():
    pattern = model_trigger.event_pattern("222222222222")
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelApprovalStatus": ["PendingManualApproval"], "ModelPackageStatus": ["Completed"]},
        "account": ["222222222222"],
    }


def test_handler_reads_platform_name_and_exp_account_from_environment(monkeypatch, codepipeline, fixture_json):
    client, stubber = codepipeline
    stubber.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": "h"}, expected_start(CREATED_ARN, "acme-deploy-predictive-maintenance")
    )
    monkeypatch.setenv("PLATFORM_NAME", "acme")
    monkeypatch.setenv("EXP_ACCOUNT_ID", EXP_ACCOUNT)
    monkeypatch.setattr(model_trigger, "_CODEPIPELINE_CLIENT", client)
    result = model_trigger.handler(fixture_json("model_package_created.json"), None)
    assert result["action"] == "started" and result["pipeline_name"] == "acme-deploy-predictive-maintenance"


def test_handler_without_platform_name_fails_loudly(monkeypatch, fixture_json):
    monkeypatch.delenv("PLATFORM_NAME", raising=False)
    with pytest.raises(RuntimeError, match="PLATFORM_NAME"):
        model_trigger.handler(fixture_json("model_package_created.json"), None)


def test_lambda_module_imports_only_stdlib_and_boto(lambda_module_imports):
    assert lambda_module_imports("model_trigger") <= {"boto3", "botocore"}


@pytest.mark.parametrize(
    "created, modified",
    [
        ("1795600956000", "1795687356000"),  # epoch milliseconds as strings, one day apart
        (1795600956000, 1795687356000.0),  # numbers
        ("2026-11-20T14:02:36.412Z", "2026-11-21T09:15:11.087+00:00"),  # ISO with fractions and offsets
    ],
)
def test_late_modification_is_recognised_in_every_timestamp_format(codepipeline, fixture_json, created, modified):
    client, _ = codepipeline
    event = fixture_json("model_package_created.json")
    event["detail"]["CreationTime"], event["detail"]["LastModifiedTime"] = created, modified
    outcome = run(event, client)
    assert outcome.action == "ignored" and "modified" in outcome.reason


def test_event_without_last_modified_time_relies_on_the_status_checks(codepipeline, fixture_json):
    client, stubber = codepipeline
    stubber.add_response(
        "start_pipeline_execution", {"pipelineExecutionId": "n"}, expected_start(CREATED_ARN, "mlops-deploy-predictive-maintenance")
    )
    event = fixture_json("model_package_created.json")
    del event["detail"]["LastModifiedTime"]
    assert run(event, client).action == "started"
