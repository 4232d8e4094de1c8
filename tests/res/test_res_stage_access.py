"""DEV / INT / PROD: the deployment role (trust, boundary, scope) and the people's sign-in roles."""

from __future__ import annotations

import fnmatch

import pytest

from components.people import persona_user_names
from components.serving_policies import SERVING_PURPOSES
from mlops_core import naming

from .conftest import as_list, children, doc, statements

ROLE = "aws:iam/role:Role"
DEPLOYER = "arn:aws:iam::333333333333:role/mlops-serving-deployer"
STAGES = ("dev", "int", "prod")


def deployment_role(plan):
    (role,) = [r for r in plan.of_type(ROLE) if r.inputs.get("name") == "mlops-serving-deploy"]
    return role


def deployment_policy(plan) -> dict:
    (policy,) = children(plan, deployment_role(plan), "aws:iam/rolePolicy:RolePolicy")
    return doc(policy.inputs["policy"])


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_role_trusts_only_the_res_serving_deployer(stages, stage) -> None:
    role = deployment_role(stages[stage])
    trust = statements(doc(role.inputs["assumeRolePolicy"]))
    assert len(trust) == 1, f"{role.urn}: {len(trust)} trust statements"
    (item,) = trust
    assert item["Effect"] == "Allow" and as_list(item["Action"]) == ["sts:AssumeRole"], role.urn
    assert item["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"}, role.urn
    assert item["Condition"] == {"ArnEquals": {"aws:PrincipalArn": DEPLOYER}}, role.urn


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_role_carries_its_permissions_boundary(stages, stage) -> None:
    plan = stages[stage]
    role = deployment_role(plan)
    (boundary,) = [p for p in plan.of_type("aws:iam/policy:Policy") if p.inputs.get("name") == "mlops-serving-deploy-boundary"]
    assert boundary.urn in role.property_dependencies.get("permissionsBoundary", []), f"{role.urn}: no boundary"
    assert role.inputs["permissionsBoundary"], role.urn


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_role_passes_only_serving_roles_to_serving_services(stages, stage, org) -> None:
    plan = stages[stage]
    account = plan.account_id
    passes = [s for s in statements(deployment_policy(plan)) if "iam:PassRole" in as_list(s["Action"])]
    assert len(passes) == 1, f"{stage}: {len(passes)} PassRole statements"
    patterns = as_list(passes[0]["Resource"])
    for project in org.model_projects:
        for purpose in SERVING_PURPOSES:
            arn = naming.role_arn(account, naming.serving_role_name(org, project.name, purpose))
            assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), f"{stage}: cannot pass {arn} ({patterns})"
    itself = naming.role_arn(account, naming.stage_deployment_role_name(org))
    assert not any(fnmatch.fnmatchcase(itself, p) for p in patterns), f"{stage}: the deployment role may pass itself ({patterns})"
    assert set(passes[0]["Condition"]["StringEquals"]["iam:PassedToService"]) <= {
        "sagemaker.amazonaws.com", "lambda.amazonaws.com", "states.amazonaws.com", "scheduler.amazonaws.com"}, stage


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_role_manages_sagemaker_only_under_the_platform_prefix(stages, stage) -> None:
    plan = stages[stage]
    for item in statements(deployment_policy(plan)):
        sagemaker_writes = [a for a in as_list(item["Action"]) if a.startswith("sagemaker:") and not a.startswith("sagemaker:Describe")]
        if not sagemaker_writes:
            continue
        for resource in as_list(item["Resource"]):
            assert resource.split(":", 5)[5].split("/", 1)[1].startswith("mlops-"), f"{stage}: {item['Sid']} on {resource}"


@pytest.mark.parametrize("stage", STAGES)
def test_deployment_role_has_no_iam_writes_except_the_autoscaling_service_linked_role(stages, stage) -> None:
    iam = sorted({a for s in statements(deployment_policy(stages[stage])) for a in as_list(s["Action"]) if a.startswith("iam:")})
    assert iam == ["iam:CreateServiceLinkedRole", "iam:PassRole"], f"{stage}: {iam}"


# ---- people -------------------------------------------------------------------------------------


def persona_roles(plan) -> dict[str, dict]:
    return {r.inputs["tags"]["mlops:persona"]: r for r in plan.of_type(ROLE) if (r.inputs.get("tags") or {}).get("mlops:persona")}


def persona_policy(plan, role) -> dict:
    (policy,) = children(plan, role, "aws:iam/rolePolicy:RolePolicy")
    return doc(policy.inputs["policy"])


def actions(document: dict) -> set[str]:
    return {a for s in statements(document) if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def test_dev_gives_data_scientists_and_devops_troubleshooting(stages, org) -> None:
    roles = persona_roles(stages["dev"])
    for persona in ("lead", "scientist", "ml_engineer", "devops"):
        if not persona_user_names(org, persona):
            continue
        granted = actions(persona_policy(stages["dev"], roles[persona]))
        assert {"logs:GetLogEvents", "sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"} <= granted, f"dev {persona}"


@pytest.mark.parametrize("stage", ("int", "prod"))
def test_int_and_prod_are_read_only_for_people(stages, stage) -> None:
    writes = ("Create", "Delete", "Update", "Put", "Invoke", "Start", "Stop", "Get" + "LogEvents", "Register")
    for persona, role in persona_roles(stages[stage]).items():
        granted = actions(persona_policy(stages[stage], role))
        offending = sorted(a for a in granted if a.split(":", 1)[1].startswith(writes))
        assert not offending, f"{stage} {persona} ({role.urn}) may {offending}"


@pytest.mark.parametrize("stage", STAGES)
def test_persona_roles_use_the_naming_rule_and_saml(stages, stage, org) -> None:
    for persona, role in persona_roles(stages[stage]).items():
        assert role.inputs["name"] == naming.persona_role_name(org, persona), role.urn
        (item,) = statements(doc(role.inputs["assumeRolePolicy"]))
        assert item["Principal"]["Federated"] == f"arn:aws:iam::{stages[stage].account_id}:saml-provider/corporate-idp", role.urn
