"""Validated configuration: the shared organisation file and the per-stack settings.

Two sources, one schema each (pydantic v2, camelCase keys through aliases):

* ``organization.yaml`` at the repository root holds what several stacks and the ``serving/``
  project need: platform name, region, account IDs, tags, people, model projects, data sets.
* ``Pulumi.<stack>.yaml`` holds only what is per stack, under the ``mlops:`` namespace: the account
  role (never inferred from the stack's name), the VPC CIDR, the AZ IDs and switches.

Every problem becomes one :class:`ConfigError` whose text names the file, the key as the user wrote
it and what is wrong. The Pulumi program turns it into ``pulumi.RunError`` (no traceback), the
offline plan into exit code 2. Nothing is declared before validation succeeds.
"""

from __future__ import annotations

import copy

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from mlops_core.paths import ORGANIZATION_FILE, REPO_ROOT
from mlops_core.roles import (
    ACCOUNT_ROLES,
    IDENTITY_ROLE,
    LOG_ARCHIVE_ROLE,
    OPERATOR_PERSONAS,
    PERSONAS,
    STAGES,
    STANDALONE_ROLES,
    AccountRole,
    AnyPersona,
    OperatorPersona,
    Persona,
    Stage,
)

CONFIG_NAMESPACE = "mlops"


@dataclass(frozen=True, order=True)
class Problem:
    """One configuration problem: the file, the key as the user wrote it, what is wrong."""

    source: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.problem}" if self.key else f"{self.source}: {self.problem}"


