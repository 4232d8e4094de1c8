"""`plan --stack data` declares the governed lake: keys, buckets, Glue, ETL job, Lake Formation.

One property per test, on the inputs the engine would receive; messages name the resource.
"""

from __future__ import annotations

import fnmatch

import base64
import io
import json
import os
import subprocess
import sys
import zipfile

from mlops_core.config import OrganizationConfig
from mlops_platform.harness import ResourceRecord, StackPlan

ACCOUNT = "111111111111"


def doc(value):
    """An IAM/KMS document input (dict or JSON string) as a dict."""
    return json.loads(value) if isinstance(value, str) else value


def one(plan: StackPlan, type_token: str, name: str) -> ResourceRecord:
    record = plan.named(name)
    assert record.type == type_token, f"{record.urn} is {record.type}, expected {type_token}"
    return record


def data_key(plan: StackPlan) -> ResourceRecord:
    return one(plan, "aws:kms/key:Key", "data-lake-key-key")


def key_statements_for(plan: StackPlan, principal_arn: str) -> list[dict]:
    policy = doc(data_key(plan).inputs["policy"])
    return [
        s for s in policy["Statement"]
        if any(fnmatch.fnmatchcase(principal_arn, pattern) for pattern in s.get("Condition", {}).get("ArnLike", {}).get("aws:PrincipalArn", []))
    ]


# ---- key and buckets ------------------------------------------------------------------------------


def test_data_key_is_rotated_and_aliased(data_plan) -> None:
    key = data_key(data_plan)
    assert key.inputs["enableKeyRotation"] is True, f"{key.urn}: rotation off"
    aliases = [r.inputs["name"] for r in data_plan.of_type("aws:kms/alias:Alias")]
    assert "alias/mlops-data" in aliases, f"no alias/mlops-data among {aliases}"


def test_data_key_lets_the_registration_role_decrypt(data_plan) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/mlops-lakeformation-registration"
    actions = {a for s in key_statements_for(data_plan, role) for a in s["Action"]}
    assert "kms:Decrypt" in actions, f"{data_key(data_plan).urn}: registration role cannot decrypt ({sorted(actions)})"


def test_data_key_lets_project_roles_only_decrypt_through_glue(data_plan, org: OrganizationConfig) -> None:
    role = f"arn:aws:iam::{org.accounts.exp}:role/mlops-project-weld-gun-pm"
    statements = key_statements_for(data_plan, role)
    assert statements, f"{data_key(data_plan).urn}: project role cannot read the encrypted catalog"
    for statement in statements:
        assert set(statement["Action"]) <= {"kms:Decrypt", "kms:DescribeKey"}, f"{statement['Sid']}: {statement['Action']}"
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == [f"glue.{org.region}.amazonaws.com"]


def test_data_key_names_project_roles_by_pattern(data_plan, org: OrganizationConfig) -> None:
    # One pattern instead of an ARN per project: the key policy does not grow as projects join.
    patterns = [
        arn
        for statement in doc(data_key(data_plan).inputs["policy"])["Statement"]
        for arn in statement.get("Condition", {}).get("ArnLike", {}).get("aws:PrincipalArn", [])
        if arn.startswith(f"arn:aws:iam::{org.accounts.exp}:")
    ]
    assert patterns and all(arn.endswith(":role/mlops-project-*") for arn in patterns), f"{data_key(data_plan).urn}: {patterns}"


def test_lake_buckets_are_kms_encrypted_with_the_data_key(data_plan) -> None:
    key_arn_prefix = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/"
    for zone in ("raw", "curated", "etl"):
        bucket = one(data_plan, "aws:s3/bucket:Bucket", f"data-lake-{zone}-bucket")
        assert bucket.inputs["bucket"] == f"mlops-lake-{zone}-{ACCOUNT}-eu-central-1", bucket.urn
        sse = one(data_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"data-lake-{zone}-encryption")
        default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"].startswith(key_arn_prefix), sse.urn
        assert data_key(data_plan).urn in sse.property_dependencies.get("rules", []), f"{sse.urn}: not the data key"


def test_raw_and_curated_buckets_are_protected(data_plan) -> None:
    for zone in ("raw", "curated"):
        bucket = data_plan.named(f"data-lake-{zone}-bucket")
        assert bucket.protect, f"{bucket.urn}: data-bearing lake bucket is not protected"


# ---- Glue --------------------------------------------------------------------------------------------


