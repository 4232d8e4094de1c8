"""Lake Formation: account settings, registered locations, and per-project column grants.

:class:`LakeFormationSettings` (declare it first, the data sets depend on it):

* data lake settings with named administrators. ``admins`` **replaces the whole list** in the
  account (PutDataLakeSettings is not additive): an administrator added in the console disappears
  on the next ``pulumi up``. Add administrators through :attr:`LakeFormationSettingsArgs.admins`;
  the deploy role must stay in the list, or the stack can no longer manage grants;
* ``CROSS_ACCOUNT_VERSION`` (4: grants to principals of other accounts through RAM, with or
  without organisation sharing);
* no ``IAMAllowedPrincipals`` defaults: new databases and tables are reachable only through Lake
  Formation grants, not through IAM policies alone;
* kept on destroy and replace: the provider's delete sends empty admins and cross-account version 1,
  silently removing every administrator (and with them the stack's own grant rights), so the
  settings are ``protect``ed (a replace or destroy stops) and ``retain_on_delete`` (should the
  protection be lifted, Pulumi forgets them instead of resetting the account); ``mlops-platform
  destroy`` says they are kept;
* the buckets registered with the registration role (not the service-linked role, so its key
  permissions are explicit), and DATA_LOCATION_ACCESS for the table creators.

:class:`ProjectDataGrants` (one per model project): for each data set the project was given,
DESCRIBE on the data set's database and SELECT on the permitted, non-PII curated columns, or on a
data cells filter when the project has a row filter. Grants go directly to the project's role in
EXP and to each member's Studio execution role (the same columns and filter: members query from
notebooks what the pipeline reads; ARNs by naming convention), never to the EXP account, so EXP
needs no grant option to pass them on. Which columns: :func:`project_grants`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlops_etl.pseudonymise import grantable_columns
from mlops_core.config import ModelProject, OrganizationConfig
from mlops_core.naming import (
    curated_table_name,
    data_cells_filter_name,
    data_database_name,
    project_role_name,
    role_arn,
    user_execution_role_name,
)

#: Grants to IAM principals of other accounts, with or without AWS RAM organisation sharing.
CROSS_ACCOUNT_VERSION = "4"


class GrantError(ValueError):
    """A project's data access cannot be granted; ``str()`` is one line."""


@dataclass(frozen=True)
class ProjectGrant:
    """What one project may read of one data set (pure value; tested without Pulumi)."""

    project: str
    principal_arn: str
    """The project role in EXP."""
    data_set: str
    database: str
    table: str
    """The curated table (raw tables are never granted)."""
    columns: tuple[str, ...]
    row_filter: str | None = None
    filter_name: str | None = None
    """Data cells filter name when ``row_filter`` is set."""
    members: tuple[tuple[str, str], ...] = ()
    """(user, Studio execution role ARN) of each project member: they query the same columns (and
    rows) from their notebooks, so each gets the project role's grants, never more."""

    def principals(self) -> list[tuple[str, str]]:
        """(suffix of the grant's Pulumi names, principal): the project role first, then each member."""
        return [("", self.principal_arn), *((f"-{user}", arn) for user, arn in self.members)]


def project_grants(org: OrganizationConfig, project: ModelProject) -> list[ProjectGrant]:
    """The project's grants: permitted columns = configured columns ∩ non-PII columns.

    ``columns: null`` in the config means every non-PII column. Pseudonymised columns are PII
    (still personal data) and are never granted. Raises :class:`GrantError` when nothing is left.
    """
    data_sets = {data_set.name: data_set for data_set in org.data_sets}
    grants = []
    seen: set[str] = set()
    for access in project.data_access:
        if access.data_set in seen:
            raise GrantError(f"modelProjects ({project.name}): dataAccess names {access.data_set} twice")
        seen.add(access.data_set)
        data_set = data_sets.get(access.data_set)
        if data_set is None:
            raise GrantError(f"modelProjects ({project.name}): unknown data set {access.data_set!r}")
        allowed = grantable_columns([column.model_dump() for column in data_set.columns])
        wanted = set(access.columns) if access.columns is not None else set(allowed)
        columns = tuple(column for column in allowed if column in wanted)
        refused = sorted(wanted - set(allowed))
        if refused:
            raise GrantError(
                f"modelProjects ({project.name}): {data_set.name} columns {', '.join(refused)} are pii or unknown"
            )
        if not columns:
            raise GrantError(f"modelProjects ({project.name}): no grantable column of {data_set.name}")
        grants.append(
            ProjectGrant(
                project=project.name,
                principal_arn=role_arn(org.accounts.exp, project_role_name(org, project.name)),
                members=tuple(
                    (member.name, role_arn(org.accounts.exp, user_execution_role_name(org, member.name)))
                    for member in org.members(project.name)
                ),
                data_set=data_set.name,
                database=data_database_name(org, data_set.name),
                table=curated_table_name(data_set.name),
                columns=columns,
                row_filter=access.row_filter,
                filter_name=data_cells_filter_name(project.name, data_set.name) if access.row_filter else None,
            )
        )
    return grants


# ------------------------------------------------------------------------------------------------


