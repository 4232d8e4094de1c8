"""`mlops-platform doctor` against botocore's Stubber: pending connections fail the check."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from mlops_platform.cli import app
from mlops_platform.commands import doctor

ARN = "arn:aws:codeconnections:eu-central-1:222222222222:connection/2f0c1d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def connection(status: str, name: str = "mlops-git") -> dict:
    return {"ConnectionName": name, "ConnectionArn": ARN, "ProviderType": "GitHub", "OwnerAccountId": "222222222222", "ConnectionStatus": status}


INVITATION_ARN = "arn:aws:ram:eu-central-1:111111111111:resource-share-invitation/0f0e0d0c"


def invitation(status: str, sender: str = "111111111111") -> dict:
    return {
        "resourceShareInvitationArn": INVITATION_ARN,
        "resourceShareName": "LakeFormation-V4-welding_sensors",
        "resourceShareArn": "arn:aws:ram:eu-central-1:111111111111:resource-share/1a2b",
        "senderAccountId": sender,
        "receiverAccountId": "222222222222",
        "status": status,
    }


@pytest.fixture
def ram(monkeypatch):
    """The RAM side (the committed config has a DATA account); tests queue the invitations."""
    client = boto3.client("ram", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="y")
    monkeypatch.setattr(doctor, "ram_client", lambda region, profile: client)
    with Stubber(client) as stubber:
        yield stubber


@pytest.fixture
def stubbed(monkeypatch, ram):
    ram.add_response("get_resource_share_invitations", {"resourceShareInvitations": []}, {})
    client = boto3.client("codeconnections", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="y")
    regions = []

    def factory(region, profile):
        regions.append(region)
        return client

    monkeypatch.setattr(doctor, "codeconnections_client", factory)
    with Stubber(client) as stubber:
        yield stubber, regions
        stubber.assert_no_pending_responses()


def run(*args: str):
    return CliRunner().invoke(app, ["doctor", *args])


def test_available_connection_passes(stubbed) -> None:
    stubber, _ = stubbed
    stubber.add_response("list_connections", {"Connections": [connection("AVAILABLE")]}, {})
    result = run()
    assert result.exit_code == 0 and "all connections available" in result.output, result.output


def test_pending_connection_fails_with_the_handshake_to_do(stubbed) -> None:
    stubber, _ = stubbed
    stubber.add_response("list_connections", {"Connections": [connection("PENDING")]}, {})
    result = run()
    assert result.exit_code == 1 and "NOT READY  mlops-git: PENDING" in result.output and "Update pending connection" in result.output, result.output


def test_missing_connection_fails(stubbed) -> None:
    stubber, _ = stubbed
    stubber.add_response("list_connections", {"Connections": [connection("AVAILABLE", "someone-elses")]}, {})
    result = run()
    assert result.exit_code == 1 and "mlops-git: MISSING" in result.output, result.output


def test_client_uses_the_stacks_region(stubbed) -> None:
    stubber, regions = stubbed
    stubber.add_response("list_connections", {"Connections": [connection("AVAILABLE")]}, {})
    run("--stack", "exp")
    assert regions == ["eu-central-1"]


def test_api_refusal_is_one_line_and_exit_two(stubbed) -> None:
    stubber, _ = stubbed
    stubber.add_client_error("list_connections", "AccessDeniedException", "not authorised")
    result = run()
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0 and result.output.startswith("error: codeconnections:ListConnections failed: AccessDeniedException"), result.output


def test_missing_credentials_is_one_clear_line(monkeypatch) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    result = run()
    assert result.exit_code == 2 and result.output.startswith("error: no AWS credentials found") and result.output.count("\n") == 1, result.output


def test_a_non_exp_stack_is_refused() -> None:
    result = run("--stack", "res")
    assert result.exit_code == 2 and "role 'res'" in result.output, result.output


def test_unknown_stack_is_one_line() -> None:
    result = run("--stack", "nope")
    assert result.exit_code == 2 and result.output.startswith("error: Pulumi.nope.yaml"), result.output


def test_codecommit_has_nothing_to_check(monkeypatch, ram) -> None:
    ram.add_response("get_resource_share_invitations", {"resourceShareInvitations": []}, {})
    from mlops_core.config import SourceControlSettings, WorkspaceSettings, load_settings

    settings = load_settings("exp")
    org = settings.org.model_copy(update={"workspace": WorkspaceSettings(source_control=SourceControlSettings(provider="codecommit"))})
    monkeypatch.setattr(doctor, "_exp_stack", lambda stack: settings.model_copy(update={"org": org}))
    result = run()
    assert result.exit_code == 0 and "CodeCommit" in result.output, result.output


def test_pending_lake_formation_share_fails_with_the_accept_command(monkeypatch, ram) -> None:
    client = boto3.client("codeconnections", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="y")
    monkeypatch.setattr(doctor, "codeconnections_client", lambda region, profile: client)
    ram.add_response(
        "get_resource_share_invitations",
        {"resourceShareInvitations": [invitation("PENDING"), invitation("ACCEPTED"), invitation("PENDING", sender="999999999999")]},
        {},
    )
    with Stubber(client) as connections:
        connections.add_response("list_connections", {"Connections": [connection("AVAILABLE")]}, {})
        result = run()
    assert result.exit_code == 1, result.output
    assert result.output.count("NOT READY  share") == 1, f"only the DATA account's pending share counts: {result.output}"
    assert f"--resource-share-invitation-arn {INVITATION_ARN}" in result.output, result.output
