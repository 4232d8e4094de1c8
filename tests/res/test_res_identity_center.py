"""The persona switch: with IAM Identity Center no role trusts the SAML provider (people chain in from
their permission sets' roles, see tests/identity); the machine roles stay."""

from __future__ import annotations

import pytest
import yaml

from mlops_platform.harness import plan_stack


@pytest.fixture(scope="module")
def identity_center_root(tmp_path_factory):
    from mlops_core.paths import REPO_ROOT

    root = tmp_path_factory.mktemp("identity-center")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (root / path.name).write_text(path.read_text())
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    org = yaml.safe_load((root / "organization.yaml").read_text())
    org["identity"] = {
        "mode": "identity-center",
        "identityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
        "managementAccount": "999999999999",
    }
    (root / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    return root


def role_names(plan) -> set[str]:
    return {r.inputs.get("name") for r in plan.of_type("aws:iam/role:Role")}


@pytest.mark.parametrize("stack", ["res", "dev"])
def test_identity_center_mode_declares_no_federated_roles(identity_center_root, stack) -> None:
    plan = plan_stack(stack, root=identity_center_root)
    federated = [r.urn for r in plan.of_type("aws:iam/role:Role") if "saml-provider" in str(r.inputs.get("assumeRolePolicy"))]
    assert not federated, f"{stack}: federated roles in identity-center mode: {federated}"


def test_identity_center_mode_keeps_the_machine_roles(identity_center_root) -> None:
    assert {"mlops-serving-deployer", "mlops-release-pipeline", "mlops-image-builder"} <= role_names(plan_stack("res", root=identity_center_root))
    assert "mlops-serving-deploy" in role_names(plan_stack("dev", root=identity_center_root))
