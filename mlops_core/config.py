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

import ipaddress
import json
import re
from collections.abc import Mapping
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
    OPERATOR_PERSONAS,
    PERSONAS,
    STAGES,
    AccountRole,
    AnyPersona,
    OperatorPersona,
    Persona,
    Stage,
)

CONFIG_NAMESPACE = "mlops"


class ConfigError(Exception):
    """A configuration problem, rendered as a single line: ``<file>: <key>: <problem>``."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


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
ResourceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")]


class CamelModel(BaseModel):
    """Base for every config model: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


# --------------------------------------------------------------------------------------------
# organization.yaml
# --------------------------------------------------------------------------------------------


class Accounts(CamelModel):
    """The platform's AWS accounts. ``data`` is optional: without it there is no DATA stack."""

    data: AccountId | None = None
    exp: AccountId
    res: AccountId
    dev: AccountId
    int_: AccountId = Field(alias="int")
    prod: AccountId

    def by_role(self) -> dict[str, str]:
        """Role -> account ID, without the absent DATA account."""
        ids = {role: getattr(self, "int_" if role == "int" else role) for role in ACCOUNT_ROLES}
        return {role: account for role, account in ids.items() if account}

    @model_validator(mode="after")
    def _distinct(self) -> Accounts:
        seen: dict[str, str] = {}
        for role, account in self.by_role().items():
            if account in seen:
                raise ValueError(f"{role} and {seen[account]} use the same account {account}")
            seen[account] = role
        return self


class GitHubSettings(CamelModel):
    """Where the platform repository lives (the OIDC trust of the CI roles pins it)."""

    repository: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")]


UserName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
ProjectName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{2,20}[a-z0-9]$")]
DataSetName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,40}$")]
ColumnName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class IdentitySettings(CamelModel):
    """How people sign in (issue: personas).

    ``iam-federation`` (default): a SAML identity provider in each account and one federated role
    per persona; the IdP passes the user's name as the session tag ``userNameTag``.
    ``identity-center``: IAM Identity Center permission sets, created by the optional ``identity``
    stack in the management or delegated-administrator account.
    """

    mode: Literal["iam-federation", "identity-center"] = "iam-federation"
    saml_provider_name: Annotated[str, Field(pattern=r"^[\w.-]{1,128}$")] = "corporate-idp"
    user_name_tag: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,127}$")] = "userName"
    identity_center_instance_arn: Annotated[str, Field(pattern=r"^arn:aws:sso:::instance/ssoins-[0-9a-f]{16}$")] | None = None
    management_account: AccountId | None = None
    """Account that runs the ``identity`` stack (management or delegated administrator)."""
    group_ids: dict[
        AnyPersona,
        Annotated[str, Field(pattern=r"^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")],
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
    type: Annotated[str, Field(pattern=r"^(string|int|bigint|double|float|boolean|date|timestamp|decimal\(\d+,\d+\))$")]
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
    location: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9/_-]*/$")]
    """Prefix of the raw data in the raw bucket, ending in ``/``."""
    columns: list[Column] = Field(min_length=1)
    sample_data: str | None = None
    """Repo-relative CSV uploaded to the raw location (the seed project's sample)."""
    curation_schedule: Annotated[str, Field(pattern=r"^cron\([^()]+\)$")] = "cron(0 3 * * ? *)"
    """When the Glue job rewrites the curated table (Glue cron expression, UTC)."""

    @model_validator(mode="after")
    def _unique_columns(self) -> DataSet:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"data set {self.name}: duplicate column names")
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

    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] | None = None
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
    retrain_schedule: Annotated[str, Field(pattern=r"^(rate|cron)\(.+\)$")] | None = "rate(7 days)"
    """EventBridge Scheduler expression that starts the build pipeline; None disables it."""
    data_access: list[DataAccess] = []
    serving: dict[Stage, ServingOverrides] = {}


class SourceControlSettings(CamelModel):
    """Where model projects keep their code (EXP). CodeCommit is closed to new AWS customers."""

    provider: Literal["codeconnections", "codecommit"] = "codeconnections"
    provider_type: Literal["GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket"] = "GitHub"
    """CodeConnections provider; the self-managed ones need ``hostEndpoint`` and ``hostCidr``."""
    host_endpoint: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?(/.*)?$")] | None = None
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