class ConfigError(Exception):
    """Configuration problems, one line each: ``<file>: <key>: <problem>``, sorted by file and key.

    ``ConfigError(source, key, problem)`` is one problem; :meth:`of` gathers several (a run reports
    every problem it found, not only the first). ``source``, ``key`` and ``problem`` are the first's.
    """

    def __init__(self, source: str, key: str, problem: str, *, problems: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = sorted(set(problems)) or [Problem(source, key, problem)]
        first = self.problems[0]
        self.source, self.key, self.problem = first.source, first.key, first.problem
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> ConfigError:
        # Once each: a model project's stack reports its account stack file's problems too.
        gathered = list(dict.fromkeys(problems))
        if not gathered:
            raise ValueError("ConfigError.of needs at least one problem")
        return cls("", "", "", problems=gathered)


#: Regular expression -> what a matching value looks like, for messages (never the raw pattern).
PATTERN_DESCRIPTIONS: dict[str, str] = {}


def described(pattern: str, description: str) -> str:
    """Register how a ``Field(pattern=...)`` is explained to a user; returns the pattern."""
    PATTERN_DESCRIPTIONS[pattern] = description
    return pattern


class KeyProblems(ValueError):
    """Raised by a model validator: problems at keys relative to the model (all of them, not the first)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(message for _, message in self.problems))


def _duplicates(names: Iterable[str]) -> list[str]:
    """Names that occur more than once, in first-seen order."""
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [name for name, count in seen.items() if count > 1]


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------


def _account_id(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str):
        # YAML turns an unquoted 012345678901 into an int and drops the leading zero.
        raise ValueError("must be a quoted 12-digit string, e.g. '111111111111'")
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account ID")
    return value


AccountId = Annotated[str, BeforeValidator(_account_id)]


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 network ({exc})") from None
    if not network.is_private:
        raise ValueError(f"{value} is not a private (RFC 1918) range")
    if not 16 <= network.prefixlen <= 24:
        raise ValueError(f"{value} must be between /16 and /24 (got /{network.prefixlen})")
    return str(network)


VpcCidr = Annotated[str, AfterValidator(_cidr)]

# An AZ ID names the same physical zone in every account (unlike an AZ name such as eu-central-1a).
AZ_ID_PATTERN = re.compile(r"^(?P<prefix>[a-z]{3,5}\d+)-az(?P<n>\d+)$")
ResourceName = Annotated[str, Field(pattern=described(
    r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
    "3 to 32 lower-case letters, digits and hyphens, starting with a letter and ending with a letter or digit",
))]


class CamelModel(BaseModel):
    """Base for every config model: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


# --------------------------------------------------------------------------------------------
# organization.yaml
# --------------------------------------------------------------------------------------------


class Accounts(CamelModel):
    """The platform's AWS accounts. ``data`` is optional: without it there is no DATA stack.

    ``logArchive`` is optional too: with it, the ``log-archive`` stack holds the audit archive there
    and every account's CloudTrail and AWS Config deliver to it instead of to an audit bucket of their
    own (docs/audit-evidence.md). It is not a workload account: not in :meth:`by_role`.
    """

    data: AccountId | None = None
    exp: AccountId
    res: AccountId
    dev: AccountId
    int_: AccountId = Field(alias="int")
    prod: AccountId
    log_archive: AccountId | None = None

    def by_role(self) -> dict[str, str]:
        """Role -> account ID, without the absent DATA account."""
        ids = {role: getattr(self, "int_" if role == "int" else role) for role in ACCOUNT_ROLES}
        return {role: account for role, account in ids.items() if account}

    @model_validator(mode="after")
    def _distinct(self) -> Accounts:
        seen: dict[str, str] = {}
        everyone = {**self.by_role(), **({"logArchive": self.log_archive} if self.log_archive else {})}
        for role, account in everyone.items():
            if account in seen:
                raise ValueError(f"{role} and {seen[account]} use the same account {account}")
            seen[account] = role
        return self


class GitHubSettings(CamelModel):
    """Where the platform repository lives (the OIDC trust of the CI roles pins it)."""

    repository: Annotated[str, Field(pattern=described(
        r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$",
        "<owner>/<repository>, e.g. example-org/mlops-platform",
    ))]


UserName = Annotated[str, Field(pattern=described(
    r"^[a-z][a-z0-9-]{1,30}$",
    "2 to 31 lower-case letters, digits and hyphens, starting with a letter",
))]
ProjectName = Annotated[str, Field(pattern=described(
    r"^[a-z][a-z0-9-]{2,20}[a-z0-9]$",
    "4 to 22 lower-case letters, digits and hyphens, starting with a letter and ending with a letter or digit",
))]
DataSetName = Annotated[str, Field(pattern=described(
    r"^[a-z][a-z0-9_]{2,40}$",
    "3 to 41 lower-case letters, digits and underscores, starting with a letter",
))]
ColumnName = Annotated[str, Field(pattern=described(
    r"^[a-z][a-z0-9_]{0,63}$",
    "1 to 64 lower-case letters, digits and underscores, starting with a letter",
))]


class IdentitySettings(CamelModel):
    """How people sign in (issue: personas).

    ``iam-federation`` (default): a SAML identity provider in each account and one federated role
    per persona; the IdP passes the user's name as the session tag ``userNameTag``.
    ``identity-center``: IAM Identity Center permission sets, created by the optional ``identity``
    stack in the management or delegated-administrator account.
    """

    mode: Literal["iam-federation", "identity-center"] = "iam-federation"
    saml_provider_name: Annotated[str, Field(pattern=described(
        r"^[\w.-]{1,128}$",
        "1 to 128 letters, digits, '_', '.' or '-'",
    ))] = "corporate-idp"
    user_name_tag: Annotated[str, Field(pattern=described(
        r"^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,127}$",
        "a tag key: a letter, then up to 127 letters, digits or _.:/=+@-",
    ))] = "userName"
    identity_center_instance_arn: Annotated[str, Field(pattern=described(
        r"^arn:aws:sso:::instance/ssoins-[0-9a-f]{16}$",
        "an Identity Center instance ARN, arn:aws:sso:::instance/ssoins- and 16 hex digits",
    ))] | None = None
    management_account: AccountId | None = None
    """Account that runs the ``identity`` stack (management or delegated administrator)."""
    group_ids: dict[
        AnyPersona,
        Annotated[str, Field(pattern=described(
            r"^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "an Identity Store group ID (a lower-case UUID, optionally after 10 hex digits and '-')",
        ))],
    ] = {}
    """Identity Store group per persona; the identity stack assigns its permission set to those groups."""

    @model_validator(mode="after")
    def _identity_center_needs_instance(self) -> IdentitySettings:
        if self.mode == "identity-center" and not (self.identity_center_instance_arn and self.management_account):
            raise ValueError("mode identity-center needs identityCenterInstanceArn and managementAccount")
        return self


class DataScientist(CamelModel):
    name: UserName
    persona: Persona
    projects: list[ProjectName] = []


class Operator(CamelModel):
    """A DevOps engineer, platform administrator or auditor."""

    name: UserName
    persona: OperatorPersona


class Column(CamelModel):
    name: ColumnName
    type: Annotated[str, Field(pattern=described(
        r"^(string|int|bigint|double|float|boolean|date|timestamp|decimal\(\d+,\d+\))$",
        "one of string, int, bigint, double, float, boolean, date, timestamp or decimal(precision,scale)",
    ))]
    pii: bool = False
    treatment: Literal["drop", "pseudonymise"] | None = None
    """For PII columns: dropped or keyed-HMAC pseudonymised in the curated table (default drop)."""

    @model_validator(mode="after")
    def _treatment_only_for_pii(self) -> Column:
        if self.treatment and not self.pii:
            raise ValueError(f"column {self.name}: treatment is only for pii columns")
        return self


class DataSet(CamelModel):
    """A data set of the DATA account's lake (raw table -> curated table)."""

    name: DataSetName
    location: Annotated[str, Field(pattern=described(
        r"^[a-z0-9][a-z0-9/_-]*/$",
        "a prefix of lower-case letters, digits, '/', '_' and '-' that ends in '/', e.g. welding-sensors/",
    ))]
    """Prefix of the raw data in the raw bucket, ending in ``/``."""
    columns: list[Column] = Field(min_length=1)
    sample_data: str | None = None
    """Repo-relative CSV uploaded to the raw location (the seed project's sample)."""
    curation_schedule: Annotated[str, Field(pattern=described(
        r"^cron\([^()]+\)$",
        "a Glue cron expression, e.g. cron(0 3 * * ? *)",
    ))] = "cron(0 3 * * ? *)"
    """When the Glue job rewrites the curated table (Glue cron expression, UTC)."""

    @model_validator(mode="after")
    def _unique_columns(self) -> DataSet:
        repeated = _duplicates(c.name for c in self.columns)
        if repeated:
            raise KeyProblems([("columns", f"column {name!r} appears more than once") for name in repeated])
        return self


class DataAccess(CamelModel):
    """Which columns (or rows) of a data set a model project may read."""

    data_set: DataSetName
    columns: list[ColumnName] | None = None
    """None: every non-PII column."""
    row_filter: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    """PartiQL row filter expression (Lake Formation data cells filter)."""


class ServingOverrides(CamelModel):
    """Per model and stage: overrides of the committed stage defaults under serving/."""

    instance_type: Annotated[str, Field(pattern=described(
        r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
        "a SageMaker instance type such as ml.m5.large",
    ))] | None = None
    initial_instance_count: Annotated[int, Field(ge=1, le=20)] | None = None
    min_capacity: Annotated[int, Field(ge=1, le=20)] | None = None
    max_capacity: Annotated[int, Field(ge=1, le=100)] | None = None
    batch_inference: bool | None = None
    private_api: bool | None = None
    model_monitor: bool | None = None


class ModelProject(CamelModel):
    """A model project (use case): its registry group, bucket, pipeline and serving stacks."""

    name: ProjectName
    description: Annotated[str, Field(max_length=256)] = ""
    metric_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Minimum PR-AUC on the evaluation set for a model to be registered."""
    retrain_schedule: Annotated[str, Field(pattern=described(
        r"^(rate|cron)\(.+\)$",
        "an EventBridge Scheduler expression, rate(...) or cron(...)",
    ))] | None = "rate(7 days)"
    """EventBridge Scheduler expression that starts the build pipeline; None disables it."""
    data_access: list[DataAccess] = []
    serving: dict[Stage, ServingOverrides] = {}


class SourceControlSettings(CamelModel):
    """Where model projects keep their code (EXP). CodeCommit is closed to new AWS customers."""

    provider: Literal["codeconnections", "codecommit"] = "codeconnections"
    provider_type: Literal["GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket"] = "GitHub"
    """CodeConnections provider; the self-managed ones need ``hostEndpoint`` and ``hostCidr``."""
    host_endpoint: Annotated[str, Field(pattern=described(
        r"^https://[A-Za-z0-9.-]+(:\d+)?(/.*)?$",
        "an https:// URL of the server",
    ))] | None = None
    """URL of a self-managed server (a CodeConnections ``Host`` in the EXP VPC reaches it)."""
    host_cidr: Annotated[str, AfterValidator(lambda v: str(ipaddress.IPv4Network(v, strict=True)))] | None = None
    """Network of the self-managed server (the host's security group allows HTTPS to it)."""

    @model_validator(mode="after")
    def _self_managed_needs_host(self) -> SourceControlSettings:
        self_managed = self.provider_type in ("GitHubEnterpriseServer", "GitLabSelfManaged")
        if self.provider == "codeconnections" and self_managed and not (self.host_endpoint and self.host_cidr):
            raise ValueError(f"providerType {self.provider_type} needs hostEndpoint and hostCidr")
        if self.host_endpoint and not self_managed:
            raise ValueError(f"hostEndpoint is only for self-managed providers, not {self.provider_type}")
        return self


class WorkspaceSettings(CamelModel):
    """The EXP account's workspace: source control and Studio."""

    source_control: SourceControlSettings = SourceControlSettings()
    studio_idle_timeout_minutes: Annotated[int, Field(ge=60, le=525600)] = 60
    """JupyterLab apps idle this long are shut down (Studio's native idle shutdown)."""
    studio_max_idle_timeout_minutes: Annotated[int, Field(ge=60, le=525600)] = 240
    """The longest idle timeout a user may choose."""

    @model_validator(mode="after")
    def _idle_bounds(self) -> WorkspaceSettings:
        if self.studio_max_idle_timeout_minutes < self.studio_idle_timeout_minutes:
            raise ValueError("studioMaxIdleTimeoutMinutes must be at least studioIdleTimeoutMinutes")
        return self


class AuditLogSettings(CamelModel):
    """How long CloudTrail and AWS Config evidence is kept out of reach of the audited account."""

    retention_days: Annotated[int, Field(ge=365, le=36500)] = 365
    """Object Lock (COMPLIANCE mode) default retention of every audit object: nobody, root included,
    can delete or overwrite an object version before it ends, and it cannot be shortened. At least a
    year: the pack (audit-evidence-locked, minimumAuditRetentionDays) refuses less."""


class OrganizationConfig(CamelModel):
    """Organisation-wide values shared by every stack and the serving project."""

    platform_name: ResourceName
    """Prefix of every name the platform creates, e.g. ``mlops``."""
    region: Annotated[str, Field(pattern=described(
        r"^[a-z]{2}(-gov)?-[a-z]+-\d$",
        "an AWS region name such as eu-central-1",
    ))]
    """The one region the platform runs in (never a constant in code)."""
    accounts: Accounts
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]] = {}
    """Tags every taggable resource carries (through the providers' default tags)."""
    github: GitHubSettings | None = None
    identity: IdentitySettings = IdentitySettings()
    data_scientists: list[DataScientist] = []
    operators: list[Operator] = []
    model_projects: list[ModelProject] = []
    data_sets: list[DataSet] = []
    workspace: WorkspaceSettings = WorkspaceSettings()
    """EXP: source control and Studio settings."""
    audit_logs: AuditLogSettings = AuditLogSettings()
    """Retention of the audit evidence (CloudTrail, AWS Config) in each account's audit bucket, or in
    the archive of ``accounts.logArchive``."""

    @model_validator(mode="after")
    def _cross_references(self) -> OrganizationConfig:
        problems = [*self._repeated_names(), *self._unknown_references()]
        if self.data_sets and not self.has_data_account:
            problems.append(("dataSets", "need accounts.data (the DATA account holds the lake)"))
        if problems:
            raise KeyProblems(problems)
        return self

    def _repeated_names(self) -> list[tuple[str, str]]:
        """Names that must be unique: projects, people (scientists and operators together), data sets."""
        problems = [
            ("modelProjects", f"project name {name!r} appears more than once (names must be unique)")
            for name in _duplicates(p.name for p in self.model_projects)
        ]
        problems += [
            ("dataScientists/operators", f"user name {name!r} appears more than once (names must be unique)")
            for name in _duplicates(p.name for p in [*self.data_scientists, *self.operators])
        ]
        problems += [
            ("dataSets", f"data set name {name!r} appears more than once (names must be unique)")
            for name in _duplicates(d.name for d in self.data_sets)
        ]
        return problems

    def _unknown_references(self) -> list[tuple[str, str]]:
        """Projects named by people, data sets and columns named by projects' data access."""
        projects = {p.name for p in self.model_projects}
        problems = [
            (f"dataScientists[{index}].projects", f"{person.name}: unknown project {project!r}")
            for index, person in enumerate(self.data_scientists)
            for project in person.projects
            if project not in projects
        ]
        data_sets = {d.name: d for d in self.data_sets}
        for index, project in enumerate(self.model_projects):
            for position, access in enumerate(project.data_access):
                where = f"modelProjects[{index}].dataAccess[{position}]"
                data_set = data_sets.get(access.data_set)
                if data_set is None:
                    problems.append((f"{where}.dataSet", f"{project.name}: unknown data set {access.data_set!r}"))
                    continue
                known = {c.name: c for c in data_set.columns}
                for column in access.columns or []:
                    if column not in known:
                        problems.append((f"{where}.columns", f"{project.name}: {access.data_set} has no column {column!r}"))
                    elif known[column].pii:
                        problems.append((f"{where}.columns", f"{project.name}: column {access.data_set}.{column} is pii"))
        return problems

    def project(self, name: str) -> ModelProject:
        for project in self.model_projects:
            if project.name == name:
                return project
        raise KeyError(name)

    def members(self, project: str) -> list[DataScientist]:
        """Data scientists working on a project."""
        return [p for p in self.data_scientists if project in p.projects]

    @field_validator("tags")
    @classmethod
    def _no_reserved_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key in tags:
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} uses the reserved 'aws:' prefix")
        return tags

    @property
    def has_data_account(self) -> bool:
        return self.accounts.data is not None

    @property
    def has_log_archive(self) -> bool:
        return self.accounts.log_archive is not None


