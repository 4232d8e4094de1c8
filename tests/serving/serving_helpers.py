"""Helpers of the serving tests: plan a serving stack with the config the deployer would set."""

from __future__ import annotations

from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import SERVING_PROJECT, StackPlan, plan_stack, run_program, serving_stack_config

PROJECT = "weld-gun-pm"


def run_serving(name: str, extra_config: dict[str, str], *, preview: bool = False) -> StackPlan:
    """Plan a serving stack with further ``serving:`` keys, as the deployer passes them."""
    config, stage, account = serving_stack_config(name, None)
    config.update(extra_config)
    platform = plan_stack(stage)
    records, outputs, _ = run_program(
        REPO_ROOT / "serving", SERVING_PROJECT, name, config, account, platform.region,
        preview=preview, stack_outputs={stage: platform.outputs},
    )
    return StackPlan(name, stage, SERVING_PROJECT, records, outputs, account, platform.region)
