"""docs/res.md's permission matrix agrees with the access tables in code and with the planned roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.people import persona_user_names
from components.release_access import PLATFORM_ADMIN, PRODUCT_LAUNCHER, READ_ONLY, RELEASE_APPROVERS, RELEASE_OPERATOR, RES_ACCESS, STAGE_ACCESS, TROUBLESHOOT

from .conftest import as_list, children, doc, statements

DOC = Path(__file__).resolve().parents[2] / "docs" / "res.md"
STAGE_COLUMNS = {"DEV": "dev", "INT": "int", "PROD": "prod"}


def table(marker: str) -> list[dict[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- permission-matrix:{marker} -->\n(.*?)<!-- /permission-matrix:{marker} -->", text, re.S)
    assert match, f"docs/res.md has no permission-matrix:{marker} table"
    lines = [line.strip().strip("|").split("|") for line in match.group(1).strip().splitlines()]
    header = [cell.strip() for cell in lines[0]]
    return [dict(zip(header, (cell.strip() for cell in row))) for row in lines[2:]]


PEOPLE = table("people")
MACHINES = table("machines")


def test_people_matrix_matches_the_stage_access_table() -> None:
    for row in PEOPLE:
        for column, stage in STAGE_COLUMNS.items():
            documented = None if row[column] == "-" else row[column]
            assert documented == STAGE_ACCESS[stage].get(row["Persona"]), f"docs/res.md: {row['Persona']} in {column}"


def test_people_matrix_matches_the_release_approvers() -> None:
    for row in PEOPLE:
        documented = set() if row["RES approvals"] == "-" else {row["RES approvals"].removeprefix("approve ")}
        in_code = {stage for stage, personas in RELEASE_APPROVERS.items() if row["Persona"] in personas}
        assert documented == in_code, f"docs/res.md: {row['Persona']} in RES"


def test_people_matrix_matches_the_res_sign_in_table() -> None:
    for row in PEOPLE:
        documented = None if row["RES sign-in"] == "-" else row["RES sign-in"]
        assert documented == RES_ACCESS.get(row["Persona"]), f"docs/res.md: {row['Persona']} in RES sign-in"


def test_res_sign_in_roles_match_the_matrix(res, org) -> None:
    for row in PEOPLE:
        persona, level = row["Persona"], row["RES sign-in"]
        role = _role(res, f"mlops-persona-{persona.replace('_', '-')}")
        if level == "-" or not persona_user_names(org, persona):
            assert role is None, f"res: {persona} has a role but the matrix says {level}"
            continue
        allowed = _allowed(res, role)
        if level == PRODUCT_LAUNCHER:
            assert "servicecatalog:ProvisionProduct" in allowed and not {a for a in allowed if a.startswith(("codepipeline:", "iam:", "s3:"))}, (
                f"{role.urn}: a product launcher only launches the Model Deployment product ({sorted(allowed)})"
            )
            continue
        if level == PLATFORM_ADMIN:
            assert allowed == {"sts:AssumeRole", "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                               "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, role.urn
            continue
        assert "codepipeline:GetPipelineState" in allowed, role.urn
        operator = {"servicecatalog:ProvisionProduct", "codepipeline:RetryStageExecution"}
        if level == RELEASE_OPERATOR:
            assert operator <= allowed, role.urn
        else:
            assert level == READ_ONLY and not operator & allowed, role.urn
        assert "codepipeline:PutApprovalResult" not in allowed, f"{role.urn}: approvals belong to the approver roles"


def test_every_persona_in_code_is_in_the_matrix() -> None:
    personas = {p for access in STAGE_ACCESS.values() for p in access} | {p for ps in RELEASE_APPROVERS.values() for p in ps}
    personas |= set(RES_ACCESS)
    assert personas <= {row["Persona"] for row in PEOPLE}


def _role(plan, name: str):
    found = [r for r in plan.of_type("aws:iam/role:Role") if r.inputs.get("name") == name]
    return found[0] if found else None


def _allowed(plan, role) -> set[str]:
    return {a for p in children(plan, role, "aws:iam/rolePolicy:RolePolicy") for s in statements(doc(p.inputs["policy"]))
            if s["Effect"] == "Allow" for a in as_list(s["Action"])}


@pytest.mark.parametrize("column", list(STAGE_COLUMNS))
def test_people_matrix_matches_the_planned_sign_in_roles(platform_plans, org, column) -> None:
    plan = platform_plans[STAGE_COLUMNS[column]]
    for row in PEOPLE:
        persona, level = row["Persona"], row[column]
        role = _role(plan, f"mlops-persona-{persona.replace('_', '-')}")
        if level == "-" or not persona_user_names(org, persona):
            assert role is None, f"{column}: {persona} has a role but the matrix says {level}"
            continue
        assert role is not None, f"{column}: no sign-in role for {persona} ({level})"
        allowed = _allowed(plan, role)
        if level == TROUBLESHOOT:
            assert {"logs:GetLogEvents", "sagemaker:InvokeEndpoint"} <= allowed, f"{column}: {role.urn}"
        else:
            assert level == READ_ONLY and "sagemaker:DescribeEndpoint" in allowed, f"{column}: {role.urn}"
            assert not {"logs:GetLogEvents", "sagemaker:InvokeEndpoint"} & allowed, f"{column}: {role.urn}"


def test_people_matrix_matches_the_planned_approvers(res, org) -> None:
    for stage in ("int", "prod"):
        role = _role(res, f"mlops-release-approver-{stage}")
        (item,) = statements(doc(role.inputs["assumeRolePolicy"]))
        users = set(item["Condition"]["StringEquals"]["aws:RequestTag/userName"])
        documented = {row["Persona"] for row in PEOPLE if row["RES approvals"] == f"approve {stage}"}
        expected = {u for persona in documented for u in persona_user_names(org, persona)}
        assert users == expected, f"{role.urn}: may be assumed by {sorted(users)}, the matrix says {sorted(expected)}"


def _trusted(role) -> set[str]:
    found: set[str] = set()
    for item in statements(doc(role.inputs["assumeRolePolicy"])):
        found |= set(as_list(item["Principal"].get("Service", [])))
        found |= set(as_list((item.get("Condition") or {}).get("ArnEquals", {}).get("aws:PrincipalArn", [])))
    return found


def test_machine_matrix_matches_the_planned_trust_policies(platform_plans) -> None:
    accounts = {"RES": ["res"], "DEV, INT, PROD": ["dev", "int", "prod"]}
    for row in MACHINES:
        name = row["Role"].strip("`").replace("<p>", "mlops")
        trusted_by = row["Trusted by"].strip("`").replace("<p>", "mlops")
        for stack in accounts[row["Account"]]:
            role = _role(platform_plans[stack], name)
            assert role is not None, f"docs/res.md: {name} is not declared in {stack}"
            trusted = _trusted(role)
            assert any(t == trusted_by or t.endswith(f":role/{trusted_by}") for t in trusted), (
                f"{role.urn}: trusted by {sorted(trusted)}, docs/res.md says {trusted_by}")
