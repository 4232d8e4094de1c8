"""EXP: access to the DATA account's shared data sets (resource links, Athena workgroup).

The DATA stack grants SELECT on permitted curated columns directly to each project role in EXP and
to the Studio execution role of each project member, who query the same columns from notebooks
(see ``components/lake_formation.py``). Here, on the consumer side:

* EXP's own Lake Formation settings: the deploy role as administrator (``admins`` replaces the
  whole list), ``CROSS_ACCOUNT_VERSION``, no IAMAllowedPrincipals defaults;
* one resource link per shared database (a data set granted to at least one project), named by
  ``naming.shared_database_link_name``, with DESCRIBE on the link for the roles of the projects
  that were given that data set and their members' execution roles, and no one else;
* the Athena results bucket, one prefix per project;
* in each project's own stack (:func:`build_project`), per project with data access, an Athena
  workgroup whose configuration is enforced: results only under the project's prefix, encrypted
  (SSE-KMS) with the project's key, a per-query scan limit, CloudWatch metrics; an inline policy
  that lets the project role query through its workgroup (:func:`project_query_policy`). The
  members query with the same statements in their project-access policies (no policy per project
  on a person's role: a lead in twenty projects stays within ten managed policies). One workgroup
  per project, because results hold the columns of the project that ran the query.

Nothing is declared when the organisation has no DATA account or no data sets. Project role ARNs
come from the naming convention, so this module works whether or not the workspace (another
module) returns anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.exp_policies import ProjectQuery, query_statements
from components.iam_documents import policy_document, statement
from components.lake_formation import LakeFormationSettings, LakeFormationSettingsArgs
from mlops_core.config import OrganizationConfig, StackSettings
from mlops_core.naming import (
    PROJECT_TAG_KEY,
    athena_workgroup_name,
    bucket_name,
    data_database_name,
    data_key_purpose,
    kms_alias,
    project_role_name,
    role_arn,
    shared_database_link_name,
    stack_deploy_role_arn,
    user_execution_role_name,
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
    account = settings.account_id
    deploy_role = stack_deploy_role_arn(settings)
    here = context.opts

    lake_formation = LakeFormationSettings(
        "exp-lake-formation",
        LakeFormationSettingsArgs(account_id=account, admins=[deploy_role], deploy_role_arn=deploy_role),
        opts=here,
    )
    after_settings = pulumi.ResourceOptions(provider=context.provider, depends_on=[lake_formation.settings])
    projects = _workspace_projects(workspace)
    links = _resource_links(org, account, projects, workspace, after_settings)

    results = context.baseline.secure_bucket(
        "exp-athena-results",
        bucket_name(org, account, "athena-results"),
        expire_objects_days=RESULTS_RETENTION_DAYS,
        noncurrent_version_days=7,
        opts=context.opts,
    )
    context.exports.update({"athenaResultsBucket": results.name, "sharedDatabases": links})


def build_project(settings: StackSettings, project: str, key_arn: pulumi.Input[str], results_bucket: pulumi.Input[str],
                  opts: pulumi.ResourceOptions) -> pulumi.Output[str] | None:
    """A project stack's side (``exp.<project>``): the project's Athena workgroup, whose results only
    the project reads, with the query policy on the project role (its members' execution roles get
    the same statements in their project-access policies, :mod:`accounts.exp_role_policies`).
    Returns the workgroup's name (None: the project was given no data)."""
    org = settings.org
    config = org.project(project)
    if not org.has_data_account or not org.data_sets or not config.data_access:
        return None
    account = settings.account_id
    results_arn = pulumi.Output.concat("arn:aws:s3:::", results_bucket)
    workgroup = aws.athena.Workgroup(
        f"exp-athena-{project}",
        aws.athena.WorkgroupArgs(
            name=athena_workgroup_name(org, project),
            description=f"Queries of project {project} over its shared data sets (pipeline and members)",
            state="ENABLED",
            force_destroy=False,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                # Clients cannot override the result location or its encryption.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(selected_engine_version="AUTO"),
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    # One prefix per project: results hold the project's columns and no one else's.
                    output_location=pulumi.Output.concat("s3://", results_bucket, f"/{project}/"),
                    expected_bucket_owner=account,
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=key_arn
                    ),
                ),
            ),
            tags={PROJECT_TAG_KEY: project},
        ),
        opts=opts,
    )
    document = pulumi.Output.all(workgroup.arn, results_arn, key_arn).apply(
        lambda values: json.dumps(project_query_policy(org, project, values[0], values[1], values[2]))
    )
    aws.iam.RolePolicy(
        f"exp-data-access-{project}",
        aws.iam.RolePolicyArgs(role=project_role_name(org, project), policy=document),
        opts=opts,
    )
    return workgroup.name


