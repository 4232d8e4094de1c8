"""RAM acceptance check: Lake Formation shares from DATA that EXP has not accepted yet.

A Lake Formation grant to a principal of another account creates an AWS RAM resource share (no
Pulumi resource outputs its ARN). With RAM sharing enabled for the organisation
(``aws ram enable-sharing-with-aws-organization`` in the management account) the share is
accepted automatically. Otherwise the receiving account (EXP) gets an invitation that someone must
accept within 7 days, or the project roles see no shared tables. See ``docs/data.md``.

:func:`pending_invitations` runs with a RAM client **in the EXP account** and lists the invitations
from the DATA account that are still ``PENDING``. IAM: ``ram:GetResourceShareInvitations``.
Accept with ``aws ram accept-resource-share-invitation --resource-share-invitation-arn <arn>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

PENDING = "PENDING"
ACCEPT_COMMAND = "aws ram accept-resource-share-invitation --resource-share-invitation-arn {arn}"


class RamCheckError(RuntimeError):
    """The check could not run (API error, no credentials); ``str()`` is one line."""


@dataclass(frozen=True)
class PendingInvitation:
    """A RAM invitation from DATA waiting for EXP to accept it."""

    arn: str
    share_name: str
    share_arn: str
    sender_account_id: str
    receiver_account_id: str

    @property
    def accept_command(self) -> str:
        return ACCEPT_COMMAND.format(arn=self.arn)


def pending_invitations(client: Any, data_account_id: str, exp_account_id: str | None = None) -> list[PendingInvitation]:
    """Invitations sent by ``data_account_id`` (to ``exp_account_id`` if given) still ``PENDING``.

    ``client`` is a boto3 RAM client of the receiving (EXP) account. Sorted by share name.
    """
    found: list[PendingInvitation] = []
    try:
        for page in client.get_paginator("get_resource_share_invitations").paginate():
            for invitation in page.get("resourceShareInvitations", []):
                if invitation.get("status") != PENDING:
                    continue
                if invitation.get("senderAccountId") != data_account_id:
                    continue
                receiver = invitation.get("receiverAccountId", "")
                if exp_account_id is not None and receiver != exp_account_id:
                    continue
                found.append(
                    PendingInvitation(
                        arn=invitation["resourceShareInvitationArn"],
                        share_name=invitation.get("resourceShareName", ""),
                        share_arn=invitation.get("resourceShareArn", ""),
                        sender_account_id=data_account_id,
                        receiver_account_id=receiver,
                    )
                )
    except ClientError as error:
        details = error.response.get("Error", {})
        message = " ".join(str(details.get("Message", "")).split())
        raise RamCheckError(
            f"GetResourceShareInvitations failed: {details.get('Code', 'error')}: {message}".rstrip(": ")
        ) from None
    except BotoCoreError as error:
        raise RamCheckError(f"GetResourceShareInvitations failed: {' '.join(str(error).split())}") from None
    return sorted(found, key=lambda invitation: (invitation.share_name, invitation.arn))
