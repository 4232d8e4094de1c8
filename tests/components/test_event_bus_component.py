"""ModelEventBus: a KMS-encrypted bus whose policy admits only the EXP forwarder role."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, KEY_ARN, PEER_ACCOUNT, REGION, document, only
from components.event_bus import ModelEventBus, ModelEventBusArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration

BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/acme-models"
SENDER = f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-events-forwarder"


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    def declare():
        ModelEventBus("bus", ModelEventBusArgs(bus_name="acme-models", bus_arn=BUS_ARN, exp_account_id=PEER_ACCOUNT,
                                               sender_role_arn=SENDER, kms_key_arn=KEY_ARN))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_bus_is_encrypted_with_the_customer_key(plan) -> None:
    bus = only(plan, "aws:cloudwatch/eventBus:EventBus")
    assert bus.inputs["kmsKeyIdentifier"] == KEY_ARN, f"{bus.name}: events at rest under the customer key"


def test_bus_policy_has_a_single_allow(plan) -> None:
    statements = document(only(plan, "aws:cloudwatch/eventBusPolicy:EventBusPolicy"))["Statement"]
    assert [s["Effect"] for s in statements] == ["Allow"], f"bus policy: one statement, got {statements}"


def test_only_the_exp_forwarder_role_may_put_events(plan) -> None:
    (allow,) = document(only(plan, "aws:cloudwatch/eventBusPolicy:EventBusPolicy"))["Statement"]
    assert (allow["Principal"], allow["Condition"]) == (
        {"AWS": f"arn:aws:iam::{PEER_ACCOUNT}:root"}, {"ArnEquals": {"aws:PrincipalArn": SENDER}}
    ), f"bus policy: the EXP account root narrowed to {SENDER}, got {allow}"


def test_senders_may_only_put_events_on_this_bus(plan) -> None:
    (allow,) = document(only(plan, "aws:cloudwatch/eventBusPolicy:EventBusPolicy"))["Statement"]
    assert (allow["Action"], allow["Resource"]) == (["events:PutEvents"], BUS_ARN), f"bus policy: PutEvents on {BUS_ARN} only"
