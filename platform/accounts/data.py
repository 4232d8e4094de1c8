"""DATA account: the governed data lake, the pseudonymising ETL and the grants to EXP projects.

Order matters and is explicit: Lake Formation settings (no IAMAllowedPrincipals defaults) before
any database, tables before the grants that name them. The project roles in EXP are named by
convention (``naming.project_role_name``), so this stack needs no output of the exp stack.
See ``docs/data.md``.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

import mlops_etl
from accounts.common import AccountContext
from components.curated_dataset import CuratedDataset, CuratedDatasetArgs
from components.data_lake import DataLake, DataLakeArgs
from components.encryption import KeyUser
from components.etl_package import EtlCode, EtlCodeArgs
from components.lake_formation import (
    GrantError,
    LakeFormationSettings,
    LakeFormationSettingsArgs,
    ProjectDataGrants,
    ProjectDataGrantsArgs,
    project_grants,
)
from mlops_core.naming import (
    bucket_name,
    curated_table_name,
    curation_job_name,
    data_bucket_purpose,
    data_database_name,
    data_etl_role_name,
    data_key_purpose,
    deploy_role_name,
    hmac_secret_name,
    kms_alias,
    lakeformation_registration_role_name,
    project_role_name,
    raw_table_name,
    role_arn,
)

#: The ETL sources: the ``mlops_etl`` package and, beside it, the Glue job script that imports it.
ETL_PACKAGE = Path(mlops_etl.__file__).resolve().parent
GLUE_SCRIPT = ETL_PACKAGE.parent / "curate_dataset.py"


def build(context: AccountContext) -> None:
    """Declare the lake, one curated data set per ``dataSets`` entry and the per-project grants."""
    settings = context.settings
    org, account, region = settings.org, settings.account_id, settings.org.region
    network = context.baseline.network
    opts = context.opts
    deploy_role = role_arn(account, deploy_role_name(org))
    granted_projects = [project for project in org.model_projects if project.data_access]
    try:
        grants = {project.name: project_grants(org, project) for project in granted_projects}
    except GrantError as error:
        raise pulumi.RunError(str(error)) from None  # one line, no traceback

    # The S3 gateway endpoint's prefix list: from the network when it exposes it, else looked up.
    s3_prefix_list_id = getattr(network, "s3_prefix_list_id", None)
    if s3_prefix_list_id is None:
        s3_prefix_list_id = aws.ec2.get_prefix_list_output(
            name=f"com.amazonaws.{region}.s3", opts=pulumi.InvokeOutputOptions(provider=context.provider)
        ).id
    lake = DataLake(
        "data-lake",
        DataLakeArgs(
            account_id=account,
            region=region,
            name_prefix=org.platform_name,
            key_alias=kms_alias(org, data_key_purpose()),
            bucket_names={zone: bucket_name(org, account, data_bucket_purpose(zone)) for zone in ("raw", "curated", "etl")},
            access_log_bucket=context.baseline.access_logs.name,
            deploy_role_arn=deploy_role,
            registration_role_name=lakeformation_registration_role_name(org),
            etl_role_name=data_etl_role_name(org),
            database_names=[data_database_name(org, data_set.name) for data_set in org.data_sets],
            hmac_secret_name=hmac_secret_name(org),
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
            subnet_ids=network.subnet_ids,
            s3_prefix_list_id=s3_prefix_list_id,
            # Cross-account readers of an SSE-KMS catalog decrypt its metadata with their own rights.
            catalog_readers=[
                KeyUser(
                    org.accounts.exp,
                    sorted(role_arn(org.accounts.exp, project_role_name(org, p.name)) for p in granted_projects),
                    decrypt_only=True,
                    via_services=[f"glue.{region}.amazonaws.com"],
                )
            ]
            if granted_projects
            else [],
        ),
        opts=opts,
    )

    lake_formation = LakeFormationSettings(
        "data-lake-formation",
        LakeFormationSettingsArgs(
            account_id=account,
            admins=[deploy_role],
            deploy_role_arn=deploy_role,
            registered_bucket_arns={zone: lake.buckets[zone].arn for zone in ("raw", "curated")},
            registration_role_arn=lake.registration_role.arn,
            table_creator_arns=[deploy_role],
        ),
        opts=opts,
    )

    code = EtlCode(
        "data-etl-code",
        EtlCodeArgs(
            bucket=lake.buckets["etl"].name,
            kms_key_arn=lake.key.arn,
            script_path=GLUE_SCRIPT,
            package_dir=ETL_PACKAGE,
        ),
        opts=opts,
    )

    curated_tables = []
    data_sets = {}
    for data_set in org.data_sets:
        dataset = CuratedDataset(
            f"data-set-{data_set.name.replace('_', '-')}",
            CuratedDatasetArgs(
                data_set=data_set,
                account_id=account,
                database_name=data_database_name(org, data_set.name),
                raw_table_name=raw_table_name(data_set.name),
                curated_table_name=curated_table_name(data_set.name),
                job_name=curation_job_name(org, data_set.name),
                raw_bucket=lake.buckets["raw"].name,
                curated_bucket=lake.buckets["curated"].name,
                etl_bucket=lake.buckets["etl"].name,
                kms_key_arn=lake.key.arn,
                etl_role_arn=lake.etl_role.arn,
                security_configuration=lake.security_configuration.name,
                connection_name=lake.connection.name,
                hmac_secret_arn=lake.hmac_secret.arn,
                script_location=code.script_location,
                extra_py_files=code.extra_py_files,
                repo_root=context.source_root,
            ),
            # Databases created before the settings would get the IAMAllowedPrincipals default.
            opts=pulumi.ResourceOptions(
                provider=context.provider, depends_on=[lake_formation.settings, *lake_formation.registrations]
            ),
        )
        curated_tables.append(dataset.curated_table)
        data_sets[data_set.name] = {"database": dataset.database.name, "curatedTable": dataset.curated_table.name}

    for project_name, project_grant_list in grants.items():
        ProjectDataGrants(
            f"data-grants-{project_name}",
            ProjectDataGrantsArgs(account_id=account, grants=project_grant_list, depends_on=curated_tables),
            opts=opts,
        )

    context.exports.update(
        {
            "dataKeyArn": lake.key.arn,
            "lakeBuckets": {zone: bucket.name for zone, bucket in lake.buckets.items()},
            "hmacSecretArn": lake.hmac_secret.arn,
            "dataSets": data_sets,
            "projectGrants": {
                name: {g.data_set: list(g.columns) for g in grant_list} for name, grant_list in grants.items()
            },
        }
    )
