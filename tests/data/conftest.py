"""Fixtures of the DATA area: the data and exp stacks planned once, and the config they came from."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

from mlops_core.paths import REPO_ROOT

from mlops_core.config import OrganizationConfig, load_organization
from mlops_platform.harness import StackPlan, account_plan, plan_stack


@pytest.fixture(scope="session")
def org() -> OrganizationConfig:
    return load_organization()


@pytest.fixture(scope="session")
def data_plan() -> StackPlan:
    return plan_stack("data")


@pytest.fixture(scope="session")
def exp_plan() -> StackPlan:
    """The EXP account: the exp stack and its model projects' stacks."""
    return account_plan("exp")


@pytest.fixture(scope="session")
def data_preview() -> StackPlan:
    return plan_stack("data", preview=True)


@pytest.fixture(scope="session")
def exp_data_access() -> ModuleType:
    """``platform/accounts/exp_data_access.py`` as the program imports it (``accounts`` package)."""
    program_dir = str(REPO_ROOT / "platform")
    if program_dir not in sys.path:
        sys.path.append(program_dir)  # appended: never shadows an installed module
    return importlib.import_module("accounts.exp_data_access")