@dataclass
class LakeFormationSettingsArgs:
    """Inputs of a :class:`LakeFormationSettings`."""

    account_id: str
    admins: list[str]
    """ARNs of the data lake administrators; replaces the account's whole list. Must include the deploy role."""
    deploy_role_arn: str
    registered_bucket_arns: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Bucket ARN per zone, registered with :attr:`registration_role_arn`."""
    registration_role_arn: pulumi.Input[str] | None = None
    table_creator_arns: list[str] = field(default_factory=list)
    """Principals that create tables on the registered locations (DATA_LOCATION_ACCESS)."""
    read_only_admins: list[str] = field(default_factory=list)


class LakeFormationSettings(pulumi.ComponentResource):
    """An account's Lake Formation settings and registered locations."""

    settings: aws.lakeformation.DataLakeSettings
    registrations: list[aws.lakeformation.Resource]

    def __init__(self, name: str, args: LakeFormationSettingsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:LakeFormationSettings", name, None, opts)
        if args.deploy_role_arn not in args.admins:
            raise ValueError("LakeFormationSettingsArgs.admins must include the deploy role (admins replaces the list)")
        if args.registered_bucket_arns and args.registration_role_arn is None:
            raise ValueError("LakeFormationSettingsArgs: registered buckets need registration_role_arn")
        self.settings = aws.lakeformation.DataLakeSettings(
            f"{name}-settings",
            aws.lakeformation.DataLakeSettingsArgs(
                catalog_id=args.account_id,
                admins=sorted(args.admins),
                read_only_admins=sorted(args.read_only_admins) or None,
                parameters={"CROSS_ACCOUNT_VERSION": CROSS_ACCOUNT_VERSION},
                # Empty lists remove the IAMAllowedPrincipals "Super" defaults for new databases/tables.
                create_database_default_permissions=[],
                create_table_default_permissions=[],
                allow_external_data_filtering=False,
                allow_full_table_external_data_access=False,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        after_settings = pulumi.ResourceOptions(parent=self.settings, depends_on=[self.settings])
        self.registrations = []
        for zone, bucket_arn in sorted(args.registered_bucket_arns.items()):
            registration = aws.lakeformation.Resource(
                f"{name}-{zone}-location",
                aws.lakeformation.ResourceArgs(
                    arn=bucket_arn,
                    role_arn=args.registration_role_arn,
                    use_service_linked_role=False,
                    hybrid_access_enabled=False,
                ),
                opts=after_settings,
            )
            self.registrations.append(registration)
            for index, creator in enumerate(sorted(args.table_creator_arns)):
                aws.lakeformation.Permissions(
                    f"{name}-{zone}-location-access-{index}",
                    aws.lakeformation.PermissionsArgs(
                        principal=creator,
                        permissions=["DATA_LOCATION_ACCESS"],
                        data_location=aws.lakeformation.PermissionsDataLocationArgs(
                            arn=bucket_arn, catalog_id=args.account_id
                        ),
                    ),
                    opts=pulumi.ResourceOptions(parent=registration, depends_on=[registration]),
                )
        self.register_outputs({"admins": sorted(args.admins)})


# ------------------------------------------------------------------------------------------------


@dataclass
class ProjectDataGrantsArgs:
    """Inputs of a :class:`ProjectDataGrants`."""

    account_id: str
    """The DATA account (catalog owner)."""
    grants: list[ProjectGrant]
    """From :func:`project_grants`."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The curated tables (grants name them as plain strings)."""


class ProjectDataGrants(pulumi.ComponentResource):
    """Lake Formation grants of one model project's role and its members' roles on its permitted curated columns."""

    def __init__(self, name: str, args: ProjectDataGrantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:ProjectDataGrants", name, None, opts)
        after_tables = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
        for grant in args.grants:
            prefix = f"{name}-{grant.data_set.replace('_', '-')}"
            cells = None
            if grant.row_filter:
                cells = aws.lakeformation.DataCellsFilter(
                    f"{prefix}-filter",
                    aws.lakeformation.DataCellsFilterArgs(
                        table_data=aws.lakeformation.DataCellsFilterTableDataArgs(
                            table_catalog_id=args.account_id,
                            database_name=grant.database,
                            table_name=grant.table,
                            name=grant.filter_name,
                            column_names=list(grant.columns),
                            row_filter=aws.lakeformation.DataCellsFilterTableDataRowFilterArgs(
                                filter_expression=grant.row_filter
                            ),
                        )
                    ),
                    opts=after_tables,
                )
            for suffix, principal in grant.principals():
                self._grant(prefix, suffix, principal, grant, args.account_id, cells, after_tables)
        self.register_outputs({"dataSets": [grant.data_set for grant in args.grants]})

    def _grant(self, prefix: str, suffix: str, principal: str, grant: ProjectGrant, account_id: str,
               cells: aws.lakeformation.DataCellsFilter | None, after_tables: pulumi.ResourceOptions) -> None:
        """DESCRIBE on the database and SELECT on the columns (or the project's data cells filter)."""
        aws.lakeformation.Permissions(
            f"{prefix}-describe-database{suffix}",
            aws.lakeformation.PermissionsArgs(
                principal=principal,
                permissions=["DESCRIBE"],
                database=aws.lakeformation.PermissionsDatabaseArgs(catalog_id=account_id, name=grant.database),
            ),
            opts=after_tables,
        )
        if cells is not None:
            aws.lakeformation.Permissions(
                f"{prefix}-select-filtered{suffix}",
                aws.lakeformation.PermissionsArgs(
                    principal=principal,
                    permissions=["SELECT"],
                    data_cells_filter=aws.lakeformation.PermissionsDataCellsFilterArgs(
                        table_catalog_id=account_id,
                        database_name=grant.database,
                        table_name=grant.table,
                        name=grant.filter_name,
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cells]),
            )
            return
        aws.lakeformation.Permissions(
            f"{prefix}-select-columns{suffix}",
            aws.lakeformation.PermissionsArgs(
                principal=principal,
                permissions=["SELECT"],
                table_with_columns=aws.lakeformation.PermissionsTableWithColumnsArgs(
                    catalog_id=account_id,
                    database_name=grant.database,
                    name=grant.table,
                    column_names=list(grant.columns),
                ),
            ),
            opts=after_tables,
        )
