"""RES: the model event bus (new versions from EXP) and the trigger Lambda that starts the deploys."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.common import AccountContext
from accounts.res_foundation import ReleaseFoundation
from components.event_bus import ModelEventBus, ModelEventBusArgs
from components.model_trigger import ModelTrigger, ModelTriggerArgs
from mlops_core import naming


@dataclass
class ModelEvents:
    """The bus and the trigger function."""

    bus: ModelEventBus
    trigger: ModelTrigger


def build(context: AccountContext, foundation: ReleaseFoundation) -> ModelEvents:
    """The bus, then the trigger that listens on it."""
    bus = _bus(context, foundation)
    return ModelEvents(bus=bus, trigger=_trigger(context, foundation, bus))


def _bus(context: AccountContext, foundation: ReleaseFoundation) -> ModelEventBus:
    """The bus EXP's forwarder role puts new-version events on (encrypted with the release key)."""
    org = context.settings.org
    return ModelEventBus(
        "res-model-events",
        ModelEventBusArgs(
            bus_name=naming.event_bus_name(org),
            bus_arn=naming.event_bus_arn(org),
            exp_account_id=org.accounts.exp,
            sender_role_arn=naming.role_arn(org.accounts.exp, naming.events_forwarder_role_name(org)),
            kms_key_arn=foundation.key.arn,
        ),
        opts=context.opts,
    )


def _trigger(context: AccountContext, foundation: ReleaseFoundation, bus: ModelEventBus) -> ModelTrigger:
    """The Lambda in the RES VPC that starts ``<p>-deploy-<group>`` for each new version on the bus."""
    settings = context.settings
    org = settings.org
    return ModelTrigger(
        "res-model-trigger",
        ModelTriggerArgs(
            function_name=naming.model_trigger_function_name(org), platform_name=org.platform_name,
            account_id=settings.account_id, region=org.region, exp_account_id=org.accounts.exp,
            event_bus_name=bus.name, subnet_ids=foundation.subnet_ids,
            security_group_ids=foundation.security_group_ids, kms_key_arn=foundation.key.arn,
            logs_key_arn=context.baseline.logs_key.arn,
            log_retention_days=settings.config.baseline.log_retention_days,
        ),
        opts=context.opts,
    )