class OrganizationConfig(CamelModel):
    """Organisation-wide values shared by every stack and the serving project."""

    platform_name: ResourceName
    """Prefix of every name the platform creates, e.g. ``mlops``."""
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
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

    @model_validator(mode="after")
    def _cross_references(self) -> OrganizationConfig:
        projects = {p.name for p in self.model_projects}
        if len(projects) != len(self.model_projects):
            raise ValueError("modelProjects: project names must be unique")
        people = [p.name for p in [*self.data_scientists, *self.operators]]
        if len(set(people)) != len(people):
            raise ValueError("dataScientists/operators: user names must be unique")
        for index, person in enumerate(self.data_scientists):
            for project in person.projects:
                if project not in projects:
                    raise ValueError(f"dataScientists[{index}] ({person.name}): unknown project {project!r}")
        data_sets = {d.name: d for d in self.data_sets}
        for project in self.model_projects:
            for access in project.data_access:
                data_set = data_sets.get(access.data_set)
                if data_set is None:
                    raise ValueError(f"modelProjects ({project.name}): unknown data set {access.data_set!r}")
                known = {c.name: c for c in data_set.columns}
                for column in access.columns or []:
                    if column not in known:
                        raise ValueError(f"modelProjects ({project.name}): {access.data_set} has no column {column!r}")
                    if known[column].pii:
                        raise ValueError(f"modelProjects ({project.name}): column {access.data_set}.{column} is pii")
        if self.data_sets and not self.has_data_account:
            raise ValueError("dataSets need accounts.data (the DATA account holds the lake)")
        return self

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


# --------------------------------------------------------------------------------------------
# Pulumi.<stack>.yaml (namespace mlops:)
# --------------------------------------------------------------------------------------------