# --------------------------------------------------------------------------------------------
# Pulumi.<stack>.yaml (namespace mlops:)
# --------------------------------------------------------------------------------------------


class ProviderRole(CamelModel):
    """The role the stack's ``aws.Provider`` assumes (created by ``mlops-platform bootstrap``)."""

    role_name: ResourceName | None = None
    """Defaults to ``<platformName>-deploy``."""
    session_name: Annotated[str, Field(pattern=described(
        r"^[\w+=,.@-]{2,64}$",
        "2 to 64 letters, digits or +=,.@_-",
    ))] = "pulumi-mlops-platform"
    external_id: Annotated[str, Field(min_length=2, max_length=1224, pattern=described(
        r"^[\w+=,.@:/-]+$",
        "letters, digits or +=,.@:/_-",
    ))] | None = None


class BudgetSettings(CamelModel):
    monthly_limit_usd: Annotated[float, Field(gt=0)]
    alert_emails: list[Annotated[str, Field(pattern=described(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        "an e-mail address",
    ))]] = []
    alert_threshold_percent: Annotated[float, Field(gt=0, le=1000)] = 80


class BaselineSettings(CamelModel):
    """Account-level services; each can be off where the organisation runs it centrally."""

    cloud_trail: bool = True
    aws_config: bool = True
    security_hub: bool = True
    guard_duty: bool = True
    budget: BudgetSettings | None = None
    log_retention_days: Literal[365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] = 365
    """CloudWatch Logs retention; at least a year (CloudWatch.16)."""


