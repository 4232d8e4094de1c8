"""``mlops:deployRole.roleName``: every place a stack names its own deploy role follows the override.

Lake Formation's ``admins`` replaces the account's whole list, so a stack whose provider assumes
``<platform>-ci-deployer`` but lists ``<platform>-deploy`` as the only admin removes its own role
as administrator on the first ``pulumi up``. The plans below run with an override in the stack
file and look at each place: the provider, the LF admins, the data key's users, the
DATA_LOCATION grants (DATA) and the project buckets' exemptions (EXP).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mlops_core.config import load_organization
from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import StackPlan, account_plan, plan_stack

OVERRIDE = "mlops-ci-deployer"


def _with_override(root: Path, stack: str) -> None:
    path = root / f"Pulumi.{stack}.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["config"]["mlops:deployRole"] = {"roleName": OVERRIDE}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture(scope="module")
def overridden(tmp_path_factory) -> dict[str, StackPlan]:
    root = tmp_path_factory.mktemp("override")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        shutil.copy(path, root / path.name)
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    for stack in ("data", "exp"):
        _with_override(root, stack)
    return {"data": plan_stack("data", root=root), "exp": account_plan("exp", root=root)}


def _role(plan: StackPlan, name: str) -> str:
    return f"arn:aws:iam::{plan.account_id}:role/{name}"


def test_the_provider_assumes_the_overridden_role(overridden) -> None:
    (provider,) = overridden["data"].of_type("pulumi:providers:aws")
    roles = provider.inputs["assumeRoles"]
    roles = json.loads(roles) if isinstance(roles, str) else roles
    assert [r["roleArn"] for r in roles] == [_role(overridden["data"], OVERRIDE)], roles


@pytest.mark.parametrize("stack", ["data", "exp"])
def test_lake_formation_admins_are_the_overridden_deploy_role(overridden, stack: str) -> None:
    plan = overridden[stack]
    (settings,) = plan.of_type("aws:lakeformation/dataLakeSettings:DataLakeSettings")
    assert settings.inputs["admins"] == [_role(plan, OVERRIDE)], (
        f"{settings.name}: admins replace the account's list; the stack's own deploy role must be in it"
    )


def test_the_data_key_admits_the_overridden_deploy_role(overridden) -> None:
    plan = overridden["data"]
    key = plan.named("data-lake-key-key")
    policy = json.loads(key.inputs["policy"])
    users = [
        arn
        for s in policy["Statement"]
        if s["Sid"].startswith("KeyUse") and s["Principal"]["AWS"].endswith(f"{plan.account_id}:root")
        for arn in s["Condition"]["ArnLike"]["aws:PrincipalArn"]
    ]
    assert _role(plan, OVERRIDE) in users, f"{key.name}: the deploy role uploads KMS-encrypted objects, users {users}"
    assert _role(plan, "mlops-deploy") not in users, f"{key.name}: still names the default deploy role"


def test_data_location_grants_go_to_the_overridden_deploy_role(overridden) -> None:
    plan = overridden["data"]
    grants = [p for p in plan.of_type("aws:lakeformation/permissions:Permissions") if "dataLocation" in p.inputs]
    assert grants, "the data stack declares DATA_LOCATION_ACCESS grants"
    principals = {p.inputs["principal"] for p in grants}
    assert principals == {_role(plan, OVERRIDE)}, f"DATA_LOCATION_ACCESS principals {principals}"


def test_project_buckets_exempt_the_overridden_deploy_role(overridden) -> None:
    plan = overridden["exp"]
    org = load_organization()
    project = org.model_projects[0].name
    policies = [p for p in plan.of_type("aws:s3/bucketPolicy:BucketPolicy") if p.name.startswith(f"exp-{project}")]
    assert policies, f"exp project {project}: no bucket policy planned"
    text = json.dumps([p.inputs for p in policies])
    assert _role(plan, OVERRIDE) in text, f"exp project {project}: bucket policy does not exempt the deploy role"
    assert _role(plan, "mlops-deploy") not in text, f"exp project {project}: bucket policy names the default deploy role"
