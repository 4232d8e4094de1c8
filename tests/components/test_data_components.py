"""The DATA account's components with inputs the committed lake never uses: another region, a data set
without sample data, a PII-only column set, a project with a row filter, no registered buckets."""

from __future__ import annotations

from pathlib import Path

import pytest

from component_helpers import (
    ACCOUNT, ANYWHERE, KEY_ARN, PEER_ACCOUNT, PREFIX_LIST_ID, REGION, SUBNET_IDS, VPC_CIDR, VPC_ID, as_list, document, only, statement,
)
from components.curated_dataset import CuratedDataset, CuratedDatasetArgs
from components.data_lake import DataLake, DataLakeArgs
from components.encryption import KeyUser
from components.etl_package import EtlCode, EtlCodeArgs
from components.lake_formation import (
    LakeFormationSettings,
    LakeFormationSettingsArgs,
    ProjectDataGrants,
    ProjectDataGrantsArgs,
    ProjectGrant,
)
from mlops_core.config import DataSet
from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import DeclarationPlan, plan_declaration

DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-deploy"
ETL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-etl"
PROJECT_ROLE = f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-project-pump-pm"
PUMPS = DataSet.model_validate(
    {
        "name": "pump_readings",
        "location": "pumps/",
        "curationSchedule": "cron(30 1 * * ? *)",
        "columns": [
            {"name": "pump_id", "type": "string"},
            {"name": "pressure_bar", "type": "double"},
            {"name": "technician", "type": "string", "pii": True, "treatment": "drop"},
            {"name": "badge_id", "type": "int", "pii": True, "treatment": "pseudonymise"},
        ],
    }
)


# ---- DataLake ----------------------------------------------------------------------------------


