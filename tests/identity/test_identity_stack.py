"""The optional identity stack (IAM Identity Center) and its wiring to the account stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_core.paths import REPO_ROOT
from mlops_core.config import ConfigError, load_settings
from mlops_platform.harness import default_stacks, plan_stack

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
GROUP = "9067b3c1d2-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"


@pytest.fixture(scope="module")
def ic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("identity")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (root / path.name).write_text(path.read_text())
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    org = yaml.safe_load((root / "organization.yaml").read_text())
    org["identity"] = {
        "mode": "identity-center",
        "identityCenterInstanceArn": INSTANCE,
        "managementAccount": "999999999999",
        "groupIds": {"devops": GROUP},
    }
    (root / "organization.yaml").write_text(yaml.safe_dump(org, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def identity_plan(ic_root):
    return plan_stack("identity", root=ic_root)


def test_identity_stack_is_skipped_without_identity_center() -> None:
    assert "identity" not in default_stacks(REPO_ROOT), "the identity stack runs only in identity-center mode"


def test_identity_stack_is_planned_in_identity_center_mode(ic_root) -> None:
    assert "identity" in default_stacks(ic_root)


def test_identity_stack_refuses_federation_mode() -> None:
    with pytest.raises(ConfigError, match="identity.mode is not identity-center"):
        load_settings("identity", REPO_ROOT)


def test_identity_stack_runs_in_the_management_account(identity_plan) -> None:
    (provider,) = identity_plan.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["999999999999"], provider.inputs


def test_identity_stack_has_no_vpc(identity_plan) -> None:
    assert not identity_plan.of_type("aws:ec2/vpc:Vpc"), "the management account gets no workload VPC"


def test_one_permission_set_per_persona_in_use(identity_plan) -> None:
    names = sorted(r.inputs["name"] for r in identity_plan.of_type("aws:ssoadmin/permissionSet:PermissionSet"))
    assert names == sorted(["mlops-lead", "mlops-scientist", "mlops-ml-engineer", "mlops-devops", "mlops-platform-admin", "mlops-auditor"])


def test_permission_sets_only_chain_into_persona_roles(identity_plan) -> None:
    for inline in identity_plan.of_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"):
        (statement,) = json.loads(inline.inputs["inlinePolicy"])["Statement"]
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"], inline.urn
        assert all(":role/mlops-persona-" in arn or ":role/mlops-release-approver-" in arn for arn in statement["Resource"]), inline.urn


def test_devops_chains_into_res_and_the_prod_approver_role(identity_plan) -> None:
    inline = next(
        r for r in identity_plan.of_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy")
        if r.name.startswith("identity-devops")
    )
    resources = json.loads(inline.inputs["inlinePolicy"])["Statement"][0]["Resource"]
    assert "arn:aws:iam::333333333333:role/mlops-release-approver-prod" in resources, resources
    assert "arn:aws:iam::333333333333:role/mlops-release-approver-int" not in resources, resources


def test_groups_are_assigned_where_their_persona_has_roles(identity_plan) -> None:
    assignments = identity_plan.of_type("aws:ssoadmin/accountAssignment:AccountAssignment")
    targets = sorted(a.inputs["targetId"] for a in assignments)
    assert all(a.inputs["principalId"] == GROUP and a.inputs["principalType"] == "GROUP" for a in assignments)
    assert targets == ["222222222222", "333333333333", "444444444444", "555555555555", "666666666666"], targets


def test_user_name_attribute_feeds_the_session_tag(identity_plan) -> None:
    (attributes,) = identity_plan.of_type("aws:ssoadmin/instanceAccessControlAttributes:InstanceAccessControlAttributes")
    assert attributes.inputs["attributes"][0]["key"] == "userName", attributes.inputs


def test_every_chained_role_exists_in_the_account_stacks(ic_root, identity_plan) -> None:
    """The roles the permission sets chain into are declared by the account stacks, trusting those sets."""
    declared = {}
    for stack in ("exp", "res", "dev", "int", "prod"):
        plan = plan_stack(stack, root=ic_root)
        for role in plan.of_type("aws:iam/role:Role"):
            declared[f"arn:aws:iam::{plan.account_id}:role/{role.inputs.get('name')}"] = role
    for inline in identity_plan.of_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"):
        for arn in json.loads(inline.inputs["inlinePolicy"])["Statement"][0]["Resource"]:
            assert arn in declared, f"{inline.urn}: chains into {arn}, which no account stack declares"
            trust = json.loads(declared[arn].inputs["assumeRolePolicy"])["Statement"][0]
            assert "aws-reserved/sso.amazonaws.com" in json.dumps(trust["Condition"]["ArnLike"]), f"{arn} does not trust SSO roles"


def test_gate_is_clean_on_the_identity_stack(identity_plan) -> None:
    from mlops_guard.config import load_pack_config
    from mlops_guard.engine import evaluate_stack
    from mlops_guard.inputs import from_records

    result = evaluate_stack(
        from_records(identity_plan.resources),
        load_pack_config(REPO_ROOT / "policies" / "config" / "identity.json"),
        stack="identity",
        project="mlops-platform",
    )
    assert result.mandatory == 0, [(v.policy, v.urn, v.message) for v in result.violations]