class StackConfig(CamelModel):
    """The ``mlops:`` keys of one stack file."""

    role: AccountRole
    vpc_cidr: VpcCidr | None = None
    """Required for every role but ``identity`` and ``log-archive`` (which have no VPC)."""
    az_ids: list[str] | None = None
    """Required for every role but ``identity`` and ``log-archive``."""
    deploy_role: ProviderRole = ProviderRole()
    baseline: BaselineSettings = BaselineSettings()
    model_project: str | None = None
    """Set on a model project's stack of the EXP account (``exp.<project>``): never in a stack file,
    the config derives from the EXP stack's (:func:`read_stack_config`)."""

    @model_validator(mode="after")
    def _network_for_workload_accounts(self) -> StackConfig:
        if self.role in STANDALONE_ROLES:
            if self.vpc_cidr or self.az_ids:
                raise ValueError(f"the {self.role} stack has no VPC: remove mlops:vpcCidr and mlops:azIds")
            return self
        missing = [key for key, value in (("vpcCidr", self.vpc_cidr), ("azIds", self.az_ids)) if value is None]
        if missing:
            raise KeyProblems([(key, "required key is missing") for key in missing])
        return self

    @field_validator("az_ids")
    @classmethod
    def _az_ids(cls, az_ids: list[str] | None) -> list[str] | None:
        if az_ids is None:
            return None
        if not 2 <= len(az_ids) <= 3:
            raise ValueError(f"needs 2 or 3 AZ IDs, got {len(az_ids)}")
        prefixes = set()
        for az in az_ids:
            match = AZ_ID_PATTERN.match(az) if isinstance(az, str) else None
            if not match:
                raise ValueError(f"{az!r} is not an AZ ID such as 'euc1-az1'")
            prefixes.add(match["prefix"])
        if len(set(az_ids)) != len(az_ids):
            raise ValueError("AZ IDs must be distinct")
        if len(prefixes) != 1:
            raise ValueError(f"AZ IDs mix regions: {sorted(az_ids)}")
        return az_ids


