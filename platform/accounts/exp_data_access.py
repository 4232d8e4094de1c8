"""EXP: access to the DATA account's shared data sets (resource links, Athena workgroup).

The DATA stack grants SELECT on permitted curated columns directly to each project role in EXP
(see ``components/lake_formation.py``). Here, on the consumer side:

* EXP's own Lake Formation settings: the deploy role as administrator (``admins`` replaces the
  whole list), ``CROSS_ACCOUNT_VERSION``, no IAMAllowedPrincipals defaults;
* one resource link per shared database (a data set granted to at least one project), named by
  ``naming.shared_database_link_name``, with DESCRIBE on the link for the roles of the projects
  that were given that data set, and no one else;
* an Athena workgroup whose configuration is enforced: results only in a SecureBucket, encrypted
  with the account's platform key (SSE-KMS), a per-query scan limit, CloudWatch metrics.

Nothing is declared when the organisation has no DATA account or no data sets. Project role ARNs
come from the naming convention, so this module works whether or not the workspace (another
module) returns anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.lake_formation import LakeFormationSettings, LakeFormationSettingsArgs
from mlops_platform.config import OrganizationConfig
from mlops_platform.naming import (
    athena_workgroup_name,
    data_database_name,
    deploy_role_name,
    project_role_name,
    role_arn,
    shared_database_link_name,
)

#: Athena stops a query after scanning this much (10 GiB): a runaway query costs little.
BYTES_SCANNED_CUTOFF = 10 * 1024**3
RESULTS_RETENTION_DAYS = 30


@dataclass(frozen=True)
class SharedDatabase:
    """A DATA database linked into EXP and the project roles that may see the link."""

    data_set: str
    target_database: str
    link_name: str
    readers: tuple[tuple[str, str], ...]
    """(project, project role ARN) of every project given this data set."""


def shared_databases(org: OrganizationConfig) -> list[SharedDatabase]:
    """The data sets granted to at least one project, with those projects' role ARNs (pure)."""
    exp = org.accounts.exp
    readers: dict[str, set[tuple[str, str]]] = {}
    for project in org.model_projects:
        for access in project.data_access:
            readers.setdefault(access.data_set, set()).add(
                (project.name, role_arn(exp, project_role_name(org, project.name)))
            )
    return [
        SharedDatabase(
            data_set=data_set.name,
            target_database=data_database_name(org, data_set.name),
            link_name=shared_database_link_name(org, data_set.name),
            readers=tuple(sorted(readers[data_set.name])),
        )
        for data_set in org.data_sets
        if data_set.name in readers
    ]


def build(context: AccountContext, workspace: Any) -> None:
    """Declare the EXP side of Lake Formation sharing (nothing when there is no DATA account)."""
    settings = context.settings
    org = settings.org
    if not org.has_data_account or not org.data_sets:
        return
    account, region = settings.account_id, org.region
    deploy_role = role_arn(account, deploy_role_name(org))
    here = context.opts

    lake_formation = LakeFormationSettings(
        "exp-lake-formation",
        LakeFormationSettingsArgs(account_id=account, admins=[deploy_role], deploy_role_arn=deploy_role),
        opts=here,
    )
    after_settings = pulumi.ResourceOptions(provider=context.provider, depends_on=[lake_formation.settings])
    links = {}
    for shared in shared_databases(org):
        link = aws.glue.CatalogDatabase(
            f"exp-link-{shared.data_set.replace('_', '-')}",
            aws.glue.CatalogDatabaseArgs(
                name=shared.link_name,
                catalog_id=account,
                description=f"Resource link to {shared.target_database} in the DATA account",
                target_database=aws.glue.CatalogDatabaseTargetDatabaseArgs(
                    catalog_id=org.accounts.data, database_name=shared.target_database, region=region
                ),
            ),
            opts=after_settings,
        )
        for project, reader in shared.readers:
            aws.lakeformation.Permissions(
                f"exp-link-{shared.data_set.replace('_', '-')}-describe-{project}",
                aws.lakeformation.PermissionsArgs(
                    principal=reader,
                    permissions=["DESCRIBE"],
                    database=aws.lakeformation.PermissionsDatabaseArgs(catalog_id=account, name=link.name),
                ),
                opts=pulumi.ResourceOptions(parent=link),
            )
        links[shared.data_set] = link.name

    results = context.baseline.secure_bucket(
        "exp-athena-results",
        "athena-results",
        expire_objects_days=RESULTS_RETENTION_DAYS,
        noncurrent_version_days=7,
        opts=context.opts,
    )
    workgroup = aws.athena.Workgroup(
        "exp-athena-workgroup",
        aws.athena.WorkgroupArgs(
            name=athena_workgroup_name(org),
            description="Queries over the DATA account's shared data sets (pipelines and project members)",
            state="ENABLED",
            force_destroy=False,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                # Clients cannot override the result location or its encryption.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(selected_engine_version="AUTO"),
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", results.name, "/results/"),
                    expected_bucket_owner=account,
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=context.baseline.platform_key.arn
                    ),
                    acl_configuration=aws.athena.WorkgroupConfigurationResultConfigurationAclConfigurationArgs(
                        s3_acl_option="BUCKET_OWNER_FULL_CONTROL"
                    ),
                ),
            ),
        ),
        opts=context.opts,
    )
    context.exports.update(
        {
            "athenaWorkgroup": workgroup.name,
            "athenaResultsBucket": results.name,
            "sharedDatabases": links,
        }
    )
