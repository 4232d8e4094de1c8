"""The CodeConnections doctor check, against botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mlops_functions.codeconnections_doctor import (
    ConnectionsCheckError,
    check_connections,
    list_connections,
)

ARN = "arn:aws:codeconnections:eu-central-1:333333333333:connection/{}"


def connection(name: str, status: str, uuid: str, provider: str = "GitHub") -> dict:
    return {
        "ConnectionName": name,
        "ConnectionArn": ARN.format(uuid),
        "ProviderType": provider,
        "OwnerAccountId": "333333333333",
        "ConnectionStatus": status,
    }


AVAILABLE = connection("mlops-github", "AVAILABLE", "2f0c1d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
PENDING = connection("mlops-github-images", "PENDING", "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d")
ERROR = connection("legacy-gitlab", "ERROR", "0e1d2c3b-4a59-4687-a5b4-c3d2e1f0a9b8", "GitLab")


@pytest.fixture
def codeconnections():
    client = boto3.client("codeconnections", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_all_pages_are_read_following_next_token(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [AVAILABLE], "NextToken": "page-2"}, {})
    stubber.add_response("list_connections", {"Connections": [PENDING, ERROR]}, {"NextToken": "page-2"})
    names = [item.name for item in list_connections(client)]
    assert names == ["mlops-github", "mlops-github-images", "legacy-gitlab"]


def test_provider_filter_is_passed_on_every_page(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [], "NextToken": "t"}, {"ProviderTypeFilter": "GitHub"})
    stubber.add_response("list_connections", {"Connections": [AVAILABLE]}, {"ProviderTypeFilter": "GitHub", "NextToken": "t"})
    assert len(list_connections(client, provider_type="GitHub")) == 1


def test_pending_and_error_connections_are_findings(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [AVAILABLE, PENDING, ERROR]}, {})
    report = check_connections(client)
    assert [(finding.name, finding.status) for finding in report.findings] == [
        ("mlops-github-images", "PENDING"),
        ("legacy-gitlab", "ERROR"),
    ]


def test_pending_finding_tells_to_finish_the_console_handshake(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [PENDING]}, {})
    (finding,) = check_connections(client).findings
    assert "Update pending connection" in finding.action


def test_only_available_connections_is_ok(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [AVAILABLE]}, {})
    report = check_connections(client)
    assert report.ok and report.findings == ()


def test_expected_connection_that_does_not_exist_is_a_missing_finding(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [AVAILABLE]}, {})
    report = check_connections(client, expected_names=["mlops-github", "mlops-github-data"])
    assert [(finding.name, finding.status) for finding in report.findings] == [("mlops-github-data", "MISSING")]


def test_report_serialises_to_json_friendly_dict(codeconnections):
    client, stubber = codeconnections
    stubber.add_response("list_connections", {"Connections": [PENDING]}, {})
    as_dict = check_connections(client).to_dict()
    assert as_dict["ok"] is False
    assert as_dict["findings"][0]["arn"] == PENDING["ConnectionArn"]


def test_api_error_is_one_line_naming_the_call(codeconnections):
    client, stubber = codeconnections
    stubber.add_client_error(
        "list_connections", service_error_code="AccessDeniedException", service_message="not authorized", http_status_code=400
    )
    with pytest.raises(ConnectionsCheckError) as raised:
        check_connections(client)
    message = str(raised.value)
    assert message == "codeconnections:ListConnections failed: AccessDeniedException: not authorized"