class StackSettings(BaseModel):
    """Everything one stack's program needs: its own config plus the organisation's."""

    model_config = ConfigDict(frozen=True)

    stack: str
    org: OrganizationConfig
    config: StackConfig

    @property
    def role(self) -> str:
        return self.config.role

    @property
    def model_project(self) -> str | None:
        """The model project of a project stack (``exp.<project>``), None for an account stack."""
        return self.config.model_project

    @property
    def account_id(self) -> str:
        if self.role == IDENTITY_ROLE:
            return str(self.org.identity.management_account)
        if self.role == LOG_ARCHIVE_ROLE:
            return str(self.org.accounts.log_archive)
        account = self.org.accounts.by_role().get(self.role)
        if account is None:  # only the DATA role can be absent
            raise ConfigError(
                ORGANIZATION_FILE, "accounts.data", "the stack has role 'data' but no data account is configured"
            )
        return account


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


#: The platform project's name (``Pulumi.yaml``): ``pulumi config set KEY`` without a namespace writes
#: ``mlops-platform:KEY``, which the program never reads.
PROJECT_NAMESPACE = "mlops-platform"
#: Namespaces a stack file may hold besides ``mlops:``: the engine's own settings.
ENGINE_NAMESPACES = ("pulumi",)


def _format_loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item == "[key]" or ("[" in str(item) and "(" in str(item)):
            continue  # pydantic's own steps (dict keys, ``function-after[...]``), not the user's keys
        else:
            parts.append(("." if parts else "") + str(item))
    return prefix + "".join(parts)


