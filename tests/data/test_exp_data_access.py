"""`plan --stack exp`: resource links, their DESCRIBE grants, EXP's Lake Formation settings, the workgroup."""

from __future__ import annotations

from pathlib import Path

import yaml

from data_policy_lint import lint_findings
from mlops_core.config import OrganizationConfig
from mlops_platform.harness import StackPlan, default_stacks, plan_stack

EXP = "222222222222"
LINK = "aws:glue/catalogDatabase:CatalogDatabase"
PERMISSIONS = "aws:lakeformation/permissions:Permissions"
WORKGROUP = "aws:athena/workgroup:Workgroup"


def links(plan: StackPlan) -> dict[str, dict]:
    """Link name -> inputs, for databases that point at another catalog."""
    return {r.inputs["name"]: r.inputs for r in plan.of_type(LINK) if "targetDatabase" in r.inputs}


def given_projects(org: OrganizationConfig, data_set: str) -> set[str]:
    return {p.name for p in org.model_projects if any(a.data_set == data_set for a in p.data_access)}


def test_one_resource_link_per_shared_data_set(exp_plan, org) -> None:
    shared = {a.data_set for p in org.model_projects for a in p.data_access}
    found = links(exp_plan)
    for data_set in shared:
        link = found.get(f"mlops_{data_set}_shared")
        assert link is not None, f"no resource link for {data_set} in exp ({sorted(found)})"
        assert link["targetDatabase"] == {
            "catalogId": org.accounts.data, "databaseName": f"mlops_{data_set}", "region": org.region
        }, f"link for {data_set} points at {link['targetDatabase']}"


def test_link_describe_only_for_the_projects_given_the_data_set_and_their_members(exp_plan, org) -> None:
    for data_set in {a.data_set for p in org.model_projects for a in p.data_access}:
        link_name = f"mlops_{data_set}_shared"
        grants = [r for r in exp_plan.of_type(PERMISSIONS) if r.inputs.get("database", {}).get("name") == link_name]
        principals = {r.inputs["principal"] for r in grants}
        given = given_projects(org, data_set)
        expected = {f"arn:aws:iam::{EXP}:role/mlops-project-{p}" for p in given}
        expected |= {f"arn:aws:iam::{EXP}:role/mlops-user-{d.name}" for d in org.data_scientists if set(d.projects) & given}
        assert principals == expected, f"DESCRIBE on {link_name}: {sorted(principals)}, expected {sorted(expected)}"
        assert all(r.inputs["permissions"] == ["DESCRIBE"] for r in grants), f"{link_name}: more than DESCRIBE"


def test_exp_lake_formation_settings(exp_plan) -> None:
    (settings,) = exp_plan.of_type("aws:lakeformation/dataLakeSettings:DataLakeSettings")
    assert settings.inputs["admins"] == [f"arn:aws:iam::{EXP}:role/mlops-deploy"], settings.urn
    assert settings.inputs["parameters"]["CROSS_ACCOUNT_VERSION"] in ("3", "4"), settings.urn
    assert settings.inputs["createDatabaseDefaultPermissions"] == [] == settings.inputs["createTableDefaultPermissions"]


def workgroups(plan: StackPlan) -> dict[str, object]:
    return {r.inputs["name"]: r for r in plan.of_type(WORKGROUP)}


def test_one_workgroup_per_project_with_data_access(exp_plan, org) -> None:
    expected = {f"mlops-data-{p.name}" for p in org.model_projects if p.data_access}
    assert set(workgroups(exp_plan)) == expected, f"workgroups {sorted(workgroups(exp_plan))}, expected {sorted(expected)}"


def test_workgroups_enforce_kms_encrypted_results(exp_plan) -> None:
    for workgroup in exp_plan.of_type(WORKGROUP):
        configuration = workgroup.inputs["configuration"]
        assert configuration["enforceWorkgroupConfiguration"] is True, f"{workgroup.urn}: clients may override results settings"
        encryption = configuration["resultConfiguration"]["encryptionConfiguration"]
        assert encryption["encryptionOption"] == "SSE_KMS", workgroup.urn
        assert encryption["kmsKeyArn"].startswith(f"arn:aws:kms:eu-central-1:{EXP}:key/"), workgroup.urn


