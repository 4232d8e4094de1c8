"""DATA account: the governed data lake, the pseudonymising ETL and the grants to EXP projects.

Order matters and is explicit: Lake Formation settings (no IAMAllowedPrincipals defaults) before
any database, tables before the grants that name them. The project roles in EXP are named by
convention (``naming.project_role_name``), so this stack needs no output of the exp stack.
See ``docs/data.md``.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

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
from mlops_core.config import DataSet
from mlops_core.naming import (
    bucket_name,
    curated_table_name,
    curation_job_name,
    data_bucket_purpose,
    data_database_name,
    data_etl_role_name,
    data_key_purpose,
    hmac_secret_name,
    kms_alias,
    lakeformation_registration_role_name,
    project_role_name,
    raw_table_name,
    role_arn,
    stack_deploy_role_arn,
)

#: The ETL sources: the ``mlops_etl`` package and, beside it, the Glue job script that imports it.
ETL_PACKAGE = Path(mlops_etl.__file__).resolve().parent
GLUE_SCRIPT = ETL_PACKAGE.parent / "curate_dataset.py"


def build(context: AccountContext) -> None:
    """Declare the lake, one curated data set per ``dataSets`` entry and the per-project grants."""
    org = context.settings.org
    granted_projects = [project for project in org.model_projects if project.data_access]
    try:
        grants = {project.name: project_grants(org, project) for project in granted_projects}
    except GrantError as error:
        raise pulumi.RunError(str(error)) from None  # one line, no traceback

    lake = _lake(context, [project.name for project in granted_projects])
    lake_formation = _lake_formation(context, lake)
    code = EtlCode(
        "data-etl-code",
        EtlCodeArgs(
            bucket=lake.buckets["etl"].name,
            kms_key_arn=lake.key.arn,
            script_path=GLUE_SCRIPT,
            package_dir=ETL_PACKAGE,
        ),
        opts=context.opts,
    )
    data_sets = {data_set.name: _data_set(context, data_set, lake, lake_formation, code) for data_set in org.data_sets}
    curated_tables = [dataset.curated_table for dataset in data_sets.values()]
    for project_name, project_grant_list in grants.items():
        ProjectDataGrants(
            f"data-grants-{project_name}",
            ProjectDataGrantsArgs(account_id=context.settings.account_id, grants=project_grant_list, depends_on=curated_tables),
            opts=context.opts,
        )

    context.exports.update(
        {
            "dataKeyArn": lake.key.arn,
            "lakeBuckets": {zone: bucket.name for zone, bucket in lake.buckets.items()},
            "hmacSecretArn": lake.hmac_secret.arn,
            "dataSets": {
                name: {"database": dataset.database.name, "curatedTable": dataset.curated_table.name}
                for name, dataset in data_sets.items()
            },
            "projectGrants": {
                name: {g.data_set: list(g.columns) for g in grant_list} for name, grant_list in grants.items()
            },
        }
    )


def _lake(context: AccountContext, granted_projects: list[str]) -> DataLake:
    """Key, zone buckets, catalog encryption, ETL and registration roles, the Glue network connection."""
    settings = context.settings
    org, account, region = settings.org, settings.account_id, settings.org.region
    network = context.baseline.network
    return DataLake(
        "data-lake",
        DataLakeArgs(
            account_id=account,
            region=region,
            name_prefix=org.platform_name,
            key_alias=kms_alias(org, data_key_purpose()),
            bucket_names={zone: bucket_name(org, account, data_bucket_purpose(zone)) for zone in ("raw", "curated", "etl")},
            access_log_bucket=context.baseline.access_logs.name,
            deploy_role_arn=stack_deploy_role_arn(settings),
            registration_role_name=lakeformation_registration_role_name(org),
            etl_role_name=data_etl_role_name(org),
            database_names=[data_database_name(org, data_set.name) for data_set in org.data_sets],
            hmac_secret_name=hmac_secret_name(org),
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
            subnet_ids=network.subnet_ids,
            s3_prefix_list_id=network.s3_prefix_list_id,
            # Cross-account readers of an SSE-KMS catalog decrypt its metadata with their own rights.
            catalog_readers=[
                KeyUser(
                    org.accounts.exp,
                    # A name pattern, not one ARN per project: the key policy stays the same size as
                    # projects join (Lake Formation grants still decide which data each one reads).
                    [role_arn(org.accounts.exp, project_role_name(org, "*"))],
                    decrypt_only=True,
                    via_services=[f"glue.{region}.amazonaws.com"],
                )
            ]
            if granted_projects
            else [],
        ),
        opts=context.opts,
    )


def _lake_formation(context: AccountContext, lake: DataLake) -> LakeFormationSettings:
    """The deploy role administers Lake Formation; the raw and curated buckets are registered."""
    deploy_role = stack_deploy_role_arn(context.settings)
    return LakeFormationSettings(
        "data-lake-formation",
        LakeFormationSettingsArgs(
            account_id=context.settings.account_id,
            admins=[deploy_role],
            deploy_role_arn=deploy_role,
            registered_bucket_arns={zone: lake.buckets[zone].arn for zone in ("raw", "curated")},
            registration_role_arn=lake.registration_role.arn,
            table_creator_arns=[deploy_role],
        ),
        opts=context.opts,
    )


def _data_set(
    context: AccountContext, data_set: DataSet, lake: DataLake, lake_formation: LakeFormationSettings, code: EtlCode
) -> CuratedDataset:
    """One data set: its database, raw and curated tables, and the curation job."""
    org = context.settings.org
    return CuratedDataset(
        f"data-set-{data_set.name.replace('_', '-')}",
        CuratedDatasetArgs(
            data_set=data_set,
            account_id=context.settings.account_id,
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
            # Entries written before the catalog is encrypted are stored unencrypted; databases created
            # before the Lake Formation settings get the IAMAllowedPrincipals default.
            catalog_ready=[lake.catalog_encryption, lake_formation.settings, *lake_formation.registrations],
        ),
        opts=context.opts,
    )
