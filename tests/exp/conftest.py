"""Fixtures of the EXP tests: the stack planned once under mocks, the organisation config."""

from __future__ import annotations

import pytest

from mlops_core.config import load_organization
from mlops_platform.harness import StackPlan, account_plan


@pytest.fixture(scope="session")
def exp_plan() -> StackPlan:
    """The EXP account: the exp stack and its model projects' stacks (exp.<project>)."""
    return account_plan("exp")


@pytest.fixture(scope="session")
def org():
    return load_organization()
