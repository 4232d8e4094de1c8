"""Shared fixtures: the platform's stacks planned once under mocks, and throwaway repo copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_core.config import account_stack_of
from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import StackPlan, plan_stacks


@pytest.fixture(scope="session")
def platform_plans() -> dict[str, StackPlan]:
    """Every committed platform stack, run under mocks with known outputs."""
    return plan_stacks()


@pytest.fixture(scope="session")
def account_plans(platform_plans) -> dict[str, StackPlan]:
    """The account stacks, each with its baseline: every platform stack but the model projects'
    stacks (``exp.<project>``), which share their EXP stack's VPC, keys and audit."""
    return {name: plan for name, plan in platform_plans.items() if account_stack_of(name) is None}


@pytest.fixture(scope="session")
def preview_plans() -> dict[str, StackPlan]:
    """Every committed platform stack in preview mode (computed values unknown)."""
    return plan_stacks(preview=True)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the config files beside a link to the real program, to mutate freely."""
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    return tmp_path