def test_catalog_is_encrypted_with_the_data_key(data_plan) -> None:
    (settings,) = data_plan.of_type("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings")
    block = settings.inputs["dataCatalogEncryptionSettings"]
    assert block["encryptionAtRest"]["catalogEncryptionMode"] == "SSE-KMS", settings.urn
    assert block["encryptionAtRest"]["sseAwsKmsKeyId"].startswith(f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/"), settings.urn
    assert block["connectionPasswordEncryption"]["returnConnectionPasswordEncrypted"] is True, settings.urn


def test_security_configuration_encrypts_s3_logs_and_bookmarks(data_plan) -> None:
    (config,) = data_plan.of_type("aws:glue/securityConfiguration:SecurityConfiguration")
    encryption = config.inputs["encryptionConfiguration"]
    assert encryption["s3Encryption"]["s3EncryptionMode"] == "SSE-KMS", config.urn
    assert encryption["cloudwatchEncryption"]["cloudwatchEncryptionMode"] == "SSE-KMS", config.urn
    assert encryption["jobBookmarksEncryption"]["jobBookmarksEncryptionMode"] == "CSE-KMS", config.urn


def test_network_connection_runs_in_the_data_vpc(data_plan) -> None:
    (connection,) = data_plan.of_type("aws:glue/connection:Connection")
    assert connection.inputs["connectionType"] == "NETWORK", connection.urn
    requirements = connection.inputs["physicalConnectionRequirements"]
    subnets = {r.urn for r in data_plan.of_type("aws:ec2/subnet:Subnet")}
    depends = set(connection.property_dependencies.get("physicalConnectionRequirements", []))
    assert requirements["subnetId"].startswith("subnet-") and subnets & depends, f"{connection.urn}: not in a DATA subnet"
    assert data_plan.named("data-lake-glue-sg").urn in depends, f"{connection.urn}: not the Glue security group"


def test_glue_security_group_references_itself(data_plan) -> None:
    group = data_plan.named("data-lake-glue-sg")
    (connection,) = data_plan.of_type("aws:glue/connection:Connection")
    group_id = connection.inputs["physicalConnectionRequirements"]["securityGroupIdLists"][0]
    ingress = [r for r in data_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.parent == group.urn]
    assert ingress and all(r.inputs.get("referencedSecurityGroupId") == group_id for r in ingress), (
        f"{group.urn}: ingress must come only from the group itself"
    )
    assert any(r.inputs["fromPort"] == 0 and r.inputs["toPort"] == 65535 for r in ingress), f"{group.urn}: no all-TCP self rule"


def test_glue_security_group_egress_stays_in_the_vpc(data_plan) -> None:
    group = data_plan.named("data-lake-glue-sg")
    for rule in data_plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"):
        if rule.parent == group.urn:
            assert rule.inputs.get("cidrIpv4") in (None, "10.10.0.0/20"), f"{rule.urn}: egress to {rule.inputs.get('cidrIpv4')}"
            assert "cidrIpv6" not in rule.inputs, rule.urn


def test_data_vpc_has_the_endpoints_the_etl_needs(data_plan) -> None:
    services = {r.inputs["serviceName"].rsplit(".", 1)[-1] for r in data_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("secretsmanager", "s3", "glue", "kms", "logs", "lakeformation", "sts"):
        assert service in services, f"data VPC lacks the {service} endpoint ({sorted(services)})"


# ---- data sets -------------------------------------------------------------------------------------


def test_each_data_set_has_a_database_with_raw_and_curated_tables(data_plan, org) -> None:
    databases = {r.inputs["name"] for r in data_plan.of_type("aws:glue/catalogDatabase:CatalogDatabase")}
    tables = {r.inputs["name"] for r in data_plan.of_type("aws:glue/catalogTable:CatalogTable")}
    for data_set in org.data_sets:
        assert f"mlops_{data_set.name}" in databases, f"no database for {data_set.name}"
        assert {f"{data_set.name}_raw", f"{data_set.name}_curated"} <= tables, f"tables of {data_set.name}: {sorted(tables)}"


def test_databases_get_no_iam_allowed_principals_default(data_plan) -> None:
    for database in data_plan.of_type("aws:glue/catalogDatabase:CatalogDatabase"):
        assert database.inputs.get("createTableDefaultPermissions") == [], f"{database.urn}: table default permissions"


def test_raw_table_declares_every_configured_column(data_plan, org) -> None:
    for data_set in org.data_sets:
        table = next(r for r in data_plan.of_type("aws:glue/catalogTable:CatalogTable") if r.inputs["name"] == f"{data_set.name}_raw")
        columns = [(c["name"], c["type"]) for c in table.inputs["storageDescriptor"]["columns"]]
        assert columns == [(c.name, c.type) for c in data_set.columns], f"{table.urn}: {columns}"


def test_curated_table_drops_and_pseudonymises_pii(data_plan, org) -> None:
    for data_set in org.data_sets:
        table = next(r for r in data_plan.of_type("aws:glue/catalogTable:CatalogTable") if r.inputs["name"] == f"{data_set.name}_curated")
        columns = [(c["name"], c["type"]) for c in table.inputs["storageDescriptor"]["columns"]]
        expected = [
            (c.name, "string" if c.treatment == "pseudonymise" else c.type)
            for c in data_set.columns
            if not (c.pii and c.treatment in (None, "drop"))
        ]
        assert columns == expected, f"{table.urn}: curated columns {columns}"


def test_curated_table_is_parquet_in_the_curated_bucket(data_plan, org) -> None:
    for data_set in org.data_sets:
        table = next(r for r in data_plan.of_type("aws:glue/catalogTable:CatalogTable") if r.inputs["name"] == f"{data_set.name}_curated")
        descriptor = table.inputs["storageDescriptor"]
        assert descriptor["location"] == f"s3://mlops-lake-curated-{ACCOUNT}-eu-central-1/{data_set.location}", table.urn
        assert "parquet" in descriptor["serDeInfo"]["serializationLibrary"].lower(), table.urn


def test_sample_data_is_uploaded_to_the_raw_location(data_plan, org) -> None:
    for data_set in org.data_sets:
        if not data_set.sample_data:
            continue
        objects = [r for r in data_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.inputs["bucket"] == f"mlops-lake-raw-{ACCOUNT}-eu-central-1"]
        keys = [r.inputs["key"] for r in objects]
        assert f"{data_set.location}{os.path.basename(data_set.sample_data)}" in keys, f"sample of {data_set.name} not in {keys}"
        assert all(r.inputs["serverSideEncryption"] == "aws:kms" for r in objects), "sample upload not SSE-KMS"


# ---- ETL job -------------------------------------------------------------------------------------------


def curation_job(plan: StackPlan, data_set: str) -> ResourceRecord:
    return next(r for r in plan.of_type("aws:glue/job:Job") if r.inputs["name"] == f"mlops-curate-{data_set.replace('_', '-')}")


def test_job_uses_security_configuration_and_connection(data_plan, org) -> None:
    (config,) = data_plan.of_type("aws:glue/securityConfiguration:SecurityConfiguration")
    (connection,) = data_plan.of_type("aws:glue/connection:Connection")
    for data_set in org.data_sets:
        job = curation_job(data_plan, data_set.name)
        assert job.inputs["securityConfiguration"] == config.inputs["name"], job.urn
        assert job.inputs["connections"] == [connection.inputs["name"]], job.urn


def test_job_ships_the_etl_package_zip(data_plan, org) -> None:
    (package,) = [r for r in data_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.inputs["key"].endswith(".zip")]
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(package.inputs["contentBase64"]))).namelist()
    assert "mlops_etl/pseudonymise.py" in names and "mlops_etl/__init__.py" in names, f"{package.urn}: {names}"
    for data_set in org.data_sets:
        arguments = curation_job(data_plan, data_set.name).inputs["defaultArguments"]
        assert arguments["--extra-py-files"] == f"s3://{package.inputs['bucket']}/{package.inputs['key']}"


