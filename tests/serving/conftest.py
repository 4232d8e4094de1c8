"""Serving stacks planned once under mocks, and a runner for serving config the deployer would set."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import StackPlan, plan_serving, plan_stacks
from serving_helpers import PROJECT


@pytest.fixture(scope="session")
def prod_plan() -> StackPlan:
    return plan_serving(f"{PROJECT}-prod")


@pytest.fixture(scope="session")
def int_plan() -> StackPlan:
    return plan_serving(f"{PROJECT}-int")


@pytest.fixture(scope="session")
def dev_plan() -> StackPlan:
    return plan_serving(f"{PROJECT}-dev")


@pytest.fixture(scope="session")
def serving_settings_module() -> ModuleType:
    """``serving/serving_settings.py`` (the serving program's directory is not a package)."""
    if "serving_settings" in sys.modules:
        return sys.modules["serving_settings"]
    spec = importlib.util.spec_from_file_location("serving_settings", REPO_ROOT / "serving" / "serving_settings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["serving_settings"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def stage_plans() -> dict[str, StackPlan]:
    """The DEV, INT and PROD platform stacks (they create the serving roles)."""
    return plan_stacks(["dev", "int", "prod"])
