"""The RES central event bus: receives new-model-version events from EXP, and only from EXP.

The bus is encrypted with a customer key. Its policy admits ``events:PutEvents`` from the EXP
account root with an ``aws:PrincipalArn`` condition naming the EXP forwarder role (the role the EXP
rule's target uses), so no other account and no other EXP principal can put events on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement


@dataclass
class ModelEventBusArgs:
    """Inputs of a :class:`ModelEventBus`."""

    bus_name: str
    """``naming.event_bus_name(org)``."""
    bus_arn: str
    """``naming.event_bus_arn(org)``: known before the bus exists, so the policy is checkable at preview."""
    exp_account_id: str
    sender_role_arn: str
    """The EXP role whose rule targets this bus (``naming.events_forwarder_role_name``)."""
    kms_key_arn: pulumi.Input[str]


def bus_policy(bus_arn: str, exp_account_id: str, sender_role_arn: str) -> dict[str, Any]:
    """Only the EXP forwarder role may put events (pure)."""
    return policy_document(
        [
            statement(
                "ExpForwarderPutsEvents",
                ["events:PutEvents"],
                bus_arn,
                principal={"AWS": f"arn:aws:iam::{exp_account_id}:root"},
                condition={"ArnEquals": {"aws:PrincipalArn": sender_role_arn}},
            )
        ]
    )


class ModelEventBus(pulumi.ComponentResource):
    """A KMS-encrypted custom bus whose policy admits only the EXP account's forwarder role."""

    bus: aws.cloudwatch.EventBus
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ModelEventBusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:events:ModelEventBus", name, None, opts)
        self.bus = aws.cloudwatch.EventBus(
            f"{name}-bus",
            aws.cloudwatch.EventBusArgs(
                name=args.bus_name,
                description="New model versions registered in EXP",
                kms_key_identifier=args.kms_key_arn,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventBusPolicy(
            f"{name}-policy",
            aws.cloudwatch.EventBusPolicyArgs(
                event_bus_name=self.bus.name,
                policy=json.dumps(bus_policy(args.bus_arn, args.exp_account_id, args.sender_role_arn)),
            ),
            opts=pulumi.ResourceOptions(parent=self.bus),
        )
        self.name = self.bus.name
        self.arn = self.bus.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