def lake_plan(bucket_names: dict[str, str] | None = None) -> DeclarationPlan:
    def declare():
        DataLake(
            "lake",
            DataLakeArgs(
                account_id=ACCOUNT, region=REGION, name_prefix="acme", key_alias="alias/acme-data",
                bucket_names=bucket_names or {"raw": "acme-raw", "curated": "acme-curated", "etl": "acme-etl"},
                access_log_bucket="acme-access-logs", deploy_role_arn=DEPLOY_ROLE, registration_role_name="acme-lf-registration",
                etl_role_name="acme-etl", database_names=["acme_pump_readings"], hmac_secret_name="acme/hmac",
                vpc_id=VPC_ID, vpc_cidr=VPC_CIDR, subnet_ids=SUBNET_IDS, s3_prefix_list_id=PREFIX_LIST_ID,
                catalog_readers=[KeyUser(PEER_ACCOUNT, [PROJECT_ROLE], via_services=[f"glue.{REGION}.amazonaws.com"])],
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def lake() -> DeclarationPlan:
    return lake_plan()


def test_lake_needs_all_three_zones() -> None:
    with pytest.raises(ValueError, match="lacks etl"):
        lake_plan({"raw": "acme-raw", "curated": "acme-curated"})


def test_lake_buckets_are_protected(lake) -> None:
    unprotected = [b.inputs["bucket"] for b in lake.of_type("aws:s3/bucket:Bucket") if not b.protect]
    assert not unprotected, f"lake buckets {unprotected} hold data and must be protected"


def test_lake_buckets_use_the_data_key(lake) -> None:
    configs = lake.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    key_urn = lake.named("lake-key-key").urn
    plain = [c.name for c in configs if key_urn not in c.property_dependencies.get("rules", [])]
    assert len(configs) == 3 and not plain, f"lake buckets {plain} must be SSE-KMS with the data key"


def test_data_key_lets_regional_logs_encrypt_glue_logs_only(lake) -> None:
    service = statement(document(lake.named("lake-key-key")), "Service0")
    assert (service["Principal"], service["Condition"]["ArnLike"]) == (
        {"Service": f"logs.{REGION}.amazonaws.com"},
        {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws-glue/*"},
    ), service


def test_catalog_readers_may_use_the_data_key_only_through_glue(lake) -> None:
    reader = statement(document(lake.named("lake-key-key")), f"KeyUse1Account{PEER_ACCOUNT}")
    assert reader["Condition"]["StringEquals"] == {"kms:ViaService": [f"glue.{REGION}.amazonaws.com"]}, reader


def test_glue_security_group_admits_only_itself(lake) -> None:
    ingress = lake.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    group_urn = only(lake, "aws:ec2/securityGroup:SecurityGroup").urn
    foreign = [r.name for r in ingress if group_urn not in r.property_dependencies.get("referencedSecurityGroupId", [])]
    assert ingress and not foreign, f"Glue group: ingress only from itself, not {foreign}"


def test_glue_security_group_egress_stays_in_the_vpc(lake) -> None:
    cidrs = {r.inputs.get("cidrIpv4") for r in lake.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")} - {None}
    assert cidrs == {VPC_CIDR} and not cidrs & ANYWHERE, f"Glue group: egress to {VPC_CIDR} (endpoints) only, got {cidrs}"


def test_glue_s3_egress_goes_through_the_gateway(lake) -> None:
    lists = {r.inputs.get("prefixListId") for r in lake.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")} - {None}
    assert lists == {PREFIX_LIST_ID}, f"Glue group: S3 through the gateway prefix list, got {lists}"


def test_glue_connection_uses_the_first_subnet(lake) -> None:
    requirements = only(lake, "aws:glue/connection:Connection").inputs["physicalConnectionRequirements"]
    assert requirements["subnetId"] == SUBNET_IDS[0], f"Glue connection: first private subnet, got {requirements}"


def test_glue_connection_az_is_in_the_region(lake) -> None:
    requirements = only(lake, "aws:glue/connection:Connection").inputs["physicalConnectionRequirements"]
    assert requirements["availabilityZone"].startswith(REGION), f"Glue connection: an AZ of {REGION}, got {requirements}"


def test_catalog_is_encrypted(lake) -> None:
    settings = only(lake, "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings").inputs["dataCatalogEncryptionSettings"]
    assert settings["encryptionAtRest"]["catalogEncryptionMode"] == "SSE-KMS", f"Glue catalog: SSE-KMS (Glue.3), got {settings}"


def test_glue_security_configuration_encrypts_everything(lake) -> None:
    config = only(lake, "aws:glue/securityConfiguration:SecurityConfiguration").inputs["encryptionConfiguration"]
    modes = [config["s3Encryption"]["s3EncryptionMode"], config["cloudwatchEncryption"]["cloudwatchEncryptionMode"],
             config["jobBookmarksEncryption"]["jobBookmarksEncryptionMode"]]
    assert modes == ["SSE-KMS", "SSE-KMS", "CSE-KMS"], f"Glue security configuration: S3, logs and bookmarks encrypted, got {modes}"


def test_hmac_secret_is_protected_and_encrypted(lake) -> None:
    secret = only(lake, "aws:secretsmanager/secret:Secret")
    assert secret.protect and secret.property_dependencies.get("kmsKeyId"), f"{secret.name}: protected and under the data key"


def test_etl_role_names_only_regional_resources(lake) -> None:
    policy = document(lake.named("lake-etl-access"))
    regional = [r for s in policy["Statement"] for r in as_list(s["Resource"]) if r.startswith(("arn:aws:glue:", "arn:aws:logs:", "arn:aws:ec2:"))]
    other = [r for r in regional if r.split(":")[3] != REGION]
    assert regional and not other, f"acme-etl: resources outside {REGION}: {other}"


# ---- CuratedDataset ---------------------------------------------------------------------------


def dataset_plan(data_set: DataSet = PUMPS) -> DeclarationPlan:
    def declare():
        CuratedDataset(
            "pumps",
            CuratedDatasetArgs(
                data_set=data_set, account_id=ACCOUNT, database_name="acme_pump_readings", raw_table_name="pump_readings_raw",
                curated_table_name="pump_readings_curated", job_name="acme-curate-pump-readings", raw_bucket="acme-raw",
                curated_bucket="acme-curated", etl_bucket="acme-etl", kms_key_arn=KEY_ARN, etl_role_arn=ETL_ROLE,
                security_configuration="acme-data", connection_name="acme-data-vpc", hmac_secret_arn="arn:aws:secretsmanager:x",
                script_location="s3://acme-etl/glue/curate.py", extra_py_files="s3://acme-etl/glue/mlops_etl.zip", repo_root=REPO_ROOT,
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def dataset() -> DeclarationPlan:
    return dataset_plan()


def table(plan: DeclarationPlan, name: str):
    (record,) = [t for t in plan.of_type("aws:glue/catalogTable:CatalogTable") if t.inputs["name"] == name]
    return record


def test_data_set_without_sample_uploads_nothing(dataset) -> None:
    assert not dataset.of_type("aws:s3/bucketObjectv2:BucketObjectv2"), "pump_readings has no sampleData: nothing to upload"


def test_data_set_with_a_missing_sample_is_rejected() -> None:
    broken = PUMPS.model_copy(update={"sample_data": "etl/sample/no_such_file.csv"})
    with pytest.raises(ValueError, match="no_such_file.csv does not exist"):
        dataset_plan(broken)


def test_sample_is_uploaded_encrypted_to_the_raw_location() -> None:
    sample = dataset_plan(PUMPS.model_copy(update={"sample_data": "etl/sample/welding_sensors_raw.csv"}))
    upload = only(sample, "aws:s3/bucketObjectv2:BucketObjectv2")
    assert (upload.inputs["key"], upload.inputs["serverSideEncryption"]) == ("pumps/welding_sensors_raw.csv", "aws:kms"), upload.inputs


def test_database_grants_nothing_to_iam_principals_by_default(dataset) -> None:
    database = only(dataset, "aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["createTableDefaultPermissions"] == [], f"{database.name}: no IAMAllowedPrincipals default"


def test_raw_table_marks_pii_columns(dataset) -> None:
    columns = table(dataset, "pump_readings_raw").inputs["storageDescriptor"]["columns"]
    marked = sorted(c["name"] for c in columns if c.get("comment") == "PII")
    assert marked == ["badge_id", "technician"], f"pump_readings_raw: PII columns are marked, got {marked}"


def test_curated_table_drops_dropped_pii(dataset) -> None:
    names = [c["name"] for c in table(dataset, "pump_readings_curated").inputs["storageDescriptor"]["columns"]]
    assert "technician" not in names, f"pump_readings_curated: technician (treatment drop) must be absent, got {names}"


def test_curated_table_types_pseudonyms_as_strings(dataset) -> None:
    columns = {c["name"]: c["type"] for c in table(dataset, "pump_readings_curated").inputs["storageDescriptor"]["columns"]}
    assert columns["badge_id"] == "string", f"pump_readings_curated: the int badge_id becomes an HMAC string, got {columns}"


def test_curation_job_runs_in_the_vpc_with_the_security_configuration(dataset) -> None:
    job = only(dataset, "aws:glue/job:Job")
    assert (job.inputs["connections"], job.inputs["securityConfiguration"]) == (["acme-data-vpc"], "acme-data"), job.inputs


def test_curation_job_runs_one_at_a_time(dataset) -> None:
    job = only(dataset, "aws:glue/job:Job")
    assert job.inputs["executionProperty"] == {"maxConcurrentRuns": 1}, f"{job.name}: one run rewrites the table at a time"


def test_scheduled_trigger_uses_the_curation_schedule(dataset) -> None:
    (scheduled,) = [t for t in dataset.of_type("aws:glue/trigger:Trigger") if t.inputs["type"] == "SCHEDULED"]
    assert scheduled.inputs["schedule"] == "cron(30 1 * * ? *)", f"{scheduled.name}: the data set's curationSchedule"


def test_etl_may_only_describe_the_curated_table(dataset) -> None:
    grants = {p.inputs["table"]["name"]: sorted(p.inputs["permissions"]) for p in dataset.of_type("aws:lakeformation/permissions:Permissions")}
    assert grants == {"pump_readings_raw": ["DESCRIBE", "SELECT"], "pump_readings_curated": ["DESCRIBE"]}, grants


# ---- EtlCode ------------------------------------------------------------------------------------


def etl_code_plan(package_dir: Path, script: Path) -> DeclarationPlan:
    def declare():
        code = EtlCode("etl-code", EtlCodeArgs(bucket="acme-etl", kms_key_arn=KEY_ARN, script_path=script, package_dir=package_dir))
        return {"script": code.script_location, "package": code.extra_py_files}

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture
def package(tmp_path: Path) -> tuple[Path, Path]:
    package_dir = tmp_path / "helpers"
    package_dir.mkdir()
    (package_dir / "__init__.py").write_text("VALUE = 1\n")
    script = tmp_path / "job.py"
    script.write_text("print('job')\n")
    return package_dir, script


def test_etl_objects_are_kms_encrypted(package) -> None:
    plan = etl_code_plan(*package)
    plain = [o.name for o in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.inputs.get("kmsKeyId") != KEY_ARN]
    assert not plain, f"ETL objects {plain} must be SSE-KMS with the bucket's key"


def test_changed_package_gets_a_new_key(package) -> None:
    package_dir, script = package
    before = etl_code_plan(package_dir, script).outputs
    (package_dir / "__init__.py").write_text("VALUE = 2\n")
    after = etl_code_plan(package_dir, script).outputs
    assert (after["package"] != before["package"], after["script"] == before["script"]) == (True, True), (
        f"EtlCode: a changed module changes only the zip's key: {before} -> {after}"
    )


def test_directory_without_init_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir()
    script = tmp_path / "job.py"
    script.write_text("")
    with pytest.raises(ValueError, match="not a Python package"):
        etl_code_plan(tmp_path / "loose", script)


# ---- LakeFormationSettings ------------------------------------------------------------------------


def settings_plan(**overrides) -> DeclarationPlan:
    args = dict(account_id=ACCOUNT, admins=[DEPLOY_ROLE], deploy_role_arn=DEPLOY_ROLE)
    args.update(overrides)

    def declare():
        LakeFormationSettings("lf", LakeFormationSettingsArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def registered() -> DeclarationPlan:
    return settings_plan(
        registered_bucket_arns={"raw": "arn:aws:s3:::acme-raw", "curated": "arn:aws:s3:::acme-curated"},
        registration_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-lf-registration",
        table_creator_arns=[ETL_ROLE, DEPLOY_ROLE],
    )


def test_admins_must_include_the_deploy_role() -> None:
    with pytest.raises(ValueError, match="must include the deploy role"):
        settings_plan(admins=[ETL_ROLE])


def test_registered_buckets_need_a_registration_role() -> None:
    with pytest.raises(ValueError, match="need registration_role_arn"):
        settings_plan(registered_bucket_arns={"raw": "arn:aws:s3:::acme-raw"})


def test_no_registered_buckets_declares_no_location() -> None:
    assert not settings_plan().of_type("aws:lakeformation/resource:Resource"), "LakeFormationSettings: no buckets, no registrations"


def test_iam_allowed_principals_defaults_are_removed() -> None:
    settings = only(settings_plan(), "aws:lakeformation/dataLakeSettings:DataLakeSettings")
    defaults = (settings.inputs["createDatabaseDefaultPermissions"], settings.inputs["createTableDefaultPermissions"])
    assert defaults == ([], []), f"{settings.name}: no IAMAllowedPrincipals defaults for new databases and tables"


def test_locations_are_registered_with_the_registration_role(registered) -> None:
    linked = [r for r in registered.of_type("aws:lakeformation/resource:Resource") if r.inputs.get("useServiceLinkedRole") is not False]
    assert len(registered.of_type("aws:lakeformation/resource:Resource")) == 2 and not linked, (
        f"registrations {[r.name for r in linked]} must use the registration role, not the service-linked role"
    )


def test_each_table_creator_gets_location_access_per_zone(registered) -> None:
    access = [(p.inputs["principal"], p.inputs["dataLocation"]["arn"]) for p in registered.of_type("aws:lakeformation/permissions:Permissions")]
    expected = [(c, b) for b in ("arn:aws:s3:::acme-curated", "arn:aws:s3:::acme-raw") for c in sorted([ETL_ROLE, DEPLOY_ROLE])]
    assert sorted(access) == sorted(expected), f"DATA_LOCATION_ACCESS: every creator on every registered zone, got {access}"


# ---- ProjectDataGrants ----------------------------------------------------------------------------


def grants_plan(row_filter: str | None) -> DeclarationPlan:
    grant = ProjectGrant(
        project="pump-pm", principal_arn=PROJECT_ROLE, data_set="pump_readings", database="acme_pump_readings",
        table="pump_readings_curated", columns=("pump_id", "pressure_bar"), row_filter=row_filter,
        filter_name="pump_pm_pump_readings" if row_filter else None,
    )

    def declare():
        ProjectDataGrants("grants", ProjectDataGrantsArgs(account_id=ACCOUNT, grants=[grant]))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def filtered() -> DeclarationPlan:
    return grants_plan("plant = 'kassel'")


@pytest.fixture(scope="module")
def unfiltered() -> DeclarationPlan:
    return grants_plan(None)


def permission(plan: DeclarationPlan, key: str):
    (record,) = [p for p in plan.of_type("aws:lakeformation/permissions:Permissions") if key in p.inputs]
    return record


def test_row_filter_becomes_a_data_cells_filter(filtered) -> None:
    table_data = only(filtered, "aws:lakeformation/dataCellsFilter:DataCellsFilter").inputs["tableData"]
    assert (table_data["rowFilter"], table_data["columnNames"]) == ({"filterExpression": "plant = 'kassel'"}, ["pump_id", "pressure_bar"]), table_data


def test_row_filtered_select_goes_through_the_filter(filtered) -> None:
    select = permission(filtered, "dataCellsFilter")
    assert (select.inputs["permissions"], select.inputs["dataCellsFilter"]["name"]) == (["SELECT"], "pump_pm_pump_readings"), select.inputs


def test_row_filtered_project_gets_no_plain_column_select(filtered) -> None:
    assert not [p for p in filtered.of_type("aws:lakeformation/permissions:Permissions") if "tableWithColumns" in p.inputs], (
        "a row-filtered project must not also get an unfiltered column grant"
    )


def test_unfiltered_select_names_exactly_the_granted_columns(unfiltered) -> None:
    select = permission(unfiltered, "tableWithColumns")
    assert select.inputs["tableWithColumns"]["columnNames"] == ["pump_id", "pressure_bar"], select.inputs


def test_grants_go_to_the_project_role(unfiltered) -> None:
    principals = {p.inputs["principal"] for p in unfiltered.of_type("aws:lakeformation/permissions:Permissions")}
    assert principals == {PROJECT_ROLE}, f"grants go to the project role in EXP, never to the account: {principals}"


def test_database_grant_is_describe_only(unfiltered) -> None:
    describe = permission(unfiltered, "database")
    assert describe.inputs["permissions"] == ["DESCRIBE"], f"{describe.name}: DESCRIBE on the database only"
