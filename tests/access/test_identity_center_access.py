"""The journeys under IAM Identity Center sign-in: people sign in through the planned permission
sets (the identity stack's inline policies), not through SAML federation."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from mlops_core.config import load_organization
from mlops_core.paths import REPO_ROOT
from mlops_platform.access import evaluate
from mlops_platform.access.collect import collect
from mlops_platform.access.model import NamedPolicy

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
SIGN_IN = "session-tag injection / bob signs in as a scientist with his own user-name tag"


@pytest.fixture(scope="module")
def ic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("identity-center")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (root / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for program in ("platform", "serving"):
        (root / program).symlink_to(REPO_ROOT / program, target_is_directory=True)
    org = yaml.safe_load((root / "organization.yaml").read_text(encoding="utf-8"))
    org["identity"] = {"mode": "identity-center", "identityCenterInstanceArn": INSTANCE, "managementAccount": "999999999999",
                       "userNameTag": org["identity"]["userNameTag"]}
    (root / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ic_settings(ic_root) -> evaluate.Settings:
    org = load_organization(ic_root)
    return evaluate.Settings(org.platform_name, org.region, org.identity.mode, org.identity.user_name_tag, org.identity.saml_provider_name)


@pytest.fixture(scope="module")
def ic_model(ic_root, committed_journeys):
    return collect(committed_journeys.product_parameters, root=ic_root)


def test_the_model_holds_each_planned_permission_set(ic_model) -> None:
    assert "mlops-scientist" in ic_model.permission_sets, f"permission sets in the model: {sorted(ic_model.permission_sets)}"


def test_every_step_holds_with_identity_center_sign_in(ic_model, ic_settings, committed_journeys, engine_run) -> None:
    checks = evaluate.evaluate(committed_journeys.steps, ic_model, ic_settings, engine_run)
    failed = [f"{c.journey} / {c.step}: expected {c.expected}, engine says {c.result}: {c.reasons}" for c in checks if not c.passed]
    assert not failed, "steps that do not hold under Identity Center:\n" + "\n".join(failed)


def test_the_sign_in_is_decided_by_the_planned_permission_set(ic_model, ic_settings, committed_journeys, engine_run) -> None:
    mutated = copy.deepcopy(ic_model)
    mutated.permission_sets["mlops-scientist"] = NamedPolicy("permission set mlops-scientist (emptied)", {"Version": "2012-10-17", "Statement": []})
    checks = evaluate.evaluate(committed_journeys.steps, mutated, ic_settings, engine_run)
    failing = {f"{c.journey} / {c.step}" for c in checks if not c.passed}
    assert failing == {SIGN_IN}, f"without the scientist permission set's statements: failing steps {sorted(failing)}"
