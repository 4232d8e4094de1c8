"""RAM acceptance check with botocore's Stubber: pending Lake Formation shares from DATA to EXP."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from mlops_platform.ram_check import RamCheckError, pending_invitations

DATA, EXP, OTHER = "111111111111", "222222222222", "999999999999"


def invitation(number: int, status: str, sender: str = DATA, receiver: str = EXP) -> dict:
    return {
        "resourceShareInvitationArn": f"arn:aws:ram:eu-central-1:{sender}:resource-share-invitation/inv-{number}",
        "resourceShareName": f"LakeFormation-V4-{number}",
        "resourceShareArn": f"arn:aws:ram:eu-central-1:{sender}:resource-share/share-{number}",
        "senderAccountId": sender,
        "receiverAccountId": receiver,
        "invitationTimestamp": datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc),
        "status": status,
    }


@pytest.fixture
def ram():
    client = boto3.client("ram", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_reports_pending_invitations_from_data_across_pages(ram) -> None:
    client, stubber = ram
    stubber.add_response(
        "get_resource_share_invitations",
        {"resourceShareInvitations": [invitation(2, "PENDING"), invitation(3, "ACCEPTED")], "nextToken": "page-2"},
        {},
    )
    stubber.add_response(
        "get_resource_share_invitations", {"resourceShareInvitations": [invitation(1, "PENDING")]}, {"nextToken": "page-2"}
    )
    found = pending_invitations(client, DATA, EXP)
    assert [i.share_name for i in found] == ["LakeFormation-V4-1", "LakeFormation-V4-2"], found


def test_ignores_accepted_expired_and_rejected_invitations(ram) -> None:
    client, stubber = ram
    stubber.add_response(
        "get_resource_share_invitations",
        {"resourceShareInvitations": [invitation(n, s) for n, s in enumerate(["ACCEPTED", "EXPIRED", "REJECTED"])]},
        {},
    )
    assert pending_invitations(client, DATA, EXP) == []


def test_ignores_other_senders_and_receivers(ram) -> None:
    client, stubber = ram
    stubber.add_response(
        "get_resource_share_invitations",
        {"resourceShareInvitations": [invitation(1, "PENDING", sender=OTHER), invitation(2, "PENDING", receiver=OTHER)]},
        {},
    )
    assert pending_invitations(client, DATA, EXP) == []


def test_tells_how_to_accept(ram) -> None:
    client, stubber = ram
    stubber.add_response("get_resource_share_invitations", {"resourceShareInvitations": [invitation(7, "PENDING")]}, {})
    (found,) = pending_invitations(client, DATA)
    assert found.accept_command == (
        "aws ram accept-resource-share-invitation --resource-share-invitation-arn "
        f"arn:aws:ram:eu-central-1:{DATA}:resource-share-invitation/inv-7"
    )


def test_api_errors_become_one_line(ram) -> None:
    client, stubber = ram
    stubber.add_client_error("get_resource_share_invitations", "AccessDeniedException", "not allowed\nat all")
    with pytest.raises(RamCheckError) as caught:
        pending_invitations(client, DATA, EXP)
    assert str(caught.value).startswith("GetResourceShareInvitations failed: AccessDeniedException")
    assert "\n" not in str(caught.value), repr(str(caught.value))