def test_job_runs_the_repo_script(data_plan, org) -> None:
    (script,) = [r for r in data_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.inputs["key"].endswith(".py")]
    with open("etl/curate_dataset.py", encoding="utf-8") as source:
        assert script.inputs["content"] == source.read(), f"{script.urn}: not the repo's etl/curate_dataset.py"
    for data_set in org.data_sets:
        job = curation_job(data_plan, data_set.name)
        assert job.inputs["command"]["name"] == "glueetl", job.urn
        assert job.inputs["command"]["scriptLocation"] == f"s3://{script.inputs['bucket']}/{script.inputs['key']}", job.urn


def test_job_arguments_describe_the_data_set(data_plan, org) -> None:
    for data_set in org.data_sets:
        arguments = curation_job(data_plan, data_set.name).inputs["defaultArguments"]
        assert arguments["--source_table"] == f"{data_set.name}_raw"
        assert arguments["--target_table"] == f"{data_set.name}_curated"
        assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
        assert arguments["--hmac_secret_id"].startswith(f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT}:")
        declared = json.loads(arguments["--pii_columns_json"])
        assert [(c["name"], c["pii"]) for c in declared] == [(c.name, c.pii) for c in data_set.columns]


def test_job_has_a_scheduled_and_an_on_demand_trigger(data_plan, org) -> None:
    for data_set in org.data_sets:
        job = curation_job(data_plan, data_set.name)
        triggers = [r for r in data_plan.of_type("aws:glue/trigger:Trigger") if r.inputs["actions"][0]["jobName"] == job.inputs["name"]]
        kinds = sorted(t.inputs["type"] for t in triggers)
        assert kinds == ["ON_DEMAND", "SCHEDULED"], f"{job.urn}: triggers {kinds}"
        scheduled = next(t for t in triggers if t.inputs["type"] == "SCHEDULED")
        assert scheduled.inputs["schedule"].startswith("cron("), scheduled.urn


