"""Lake Formation grants to projects: only permitted, non-PII curated columns, only given data sets.

Asserted on the planned ``aws:lakeformation`` resources' inputs (what the engine would send), for
every configured data set and project. Expected values come from organization.yaml, not from the
code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.lake_formation import GrantError, project_grants
from mlops_core.config import DataAccess, ModelProject, OrganizationConfig
from mlops_platform.harness import ResourceRecord, StackPlan, plan_stack

PERMISSIONS = "aws:lakeformation/permissions:Permissions"
CELLS_FILTER = "aws:lakeformation/dataCellsFilter:DataCellsFilter"


def project_role_arns(org: OrganizationConfig) -> dict[str, str]:
    """Project role ARN -> project, spelled out from the documented convention."""
    return {f"arn:aws:iam::{org.accounts.exp}:role/{org.platform_name}-project-{p.name}": p.name for p in org.model_projects}


def database_to_data_set(org: OrganizationConfig) -> dict[str, str]:
    return {f"{org.platform_name}_{d.name}": d.name for d in org.data_sets}


def granted_database(record: ResourceRecord) -> str | None:
    inputs = record.inputs
    for key, field in (("database", "name"), ("table", "databaseName"), ("tableWithColumns", "databaseName"), ("dataCellsFilter", "databaseName")):
        if isinstance(inputs.get(key), dict):
            return inputs[key][field]
    return None


def filters_by_name(plan: StackPlan) -> dict[str, ResourceRecord]:
    return {r.inputs["tableData"]["name"]: r for r in plan.of_type(CELLS_FILTER)}


def project_permissions(plan: StackPlan, org: OrganizationConfig) -> list[tuple[str, ResourceRecord]]:
    roles = project_role_arns(org)
    return [(roles[r.inputs["principal"]], r) for r in plan.of_type(PERMISSIONS) if r.inputs["principal"] in roles]


def granted_columns(plan: StackPlan, record: ResourceRecord) -> list[str] | None:
    """Columns a SELECT grant exposes; None for a grant without a column list (a whole table)."""
    if "tableWithColumns" in record.inputs:
        return list(record.inputs["tableWithColumns"].get("columnNames") or [])
    if "dataCellsFilter" in record.inputs:
        cells = filters_by_name(plan)[record.inputs["dataCellsFilter"]["name"]]
        return list(cells.inputs["tableData"].get("columnNames") or [])
    return None


def expected_columns(org: OrganizationConfig, access: DataAccess) -> list[str]:
    data_set = next(d for d in org.data_sets if d.name == access.data_set)
    return [c.name for c in data_set.columns if not c.pii and (access.columns is None or c.name in access.columns)]


# ---- over the committed configuration ----------------------------------------------------------


def test_every_configured_project_has_grants_in_the_plan(data_plan, org) -> None:
    granted = {project for project, _ in project_permissions(data_plan, org)}
    for project in org.model_projects:
        if project.data_access:
            assert project.name in granted, f"project {project.name} has dataAccess but no Lake Formation grant in the data stack"


def test_no_grant_includes_a_pii_column(data_plan, org) -> None:
    pii = {(f"{org.platform_name}_{d.name}", c.name) for d in org.data_sets for c in d.columns if c.pii}
    for project, record in project_permissions(data_plan, org):
        for column in granted_columns(data_plan, record) or []:
            assert (granted_database(record), column) not in pii, (
                f"{record.urn}: grants pii column {column} to project {project}"
            )


def test_no_project_is_granted_a_data_set_it_was_not_given(data_plan, org) -> None:
    databases = database_to_data_set(org)
    for project, record in project_permissions(data_plan, org):
        given = {access.data_set for access in org.project(project).data_access}
        data_set = databases.get(granted_database(record))
        assert data_set in given, f"{record.urn}: project {project} granted {granted_database(record)}, given {sorted(given)}"


def test_select_grants_name_exactly_the_permitted_columns(data_plan, org) -> None:
    for project in org.model_projects:
        for access in project.data_access:
            selects = [
                r for p, r in project_permissions(data_plan, org)
                if p == project.name and "SELECT" in r.inputs["permissions"] and databases_match(org, r, access.data_set)
            ]
            assert len(selects) == 1, f"project {project.name}: {len(selects)} SELECT grants on {access.data_set}"
            assert granted_columns(data_plan, selects[0]) == expected_columns(org, access), (
                f"{selects[0].urn}: columns differ from the configured non-pii columns"
            )


def databases_match(org: OrganizationConfig, record: ResourceRecord, data_set: str) -> bool:
    return granted_database(record) == f"{org.platform_name}_{data_set}"


def test_every_select_grant_names_columns(data_plan, org) -> None:
    """A table-wide SELECT (no column list, no filter) would expose every curated column."""
    for project, record in project_permissions(data_plan, org):
        if "SELECT" in record.inputs["permissions"]:
            assert granted_columns(data_plan, record), f"{record.urn}: SELECT without a column list or data cells filter"


def test_grants_are_only_on_curated_tables(data_plan, org) -> None:
    for project, record in project_permissions(data_plan, org):
        for key in ("table", "tableWithColumns", "dataCellsFilter"):
            if key in record.inputs:
                table = record.inputs[key].get("name") if key != "dataCellsFilter" else record.inputs[key]["tableName"]
                assert table.endswith("_curated"), f"{record.urn}: project {project} granted table {table}"


def test_row_filtered_projects_read_through_their_filter(data_plan, org) -> None:
    filters = {f.inputs["tableData"]["rowFilter"]["filterExpression"]: f for f in data_plan.of_type(CELLS_FILTER)}
    for project in org.model_projects:
        for access in project.data_access:
            if not access.row_filter:
                continue
            assert access.row_filter in filters, f"project {project.name}: no data cells filter with {access.row_filter!r}"
            name = filters[access.row_filter].inputs["tableData"]["name"]
            selects = [r for p, r in project_permissions(data_plan, org) if p == project.name and "SELECT" in r.inputs["permissions"]]
            assert all(r.inputs.get("dataCellsFilter", {}).get("name") == name for r in selects), (
                f"project {project.name}: a SELECT bypasses the row filter {name}"
            )


def test_project_grants_carry_no_grant_option(data_plan, org) -> None:
    for project, record in project_permissions(data_plan, org):
        assert not record.inputs.get("permissionsWithGrantOptions"), f"{record.urn}: grant option for project {project}"


def test_grants_go_to_project_roles_not_to_the_exp_account(data_plan, org) -> None:
    for record in data_plan.of_type(PERMISSIONS):
        assert record.inputs["principal"] != org.accounts.exp, f"{record.urn}: granted to the whole EXP account"


def member_role_arns(org: OrganizationConfig) -> dict[str, str]:
    """Studio execution role ARN -> data scientist, spelled out from the documented convention."""
    return {f"arn:aws:iam::{org.accounts.exp}:role/{org.platform_name}-user-{d.name}": d.name for d in org.data_scientists}


def test_each_member_selects_exactly_what_their_projects_select(data_plan, org) -> None:
    """Members query from notebooks what the pipeline reads: per data set, their SELECT grants expose
    the union of their projects' columns (through the same filter where the project has one)."""
    members = member_role_arns(org)
    for scientist in org.data_scientists:
        arn = next(a for a, n in members.items() if n == scientist.name)
        granted = sorted(
            (granted_database(r), tuple(granted_columns(data_plan, r) or ()), r.inputs.get("dataCellsFilter", {}).get("name"))
            for r in data_plan.of_type(PERMISSIONS) if r.inputs["principal"] == arn and "SELECT" in r.inputs["permissions"]
        )
        roles = project_role_arns(org)
        expected = sorted(
            (granted_database(r), tuple(granted_columns(data_plan, r) or ()), r.inputs.get("dataCellsFilter", {}).get("name"))
            for r in data_plan.of_type(PERMISSIONS)
            if roles.get(r.inputs["principal"]) in scientist.projects and "SELECT" in r.inputs["permissions"]
        )
        assert granted == expected, f"{scientist.name}: SELECT grants {granted}, their projects' grants {expected}"


