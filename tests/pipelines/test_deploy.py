"""Create-or-update and start of the pipeline for the CodeBuild path, against botocore's Stubber."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from pipeline_helpers import ROLE, make_spec

from mlops_pipelines import __main__ as cli
from mlops_pipelines.cache import CACHE_DIR_VARIABLE
from mlops_pipelines.deploy import start_pipeline, upsert_pipeline

PIPELINE_ARN = "arn:aws:sagemaker:eu-central-1:111122223333:pipeline/pm-model-build"
EXECUTION_ARN = f"{PIPELINE_ARN}/execution/abc123def456"


@pytest.fixture
def client():
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="eu-central-1").client("sagemaker")


def test_upsert_creates_a_missing_pipeline_with_role_definition_and_tags(client, definition_json: str, spec):
    with Stubber(client) as stub:
        stub.add_client_error("describe_pipeline", "ResourceNotFound", expected_params={"PipelineName": "pm-model-build"})
        stub.add_response(
            "create_pipeline",
            {"PipelineArn": PIPELINE_ARN},
            {
                "PipelineName": "pm-model-build",
                "PipelineDefinition": definition_json,
                "PipelineDescription": "Model build pipeline (mlops_pipelines)",
                "RoleArn": ROLE,
                "Tags": [{"Key": "mlops:project", "Value": "pm"}],
            },
        )
        assert upsert_pipeline(client, spec, definition_json) == PIPELINE_ARN
        stub.assert_no_pending_responses()


def test_upsert_updates_an_existing_pipeline(client, definition_json: str, spec):
    with Stubber(client) as stub:
        stub.add_response("describe_pipeline", {"PipelineArn": PIPELINE_ARN}, {"PipelineName": "pm-model-build"})
        stub.add_response(
            "update_pipeline",
            {"PipelineArn": PIPELINE_ARN},
            {
                "PipelineName": "pm-model-build",
                "PipelineDefinition": definition_json,
                "PipelineDescription": "Model build pipeline (mlops_pipelines)",
                "RoleArn": ROLE,
            },
        )
        assert upsert_pipeline(client, spec, definition_json) == PIPELINE_ARN
        stub.assert_no_pending_responses()


def test_upsert_passes_other_errors_on(client, definition_json: str, spec):
    from botocore.exceptions import ClientError

    with Stubber(client) as stub:
        stub.add_client_error("describe_pipeline", "AccessDeniedException")
        with pytest.raises(ClientError, match="AccessDenied"):
            upsert_pipeline(client, spec, definition_json)


def test_start_passes_the_lineage_parameters(client):
    with Stubber(client) as stub:
        stub.add_response(
            "start_pipeline_execution",
            {"PipelineExecutionArn": EXECUTION_ARN},
            {
                "PipelineName": "pm-model-build",
                "PipelineParameters": [{"Name": "GitCommit", "Value": "0123abc"}, {"Name": "DatasetVersion", "Value": "2024-06-01"}],
                "ClientRequestToken": "build-pm-model-build-0123abc-000000001",
            },
        )
        token = "build-pm-model-build-0123abc-000000001"
        assert start_pipeline(client, "pm-model-build", "0123abc", "2024-06-01", token) == EXECUTION_ARN


def test_start_keeps_the_default_dataset_version_when_none_is_given(client):
    with Stubber(client) as stub:
        stub.add_response(
            "start_pipeline_execution",
            {"PipelineExecutionArn": EXECUTION_ARN},
            {"PipelineName": "pm-model-build", "PipelineParameters": [{"Name": "GitCommit", "Value": "0123abc"}]},
        )
        assert start_pipeline(client, "pm-model-build", "0123abc") == EXECUTION_ARN


@pytest.fixture
def spec_file(tmp_path: Path, populated_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(populated_cache))
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(make_spec().to_dict()))
    return path


def test_cli_upsert_builds_offline_then_upserts_and_starts(spec_file: Path, client, definition_json: str, monkeypatch, capsys):
    monkeypatch.setattr(boto3, "client", lambda service, region_name=None: client)
    with Stubber(client) as stub:
        stub.add_response("describe_pipeline", {"PipelineArn": PIPELINE_ARN}, {"PipelineName": "pm-model-build"})
        stub.add_response(
            "update_pipeline",
            {"PipelineArn": PIPELINE_ARN},
            {"PipelineName": "pm-model-build", "PipelineDefinition": definition_json, "PipelineDescription": "Model build pipeline (mlops_pipelines)", "RoleArn": ROLE},
        )
        stub.add_response(
            "start_pipeline_execution",
            {"PipelineExecutionArn": EXECUTION_ARN},
            {"PipelineName": "pm-model-build", "PipelineParameters": [{"Name": "GitCommit", "Value": "0123abc"}]},
        )
        assert cli.main(["upsert", "--spec", str(spec_file), "--start", "--git-commit", "0123abc"]) == 0
    assert json.loads(capsys.readouterr().out) == {"pipeline_arn": PIPELINE_ARN, "execution_arn": EXECUTION_ARN}


def test_cli_upsert_reports_an_aws_refusal_in_one_line(spec_file: Path, client, monkeypatch, capsys):
    monkeypatch.setattr(boto3, "client", lambda service, region_name=None: client)
    with Stubber(client) as stub:
        stub.add_client_error("describe_pipeline", "AccessDeniedException", "User is not authorized to perform sagemaker:DescribePipeline")
        assert cli.main(["upsert", "--spec", str(spec_file)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "not authorized" in error


def test_cli_upsert_start_requires_a_git_commit(spec_file: Path, capsys):
    assert cli.main(["upsert", "--spec", str(spec_file), "--start"]) == 2
    assert "--git-commit" in capsys.readouterr().err