def _message(error: Mapping[str, Any]) -> str:
    kind, message = error["type"], str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        expected = PATTERN_DESCRIPTIONS.get(error["ctx"]["pattern"], "a value of the documented form")
        return f"{error['input']!r} is not valid: expected {expected}"
    if kind == "literal_error":
        return f"{error['input']!r} is not allowed: {message.lower()}"
    return message


def validation_problems(exc: ValidationError, source: str, prefix: str = "") -> list[Problem]:
    """Every problem pydantic found, each at the key the user wrote (``prefix`` + its path)."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblems):
            problems += [Problem(source, _format_loc((*loc, key), prefix), message) for key, message in cause.problems]
        else:
            problems.append(Problem(source, _format_loc(loc, prefix), _message(error)))
    return problems


def _yaml_problem(source: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return Problem(source, where, f"not valid YAML: {reason}")


def _duplicate_keys(node: yaml.Node | None, source: str, path: str, strip: str) -> list[Problem]:
    """Keys given twice in one mapping (YAML would silently keep the last), anywhere in the file."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else key
            shown = child.removeprefix(strip) if strip and child.startswith(strip) else child
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(
                    Problem(source, shown, f"duplicate key: line {line} repeats line {first_line[key]}; YAML keeps only the last")
                )
            else:
                first_line[key] = line
            problems += _duplicate_keys(value_node, source, child, strip)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, source, f"{path}[{index}]", strip)
    return problems


def _read_yaml(path: Path, strip: str = "") -> Any:
    """Parse one file; syntax errors with line, column and reason; duplicate keys are errors too.

    ``strip`` is a key prefix not shown in messages (a stack file's ``config.``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path.name, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path.name, "", f"cannot be read ({exc.__class__.__name__})") from None
    key = (path.name, strip, text)
    if key not in _PARSED:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            duplicates = _duplicate_keys(node, path.name, "", strip)
            if duplicates:
                raise ConfigError.of(duplicates)
            _PARSED[key] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError.of([_yaml_problem(path.name, exc)]) from None
    return copy.deepcopy(_PARSED[key])


# Parsed files by (name, strip, text): one command reads organization.yaml dozens of times and
# pure-Python YAML parsing costs tens of milliseconds each (most of a warm `plan`).
_PARSED: dict[tuple[str, str, str], Any] = {}


def organization_problems(root: Path = REPO_ROOT) -> tuple[OrganizationConfig | None, list[Problem]]:
    """``organization.yaml`` validated, or None and every problem found in it."""
    try:
        raw = _read_yaml(root / ORGANIZATION_FILE)
    except ConfigError as error:
        return None, error.problems
    if not isinstance(raw, Mapping):
        return None, [Problem(ORGANIZATION_FILE, "", "must be a mapping of keys to values")]
    try:
        return OrganizationConfig.model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc, ORGANIZATION_FILE)


def load_organization(root: Path = REPO_ROOT) -> OrganizationConfig:
    """Read and validate ``organization.yaml``; every problem in one :class:`ConfigError`."""
    org, problems = organization_problems(root)
    if org is None:
        raise ConfigError.of(problems)
    return org


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def list_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Stack names from the ``Pulumi.<name>.yaml`` files at ``root``, sorted; without a project
    stack's file (``Pulumi.exp.<project>.yaml``, which a deploy may write beside its account stack's)."""
    names = {p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml")}
    return sorted(name for name in names if account_stack_of(name) not in names)


#: ``<account stack>.<model project>``: a model project's own stack in the EXP account.
PROJECT_STACK_SEPARATOR = "."


def account_stack_of(stack: str) -> str | None:
    """The account stack a model project's stack (``exp.<project>``) belongs to; None for any other name."""
    account_stack, separator, project = stack.rpartition(PROJECT_STACK_SEPARATOR)
    return account_stack if separator and account_stack and project else None


def project_stack_name(account_stack: str, project: str) -> str:
    """The stack holding one model project's resources beside its EXP account stack."""
    return f"{account_stack}{PROJECT_STACK_SEPARATOR}{project}"


def project_stacks(root: Path = REPO_ROOT) -> list[str]:
    """``exp.<project>`` for every model project, beside every EXP stack file (no file of their own)."""
    org = load_organization(root)
    return [
        project_stack_name(stack, project.name)
        for stack in list_stacks(root)
        if PROJECT_STACK_SEPARATOR not in stack and _file_role(stack, root) == "exp"
        for project in org.model_projects
    ]


def known_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Every platform stack: the stack files' and the model projects' stacks beside EXP's."""
    return [*list_stacks(root), *project_stacks(root)]


def _file_role(stack: str, root: Path) -> Any:
    try:
        return read_stack_config(stack, root).get(f"{CONFIG_NAMESPACE}:role")
    except ConfigError:
        return None  # the stack's own validation reports it


def derived_project_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any] | None:
    """A project stack's config, derived: its EXP stack file's plus ``mlops:modelProject``; None when
    ``stack`` is not ``<stack with a file>.<project>``. Validation checks that the project exists."""
    account_stack = account_stack_of(stack)
    if account_stack is None or not stack_file(account_stack, root).exists():
        return None
    project = stack.removeprefix(f"{account_stack}{PROJECT_STACK_SEPARATOR}")
    return {**read_stack_config(account_stack, root), f"{CONFIG_NAMESPACE}:modelProject": project}


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The ``config:`` block of a stack file, as the YAML holds it (namespaced keys); a project
    stack's (``exp.<project>``, no file) derived from its account stack's."""
    path = stack_file(stack, root)
    if not path.exists():
        derived = derived_project_stack_config(stack, root)
        if derived is not None:
            return derived
        raise ConfigError(path.name, "", f"no such stack file (stacks here: {', '.join(list_stacks(root)) or 'none'})")
    raw = _read_yaml(path, strip="config.") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(path.name, "", "must be a mapping with a 'config:' block")
    config = raw.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConfigError(path.name, "config", "must be a mapping of keys to values")
    return dict(config)


def _foreign_keys(source: str, config: Mapping[str, Any]) -> list[Problem]:
    """Keys the program would silently ignore: other namespaces than ``mlops:`` and the engine's."""
    problems = []
    for key in config:
        namespace, _, name = str(key).partition(":")
        if namespace in (CONFIG_NAMESPACE, *ENGINE_NAMESPACES) and name:
            continue
        if not name:
            problem = f"is ignored: platform keys are namespaced, write mlops:{key}"
        elif namespace == "aws" and name == "region":
            problem = "is ignored: every stack runs in organization.yaml's region; remove it (or change region there)"
        elif namespace == "aws":
            problem = "is ignored: stacks use explicit providers configured from organization.yaml; remove it"
        elif namespace == PROJECT_NAMESPACE:
            problem = (f"is ignored: the platform reads mlops:{name} (`pulumi config set {name}` writes {key}; "
                       f"use `pulumi config set mlops:{name} ...`)")
        else:
            problem = f"is ignored: the platform reads only {CONFIG_NAMESPACE}: keys; remove it"
        problems.append(Problem(source, str(key), problem))
    return problems


