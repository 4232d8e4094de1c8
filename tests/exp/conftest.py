"""Fixtures of the EXP tests: the stack planned once under mocks, the organisation config."""

from __future__ import annotations

import pytest

from mlops_core.config import load_organization
from mlops_platform.harness import StackPlan, plan_stack


@pytest.fixture(scope="session")
def exp_plan() -> StackPlan:
    return plan_stack("exp")


@pytest.fixture(scope="session")
def org():
    return load_organization()
