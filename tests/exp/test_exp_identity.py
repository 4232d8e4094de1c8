"""Identity Center mode: persona roles chained from permission sets; the permission set components."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from mlops_platform.harness import plan_stack

INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"


@pytest.fixture(scope="module")
def identity_center_plan(tmp_path_factory):
    import shutil

    from mlops_core.paths import REPO_ROOT

    root = tmp_path_factory.mktemp("identity-center")
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        shutil.copy(path, root / path.name)
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    raw = yaml.safe_load((root / "organization.yaml").read_text())
    raw["identity"] = {"mode": "identity-center", "identityCenterInstanceArn": INSTANCE, "managementAccount": "999999999999"}
    (root / "organization.yaml").write_text(yaml.safe_dump(raw))
    return plan_stack("exp", root=root)


def test_persona_roles_trust_only_their_identity_center_roles(identity_center_plan) -> None:
    """With Identity Center the persona roles stay (rights defined once); the SSO role chains in."""
    persona_roles = [r for r in identity_center_plan.of_type("aws:iam/role:Role") if str(r.inputs.get("name", "")).startswith("mlops-persona-")]
    assert persona_roles, "identity-center mode must keep the persona sign-in roles"
    for role in persona_roles:
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        persona = role.inputs["name"].removeprefix("mlops-persona-")
        assert trust["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}, role.urn
        assert trust["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
            f"arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_mlops-{persona}_*"
        ], role.urn


def test_identity_center_sessions_must_carry_the_callers_own_name(identity_center_plan) -> None:
    role = next(r for r in identity_center_plan.of_type("aws:iam/role:Role") if r.inputs.get("name") == "mlops-persona-lead")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:RequestTag/userName": "${aws:PrincipalTag/userName}"}, trust
    assert trust["Condition"]["StringLike"] == {"aws:RequestTag/userName": ["alice", "dave"]}, trust


def test_portfolio_admits_the_lead_persona_role_in_identity_center_mode(identity_center_plan) -> None:
    principals = [
        r.inputs["principalArn"]
        for r in identity_center_plan.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")
    ]
    assert "arn:aws:iam::222222222222:role/mlops-persona-lead" in principals, principals


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources[args.name] = args
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-{args.name}"}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture
def recorder():
    mocks = _Recorder()
    pulumi.runtime.set_mocks(mocks, preview=False)
    return mocks


def test_permission_set_merges_the_persona_documents(recorder) -> None:
    from components.people import PersonaPermissionSet, PersonaPermissionSetArgs

    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "sagemaker:ListDomains", "Resource": "*"}]}

    @pulumi.runtime.test
    def run():
        ps = PersonaPermissionSet("lead", PersonaPermissionSetArgs(instance_arn=INSTANCE, permission_set_name="mlops-lead", persona="lead", documents=[doc, doc]))
        return ps.arn.apply(lambda _: None)

    run()
    inline = json.loads(recorder.resources["lead-inline"].inputs["inlinePolicy"])
    assert [s["Sid"] for s in inline["Statement"]] == ["A", "A1"], inline
    assert recorder.resources["lead-permission-set"].inputs["sessionDuration"] == "PT8H"


def test_user_name_attribute_comes_from_the_identity_store(recorder) -> None:
    from components.people import UserNameAttribute, UserNameAttributeArgs

    @pulumi.runtime.test
    def run():
        UserNameAttribute("abac", UserNameAttributeArgs(instance_arn=INSTANCE, user_name_tag="userName"))
        return pulumi.Output.from_input(None)

    run()
    (attribute,) = recorder.resources["abac-attributes"].inputs["attributes"]
    assert attribute["key"] == "userName" and attribute["values"][0]["sources"] == ["${path:userName}"], attribute


def test_permission_set_name_longer_than_32_is_refused(recorder) -> None:
    from components.people import PersonaPermissionSet, PersonaPermissionSetArgs

    with pytest.raises(ValueError, match="at most 32"):
        PersonaPermissionSet("x", PersonaPermissionSetArgs(instance_arn=INSTANCE, permission_set_name="p" * 33, persona="lead"))