def _resource_links(org: OrganizationConfig, account: str, projects: dict[str, Any], workspace: Any,
                    after_settings: pulumi.ResourceOptions) -> dict[str, Any]:
    """One resource link per shared database, with DESCRIBE for its projects' roles and members."""
    region = org.region
    links: dict[str, Any] = {}
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
        def describe(suffix: str, principal: pulumi.Input[str], depends_on: list[pulumi.Resource]) -> None:
            aws.lakeformation.Permissions(
                f"exp-link-{shared.data_set.replace('_', '-')}-describe-{suffix}",
                aws.lakeformation.PermissionsArgs(
                    principal=principal,
                    permissions=["DESCRIBE"],
                    database=aws.lakeformation.PermissionsDatabaseArgs(catalog_id=account, name=link.name),
                ),
                opts=pulumi.ResourceOptions(parent=link, depends_on=depends_on),
            )

        for project, reader in shared.readers:
            # Lake Formation rejects grants to roles that do not exist yet.
            describe(project, reader, [projects[project].role] if project in projects else [])
            for member, member_role in _member_roles(org, project, workspace):
                describe(f"{project}-{member}", member_role, [])
        links[shared.data_set] = link.name
    return links


def _member_roles(org: OrganizationConfig, project: str, workspace: Any) -> list[tuple[str, Any]]:
    """(user, Studio execution role ARN) of the project's members, as the workspace declared them
    (an Output, so grants and policies wait for the role), else by the naming convention."""
    declared = getattr(workspace, "user_role_arns", None) or {}
    return [
        (member.name, declared.get(member.name) or role_arn(org.accounts.exp, user_execution_role_name(org, member.name)))
        for member in org.members(project)
    ]


def _workspace_projects(workspace: Any) -> dict[str, Any]:
    """The workspace's projects (``.role``, ``.key_arn``) if it provides them, else nothing."""
    projects = getattr(workspace, "projects", None)
    return dict(projects) if isinstance(projects, dict) else {}


def project_query(org: OrganizationConfig, project: str, workgroup_arn: str, results_bucket_arn: str) -> ProjectQuery:
    """What querying ``project``'s shared data sets touches (pure): its workgroup, its links and their targets."""
    exp, data, region = org.accounts.exp, org.accounts.data, org.region
    data_sets = [a.data_set for a in org.project(project).data_access]
    links = [shared_database_link_name(org, d) for d in data_sets]
    targets = [data_database_name(org, d) for d in data_sets]
    catalog_resources = (
        [f"arn:aws:glue:{region}:{exp}:catalog", f"arn:aws:glue:{region}:{data}:catalog"]
        + [f"arn:aws:glue:{region}:{exp}:database/{link}" for link in links]
        + [f"arn:aws:glue:{region}:{exp}:table/{link}/*" for link in links]
        + [f"arn:aws:glue:{region}:{data}:database/{db}" for db in targets]
        + [f"arn:aws:glue:{region}:{data}:table/{db}/*" for db in targets]
    )
    return ProjectQuery(project, workgroup_arn, results_bucket_arn, tuple(catalog_resources),
                        f"arn:aws:kms:{region}:{data}:key/*", kms_alias(org, data_key_purpose()))


def project_query_policy(
    org: OrganizationConfig, project: str, workgroup_arn: str, results_bucket_arn: str, results_key_arn: str
) -> dict[str, Any]:
    """What a project role needs to query its shared data sets through its workgroup (pure): the
    query statements, and the results' key (the project's)."""
    query = project_query(org, project, workgroup_arn, results_bucket_arn)
    return policy_document(
        [*query_statements([query]), statement("EncryptOwnResults", ["kms:Decrypt", "kms:GenerateDataKey"], results_key_arn)]
    )