class ProviderRole(CamelModel):
    """The role the stack's ``aws.Provider`` assumes (created by ``mlops-platform bootstrap``)."""

    role_name: ResourceName | None = None
    """Defaults to ``<platformName>-deploy``."""
    session_name: Annotated[str, Field(pattern=r"^[\w+=,.@-]{2,64}$")] = "pulumi-mlops-platform"
    external_id: Annotated[str, Field(min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$")] | None = None


class BudgetSettings(CamelModel):
    monthly_limit_usd: Annotated[float, Field(gt=0)]
    alert_emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = []
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


class _MissingKey(ValueError):
    """A key every workload stack needs (reported as ``required key is missing`` on that key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class StackConfig(CamelModel):
    """The ``mlops:`` keys of one stack file."""

    role: AccountRole
    vpc_cidr: VpcCidr | None = None
    """Required for every role but ``identity`` (which has no VPC)."""
    az_ids: list[str] | None = None
    """Required for every role but ``identity``."""
    deploy_role: ProviderRole = ProviderRole()
    baseline: BaselineSettings = BaselineSettings()

    @model_validator(mode="after")
    def _network_for_workload_accounts(self) -> StackConfig:
        if self.role == IDENTITY_ROLE:
            if self.vpc_cidr or self.az_ids:
                raise ValueError("the identity stack has no VPC: remove mlops:vpcCidr and mlops:azIds")
            return self
        if self.vpc_cidr is None:
            raise _MissingKey("vpcCidr")
        if self.az_ids is None:
            raise _MissingKey("azIds")
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
    def account_id(self) -> str:
        if self.role == IDENTITY_ROLE:
            return str(self.org.identity.management_account)
        account = self.org.accounts.by_role().get(self.role)
        if account is None:  # only the DATA role can be absent
            raise ConfigError(
                ORGANIZATION_FILE, "accounts.data", "the stack has role 'data' but no data account is configured"
            )
        return account


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _format_loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return prefix + "".join(parts)


def _first_error(exc: ValidationError, source: str, prefix: str) -> ConfigError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(item for item in error["loc"] if item not in ("function-after[_cidr()]",))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key is missing"
    elif error["type"] == "literal_error":
        message = f"{error['input']!r} is not allowed: {message.lower()}"
    return ConfigError(source, _format_loc(loc, prefix), message)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path.name, "", "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(path.name, "", f"not valid YAML{where}") from None


def load_organization(root: Path = REPO_ROOT) -> OrganizationConfig:
    """Read and validate ``organization.yaml``."""
    raw = _read_yaml(root / ORGANIZATION_FILE)
    if not isinstance(raw, Mapping):
        raise ConfigError(ORGANIZATION_FILE, "", "must be a mapping of keys to values")
    try:
        return OrganizationConfig.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc, ORGANIZATION_FILE, "") from None


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def list_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Stack names from the ``Pulumi.<name>.yaml`` files at ``root``, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The ``config:`` block of a stack file, as the YAML holds it (namespaced keys)."""
    path = stack_file(stack, root)
    if not path.exists():
        raise ConfigError(path.name, "", f"no such stack file (stacks here: {', '.join(list_stacks(root)) or 'none'})")
    raw = _read_yaml(path) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(path.name, "", "must be a mapping with a 'config:' block")
    config = raw.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConfigError(path.name, "config", "must be a mapping of keys to values")
    return dict(config)


def _namespace_values(stack: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mlops:`` keys without their namespace; JSON strings (as Pulumi passes them) decoded."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != CONFIG_NAMESPACE or not name:
            continue
        if isinstance(value, Mapping) and "secure" in value:
            raise ConfigError(f"Pulumi.{stack}.yaml", key, "holds a secret; platform config must not hold secrets")
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        values[name] = value
    return values


def _check_cidr_overlap(stack: str, cidr: str, root: Path) -> None:
    """The stack's VPC must not overlap any other stack's VPC (peering and TGW need distinct ranges)."""
    own = ipaddress.IPv4Network(cidr)
    for other in list_stacks(root):
        if other == stack:
            continue
        try:
            other_cidr = _namespace_values(other, read_stack_config(other, root)).get("vpcCidr")
            other_net = ipaddress.IPv4Network(str(other_cidr))
        except (ConfigError, ValueError):
            continue  # that stack's own validation reports its problems
        if own.overlaps(other_net):
            raise ConfigError(
                f"Pulumi.{stack}.yaml", "mlops:vpcCidr", f"{cidr} overlaps {other_net} of stack '{other}'"
            )


def settings_from_config(
    stack: str, config: Mapping[str, Any], root: Path = REPO_ROOT, org: OrganizationConfig | None = None
) -> StackSettings:
    """Validate one stack's config mapping (namespaced keys, as in the stack file or PULUMI_CONFIG)."""
    source = f"Pulumi.{stack}.yaml"
    values = _namespace_values(stack, config)
    try:
        stack_config = StackConfig.model_validate(values)
    except ValidationError as exc:
        missing = next((e.get("ctx", {}).get("error") for e in exc.errors() if isinstance(e.get("ctx", {}).get("error"), _MissingKey)), None)
        if missing is not None:
            raise ConfigError(source, f"{CONFIG_NAMESPACE}:{missing.key}", "required key is missing") from None
        raise _first_error(exc, source, f"{CONFIG_NAMESPACE}:") from None
    org = org or load_organization(root)
    if stack_config.role == "data" and not org.has_data_account:
        raise ConfigError(source, "mlops:role", "is 'data' but organization.yaml has no accounts.data")
    if stack_config.role == IDENTITY_ROLE:
        if org.identity.mode != "identity-center":
            raise ConfigError(source, "mlops:role", "is 'identity' but organization.yaml identity.mode is not identity-center")
        return StackSettings(stack=stack, org=org, config=stack_config)
    _check_cidr_overlap(stack, str(stack_config.vpc_cidr), root)
    return StackSettings(stack=stack, org=org, config=stack_config)


def load_settings(stack: str, root: Path = REPO_ROOT) -> StackSettings:
    """Read, validate and cross-check one stack file and the organisation file."""
    return settings_from_config(stack, read_stack_config(stack, root), root)
