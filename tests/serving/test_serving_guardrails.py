"""The guardrail pack over the serving stacks (known and preview): zero mandatory violations."""

from __future__ import annotations

import pytest

from mlops_platform.commands.check import run_check


@pytest.mark.parametrize("stage", ["dev", "int", "prod"])
def test_serving_stack_has_no_mandatory_violation(stage) -> None:
    result = run_check(None, [f"weld-gun-pm-{stage}"], None, None, None)
    assert result.resources_evaluated > 0, f"weld-gun-pm-{stage}: nothing was evaluated"
    found = [f"{v.policy}: {v.message}" for v in result.violations if v.enforcement_level == "mandatory"]
    assert not found, f"weld-gun-pm-{stage}: mandatory violations:\n" + "\n".join(found)