def _namespace_values(source: str, config: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The ``mlops:`` keys without their namespace; JSON strings (as Pulumi passes them) decoded."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != CONFIG_NAMESPACE or not name:
            continue
        if isinstance(value, Mapping) and "secure" in value:
            problems.append(Problem(source, str(key), "holds a secret; platform config must not hold secrets"))
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        values[name] = value
    return values, problems


_DIRECTIONS = {"central": "c", "north": "n", "south": "s", "east": "e", "west": "w",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g"}


def az_id_prefix(region: str) -> str | None:
    """The prefix of a region's AZ IDs (``eu-central-1`` -> ``euc1``, ``us-gov-west-1`` -> ``usgw1``);
    None for a region name of another shape."""
    country, *words, number = region.split("-")
    if not words or not number.isdigit() or any(word not in _DIRECTIONS for word in words):
        return None
    return country + "".join(_DIRECTIONS[word] for word in words) + number


def _cidr_overlaps(stack: str, cidr: str, root: Path) -> list[Problem]:
    """The stack's VPC must not overlap any other stack's VPC (peering and TGW need distinct ranges)."""
    own = ipaddress.IPv4Network(cidr)
    problems = []
    for other in list_stacks(root):
        if other == stack:
            continue
        try:
            values, _ = _namespace_values("", read_stack_config(other, root))
            other_net = ipaddress.IPv4Network(str(values.get("vpcCidr")))
        except (ConfigError, ValueError):
            continue  # that stack's own validation reports its problems
        if own.overlaps(other_net):
            problems.append(
                Problem(f"Pulumi.{stack}.yaml", f"{CONFIG_NAMESPACE}:vpcCidr", f"{cidr} overlaps {other_net} of stack '{other}'")
            )
    return problems


def _az_region(source: str, az_ids: list[str], region: str) -> list[Problem]:
    prefix = az_id_prefix(region)
    foreign = [az for az in az_ids if prefix and not az.startswith(f"{prefix}-")]
    if not foreign:
        return []
    return [Problem(source, f"{CONFIG_NAMESPACE}:azIds",
                    f"{', '.join(foreign)} not in region {region} (organization.yaml region; its AZ IDs are {prefix}-az<n>)")]


def _source_file(stack: str, root: Path) -> str:
    """The file a stack's config comes from: its own, or (a model project's stack) its account stack's."""
    account_stack = account_stack_of(stack)
    if account_stack and not stack_file(stack, root).exists() and stack_file(account_stack, root).exists():
        return stack_file(account_stack, root).name
    return stack_file(stack, root).name


def _with_organization(stack: str, config: StackConfig, org: OrganizationConfig, root: Path) -> list[Problem]:
    """Checks of a valid stack config against the organisation and the other stacks."""
    source = _source_file(stack, root)
    if config.role == "data" and not org.has_data_account:
        return [Problem(source, "mlops:role", "is 'data' but organization.yaml has no accounts.data")]
    if config.role == IDENTITY_ROLE:
        if org.identity.mode != "identity-center":
            return [Problem(source, "mlops:role", "is 'identity' but organization.yaml identity.mode is not identity-center")]
        return []
    if config.model_project is not None:
        if config.role != "exp":
            return [Problem(source, "mlops:modelProject", f"is set but the stack's role is {config.role!r}: only EXP holds model projects")]
        if config.model_project not in {p.name for p in org.model_projects}:
            known = ", ".join(p.name for p in org.model_projects) or "none"
            return [Problem(source, "mlops:modelProject", f"{config.model_project!r} is not a model project of organization.yaml (projects: {known})")]
        return []  # the project stack shares its account stack's VPC: nothing more to cross-check
    if config.role == LOG_ARCHIVE_ROLE:
        if not org.has_log_archive:
            return [Problem(source, "mlops:role", "is 'log-archive' but organization.yaml has no accounts.logArchive")]
        return []
    return [*_cidr_overlaps(stack, str(config.vpc_cidr), root), *_az_region(source, list(config.az_ids or []), org.region)]


def _stack_problems(
    stack: str, config: Mapping[str, Any], root: Path, org: OrganizationConfig | None
) -> tuple[StackConfig | None, list[Problem]]:
    """One stack's config validated (against ``org`` when it is valid), with every problem found."""
    source = _source_file(stack, root)
    values, problems = _namespace_values(source, config)
    problems += _foreign_keys(source, config)
    try:
        stack_config = StackConfig.model_validate(values)
    except ValidationError as exc:
        return None, [*problems, *validation_problems(exc, source, f"{CONFIG_NAMESPACE}:")]
    if org is not None:
        problems += _with_organization(stack, stack_config, org, root)
    return stack_config, problems


def settings_from_config(
    stack: str, config: Mapping[str, Any], root: Path = REPO_ROOT, org: OrganizationConfig | None = None
) -> StackSettings:
    """Validate one stack's config mapping (namespaced keys, as in the stack file or PULUMI_CONFIG)."""
    problems: list[Problem] = []
    if org is None:
        org, problems = organization_problems(root)
    stack_config, stack_problems = _stack_problems(stack, config, root, org)
    problems += stack_problems
    if problems or org is None or stack_config is None:
        raise ConfigError.of(problems)
    return StackSettings(stack=stack, org=org, config=stack_config)


def load_settings(stack: str, root: Path = REPO_ROOT) -> StackSettings:
    """Read, validate and cross-check one stack file and the organisation file."""
    return settings_from_config(stack, read_stack_config(stack, root), root)


def _log_archive_stack_problems(org: OrganizationConfig, root: Path) -> list[Problem]:
    """With ``accounts.logArchive`` every account delivers its evidence there: a stack must create the archive."""
    if not org.has_log_archive:
        return []
    for name in list_stacks(root):
        try:
            if read_stack_config(name, root).get(f"{CONFIG_NAMESPACE}:role") == LOG_ARCHIVE_ROLE:
                return []
        except ConfigError:
            continue  # that file's own validation reports it
    return [Problem(ORGANIZATION_FILE, "accounts.logArchive", "is set but no stack file has mlops:role: log-archive "
                    "(create Pulumi.log-archive.yaml with it, see docs/audit-evidence.md)")]


def validate_stacks(stacks: Iterable[str], root: Path = REPO_ROOT) -> dict[str, StackSettings]:
    """Validate the organisation file and every named stack file; one :class:`ConfigError` holding
    every problem of them all (sorted by file and key), or the settings of each stack."""
    org, problems = organization_problems(root)
    if org is not None:
        problems += _log_archive_stack_problems(org, root)
    settings: dict[str, StackSettings] = {}
    for stack in stacks:
        try:
            config = read_stack_config(stack, root)
        except ConfigError as error:
            problems += error.problems
            continue
        stack_config, stack_problems = _stack_problems(stack, config, root, org)
        problems += stack_problems
        if org is not None and stack_config is not None and not stack_problems:
            settings[stack] = StackSettings(stack=stack, org=org, config=stack_config)
    if problems:
        raise ConfigError.of(problems)
    return settings