def test_only_project_roles_and_members_are_granted(data_plan, org) -> None:
    allowed = set(project_role_arns(org)) | set(member_role_arns(org))
    exp_principals = {r.inputs["principal"] for r in data_plan.of_type(PERMISSIONS) if f":{org.accounts.exp}:" in r.inputs["principal"]}
    assert exp_principals <= allowed, f"grants to EXP principals that are neither project roles nor members: {sorted(exp_principals - allowed)}"


def test_each_project_may_describe_its_databases(data_plan, org) -> None:
    for project in org.model_projects:
        for access in project.data_access:
            describes = [
                r for p, r in project_permissions(data_plan, org)
                if p == project.name and r.inputs["permissions"] == ["DESCRIBE"] and "database" in r.inputs
            ]
            assert any(databases_match(org, r, access.data_set) for r in describes), (
                f"project {project.name}: no DESCRIBE on the database of {access.data_set}"
            )


# ---- other configurations -----------------------------------------------------------------------


def _edit_org(root: Path, edit) -> None:
    path = root / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    edit(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_columns_null_grants_every_non_pii_column(repo_copy: Path) -> None:
    def all_columns(raw):
        raw["modelProjects"][0]["dataAccess"][0]["columns"] = None

    _edit_org(repo_copy, all_columns)
    from mlops_core.config import load_organization

    org = load_organization(repo_copy)
    plan = plan_stack("data", root=repo_copy)
    project = org.model_projects[0]
    (select,) = [r for p, r in project_permissions(plan, org) if p == project.name and "SELECT" in r.inputs["permissions"]]
    data_set = org.data_sets[0]
    assert granted_columns(plan, select) == [c.name for c in data_set.columns if not c.pii], f"{select.urn}"


def test_a_project_without_data_access_gets_no_grant(repo_copy: Path) -> None:
    def drop_access(raw):
        raw["modelProjects"][1]["dataAccess"] = []

    _edit_org(repo_copy, drop_access)
    from mlops_core.config import load_organization

    org = load_organization(repo_copy)
    plan = plan_stack("data", root=repo_copy)
    loner = org.model_projects[1].name
    assert [r.urn for p, r in project_permissions(plan, org) if p == loner] == [], f"{loner} still has grants"


def test_pseudonymised_columns_are_never_grantable(org) -> None:
    data_set = org.data_sets[0]
    pseudonymised = [c.name for c in data_set.columns if c.treatment == "pseudonymise"]
    assert pseudonymised, "the example config should pseudonymise a column"
    project = ModelProject(name="probe-project", data_access=[DataAccess(data_set=data_set.name, columns=pseudonymised)])
    with pytest.raises(GrantError) as caught:
        project_grants(org, project)
    assert pseudonymised[0] in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_columns_are_refused_in_one_line(org) -> None:
    project = ModelProject(name="probe-project", data_access=[DataAccess(data_set=org.data_sets[0].name, columns=["no_such"])])
    with pytest.raises(GrantError, match="no_such"):
        project_grants(org, project)


def test_a_data_set_given_twice_to_one_project_is_refused(org) -> None:
    name = org.data_sets[0].name
    project = ModelProject(name="probe-project", data_access=[DataAccess(data_set=name), DataAccess(data_set=name)])
    with pytest.raises(GrantError, match="twice"):
        project_grants(org, project)


def test_an_ungrantable_config_stops_the_data_program_in_one_line(repo_copy: Path) -> None:
    from mlops_platform.harness import PlanError

    def duplicate(raw):
        raw["modelProjects"][0]["dataAccess"].append(dict(raw["modelProjects"][0]["dataAccess"][0]))

    _edit_org(repo_copy, duplicate)
    with pytest.raises(PlanError) as caught:
        plan_stack("data", root=repo_copy)
    assert "twice" in str(caught.value) and "\n" not in str(caught.value), str(caught.value)
