"""The EXP stack planned once under mocks (with and without the DATA account)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlops_core.paths import REPO_ROOT
from mlops_core.config import load_organization
from mlops_platform.harness import StackPlan, account_plan


@pytest.fixture(scope="session")
def exp_plan() -> StackPlan:
    """The EXP account: the exp stack and its model projects' stacks (exp.<project>)."""
    return account_plan("exp")


@pytest.fixture(scope="session")
def org():
    return load_organization()


@pytest.fixture(scope="session")
def no_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config copy without the DATA account: no data sets, no project data access, no data stack."""
    root = tmp_path_factory.mktemp("no-data-account")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        if path.name != "Pulumi.data.yaml":
            shutil.copy(path, root / path.name)
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    organization = yaml.safe_load((root / "organization.yaml").read_text())
    organization["accounts"].pop("data")
    organization.pop("dataSets", None)
    for project in organization["modelProjects"]:
        project.pop("dataAccess", None)
    (root / "organization.yaml").write_text(yaml.safe_dump(organization, sort_keys=False))
    return root


@pytest.fixture(scope="session")
def exp_plan_without_data(no_data_root: Path) -> StackPlan:
    return account_plan("exp", root=no_data_root)