def test_hmac_secret_is_encrypted_with_the_data_key(data_plan) -> None:
    (secret,) = data_plan.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/"), secret.urn
    assert secret.protect, f"{secret.urn}: losing the HMAC key breaks every pseudonym"


def test_etl_role_reads_only_its_secret_and_key(data_plan) -> None:
    policy = doc(data_plan.named("data-lake-etl-access").inputs["policy"])
    for statement in policy["Statement"]:
        if any(a.startswith(("secretsmanager:", "kms:", "s3:")) for a in statement["Action"]):
            assert statement["Resource"] != "*", f"data-lake-etl-access {statement['Sid']}: Resource '*'"


# ---- Lake Formation ----------------------------------------------------------------------------------


def test_lake_formation_settings(data_plan) -> None:
    (settings,) = data_plan.of_type("aws:lakeformation/dataLakeSettings:DataLakeSettings")
    assert f"arn:aws:iam::{ACCOUNT}:role/mlops-deploy" in settings.inputs["admins"], f"{settings.urn}: deploy role not admin"
    assert settings.inputs["parameters"]["CROSS_ACCOUNT_VERSION"] in ("3", "4"), settings.urn
    for key in ("createDatabaseDefaultPermissions", "createTableDefaultPermissions"):
        assert settings.inputs.get(key) == [], f"{settings.urn}: {key} keeps the IAMAllowedPrincipals default"


def test_lake_buckets_are_registered_with_the_registration_role(data_plan) -> None:
    registered = {r.inputs["arn"]: r for r in data_plan.of_type("aws:lakeformation/resource:Resource")}
    for zone in ("raw", "curated"):
        arn = f"arn:aws:s3:::mlops-lake-{zone}-{ACCOUNT}-eu-central-1"
        assert arn in registered, f"{zone} bucket not registered ({sorted(registered)})"
        assert registered[arn].inputs["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/mlops-lakeformation-registration"
        assert registered[arn].inputs["useServiceLinkedRole"] is False, registered[arn].urn


def test_raw_tables_are_granted_only_to_the_etl_role(data_plan) -> None:
    for record in data_plan.of_type("aws:lakeformation/permissions:Permissions"):
        table = record.inputs.get("table") or record.inputs.get("tableWithColumns") or {}
        if table.get("name", "").endswith("_raw"):
            assert record.inputs["principal"] == f"arn:aws:iam::{ACCOUNT}:role/mlops-data-etl", record.urn


# ---- preview and guardrails -------------------------------------------------------------------------


def test_preview_plan_declares_the_same_resources(data_plan, data_preview) -> None:
    assert sorted(r.urn for r in data_preview.resources) == sorted(r.urn for r in data_plan.resources)


def test_guardrail_check_has_no_mandatory_violation() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlops_platform.cli", "check", "--stack", "data"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"check --stack data: exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-500:]}"
    assert " 0 mandatory" in result.stdout, result.stdout[-500:]


def test_plan_command_lists_the_lake() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlops_platform.cli", "plan", "--stack", "data"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for token in (
        "aws:glue/job:Job", "aws:glue/trigger:Trigger", "aws:glue/connection:Connection",
        "aws:glue/securityConfiguration:SecurityConfiguration", "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
        "aws:lakeformation/dataLakeSettings:DataLakeSettings", "aws:lakeformation/resource:Resource",
        "aws:lakeformation/permissions:Permissions", "aws:lakeformation/dataCellsFilter:DataCellsFilter",
        "aws:secretsmanager/secret:Secret", "aws:glue/catalogTable:CatalogTable",
    ):
        assert token in result.stdout, f"plan --stack data does not show {token}"
