"""ModelEventBus: a KMS-encrypted bus whose policy admits only the EXP forwarder role."""

from __future__ import annotations

import json

import pytest

from component_helpers import ACCOUNT, KEY_ARN, PEER_ACCOUNT, REGION, document, only
from components.event_bus import ModelEventBus, ModelEventBusArgs
from mlops_platform.harness import UNKNOWN, DeclarationPlan, plan_declaration

BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/acme-models"
SENDER = f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-events-forwarder"


def bus_plan(preview: bool) -> DeclarationPlan:
    def declare():
        ModelEventBus("bus", ModelEventBusArgs(bus_name="acme-models", bus_arn=BUS_ARN, exp_account_id=PEER_ACCOUNT,
                                               sender_role_arn=SENDER, kms_key_arn=KEY_ARN))

    return plan_declaration(declare, account=ACCOUNT, region=REGION, preview=preview)


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    return bus_plan(preview=False)


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


def test_bus_policy_is_known_at_preview() -> None:
    policy = only(bus_plan(preview=True), "aws:cloudwatch/eventBusPolicy:EventBusPolicy").inputs["policy"]
    assert policy != UNKNOWN and json.loads(policy)["Statement"][0]["Resource"] == BUS_ARN, (
        "bus policy: built from the bus ARN by naming, so the policy pack can check it at the first preview"
    )