def test_workgroup_results_go_to_the_project_prefix_of_a_secure_bucket(exp_plan) -> None:
    for workgroup in exp_plan.of_type(WORKGROUP):
        project = workgroup.inputs["name"].removeprefix("mlops-data-")
        location = workgroup.inputs["configuration"]["resultConfiguration"]["outputLocation"]
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        assert prefix == f"{project}/", f"{workgroup.urn}: results under {prefix!r}, not the project's prefix"
        owners = [r for r in exp_plan.of_type("aws:s3/bucket:Bucket") if r.inputs["bucket"] == bucket]
        assert owners, f"{workgroup.urn}: results bucket {bucket} is not declared in exp"
        assert "mlops:storage:SecureBucket" in (owners[0].parent or ""), f"{owners[0].urn}: not a SecureBucket"


def test_workgroups_limit_scanned_bytes(exp_plan) -> None:
    for workgroup in exp_plan.of_type(WORKGROUP):
        assert workgroup.inputs["configuration"].get("bytesScannedCutoffPerQuery"), f"{workgroup.urn}: no scan limit"


def test_query_policy_keeps_each_project_to_its_own_workgroup_and_results(org, exp_data_access) -> None:
    bucket = "arn:aws:s3:::mlops-athena-results-222222222222-eu-central-1"
    for project in [p for p in org.model_projects if p.data_access]:
        workgroup = f"arn:aws:athena:eu-central-1:{EXP}:workgroup/mlops-data-{project.name}"
        policy = exp_data_access.project_query_policy(org, project.name, workgroup, bucket, f"arn:aws:kms:eu-central-1:{EXP}:key/k")
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        assert by_sid["QueryInOwnWorkgroup"]["Resource"] == [workgroup], project.name
        assert by_sid["ReadWriteOwnResults"]["Resource"] == [f"{bucket}/{project.name}/*"], project.name
        assert by_sid["ListOwnResults"]["Condition"]["StringLike"]["s3:prefix"] == [f"{project.name}/*"], project.name


def test_query_policy_reads_only_the_given_data_sets(org, exp_data_access) -> None:
    for project in [p for p in org.model_projects if p.data_access]:
        policy = exp_data_access.project_query_policy(org, project.name, "wg", "arn:aws:s3:::b", "k")
        (catalog,) = [s for s in policy["Statement"] if s["Sid"] == "ReadSharedCatalog"]
        databases = {r.split(":database/")[1] for r in catalog["Resource"] if ":database/" in r}
        given = {a.data_set for a in project.data_access}
        assert databases == {f"mlops_{d}" for d in given} | {f"mlops_{d}_shared" for d in given}, f"{project.name}: {databases}"


def test_query_policy_lints_clean(org, exp_data_access) -> None:
    project = next(p for p in org.model_projects if p.data_access)
    policy = exp_data_access.project_query_policy(
        org, project.name, f"arn:aws:athena:eu-central-1:{EXP}:workgroup/mlops-data-{project.name}",
        "arn:aws:s3:::mlops-athena-results-222222222222-eu-central-1", f"arn:aws:kms:eu-central-1:{EXP}:key/k",
    )
    assert lint_findings(policy) == [], "project query policy"


def test_exp_declares_no_data_access_without_a_data_account(repo_copy: Path) -> None:
    path = repo_copy / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    del raw["accounts"]["data"]
    raw["dataSets"] = []
    for project in raw["modelProjects"]:
        project["dataAccess"] = []
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert "data" not in default_stacks(repo_copy), "the data stack must be skipped without a data account"
    plan = plan_stack("exp", root=repo_copy)
    leftovers = [
        r.urn for r in plan.resources
        if r.type.startswith(("aws:lakeformation", "aws:athena")) or r.type == LINK or r.name.startswith("exp-data-access-")
    ]
    assert leftovers == [], f"exp declares data access without a DATA account: {leftovers}"


def test_exp_links_and_data_grants_name_the_same_projects(data_plan, exp_plan, org) -> None:
    """Every database a project role may DESCRIBE in DATA is linked in EXP for exactly that role."""
    data_readers: dict[str, set[str]] = {}
    for record in data_plan.of_type(PERMISSIONS):
        database = record.inputs.get("database", {}).get("name")
        if database and record.inputs["principal"].startswith(f"arn:aws:iam::{EXP}:"):
            data_readers.setdefault(database, set()).add(record.inputs["principal"])
    exp_readers: dict[str, set[str]] = {}
    for name, link in links(exp_plan).items():
        grants = [r for r in exp_plan.of_type(PERMISSIONS) if r.inputs.get("database", {}).get("name") == name]
        exp_readers[link["targetDatabase"]["databaseName"]] = {r.inputs["principal"] for r in grants}
    assert exp_readers == data_readers, f"EXP links {exp_readers} differ from DATA grants {data_readers}"
