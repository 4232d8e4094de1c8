"""Naming conventions shared by every stack, the serving project, bootstrap and the policies.

Cross-account references are derived from configuration by these rules, so no stack needs another
to exist first (a StackReference carries one-way outputs only).
"""

from __future__ import annotations

from mlops_core.config import OrganizationConfig, StackSettings

#: Tag on the access-log bucket: SSE-S3 and no logging to itself, as S3 log delivery requires.
ACCESS_LOG_BUCKET_TAG = ("mlops:access-log-bucket", "true")
#: Tag on the platform's own deploy/bootstrap roles; exempt from some IAM rules only together with
#: a permissions boundary (see policies/EXCEPTIONS.md).
GUARDRAIL_EXEMPTION_TAG = ("mlops:guardrail-exemption", "platform-deploy")
#: Tag key naming a model project on every role and resource of that project.
PROJECT_TAG_KEY = "mlops:project"

MAX_BUCKET_NAME = 63
#: Purpose part of the names of the Pulumi state bucket and its key in RES (made by bootstrap).
STATE_PURPOSE = "pulumi-state"


def role_arn(account_id: str, role_name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{role_name}"


def account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def deploy_role_name(org: OrganizationConfig) -> str:
    """The default name of the role each stack's provider assumes (``mlops-platform bootstrap`` creates it).

    Inside a stack use :func:`stack_deploy_role_name`: a stack may name another role.
    """
    return f"{org.platform_name}-deploy"


def stack_deploy_role_name(settings: StackSettings) -> str:
    """The role this stack's provider assumes: ``mlops:deployRole.roleName`` or the default.

    The one source for every place a stack names its own deploy role (the provider, Lake Formation
    admins, key users, DATA_LOCATION grants, bucket-policy exemptions): with an override, a place
    that used the default would lock the stack's own role out.
    """
    return settings.config.deploy_role.role_name or deploy_role_name(settings.org)


def stack_deploy_role_arn(settings: StackSettings) -> str:
    """ARN of :func:`stack_deploy_role_name` in the stack's account."""
    return role_arn(settings.account_id, stack_deploy_role_name(settings))


def ci_deploy_role_arn(org: OrganizationConfig) -> str:
    """The CI deploy identity: ``<p>-deploy`` in RES, which the deploy workflow's jobs assume through OIDC."""
    return role_arn(org.accounts.res, deploy_role_name(org))


def package_publisher_role_name(org: OrganizationConfig) -> str:
    """The EXP role the release assumes to publish the platform's packages to CodeArtifact."""
    return f"{org.platform_name}-package-publisher"


def preview_role_name(org: OrganizationConfig) -> str:
    """The read-only role pull-request previews assume."""
    return f"{org.platform_name}-preview"


def deploy_boundary_name(org: OrganizationConfig) -> str:
    """The permissions boundary the deploy role carries."""
    return f"{org.platform_name}-deploy-boundary"


def bucket_name(org: OrganizationConfig, account_id: str, purpose: str) -> str:
    """Globally unique bucket name: ``<platform>-<purpose>-<account>-<region>``."""
    name = f"{org.platform_name}-{purpose}-{account_id}-{org.region}"
    if len(name) > MAX_BUCKET_NAME:
        raise ValueError(f"bucket name {name!r} exceeds {MAX_BUCKET_NAME} characters; shorten platformName or the purpose")
    return name


def kms_alias(org: OrganizationConfig, purpose: str) -> str:
    return f"alias/{org.platform_name}-{purpose}"


#: Purpose part of the name of the audit archive bucket and its key in ``accounts.logArchive``.
AUDIT_ARCHIVE_PURPOSE = "audit-archive"


def audit_archive_bucket_name(org: OrganizationConfig) -> str | None:
    """The Object-Locked archive bucket every account's CloudTrail delivers to; None without ``accounts.logArchive``."""
    account = org.accounts.log_archive
    return bucket_name(org, account, AUDIT_ARCHIVE_PURPOSE) if account else None


#: Purpose part of the name of each account's AWS Config bucket (no Object Lock: AWS Config refuses it).
CONFIG_PURPOSE = "config"
#: Purpose part of the name of the archive's AWS Config bucket in ``accounts.logArchive``.
CONFIG_ARCHIVE_PURPOSE = "config-archive"


def config_archive_bucket_name(org: OrganizationConfig) -> str | None:
    """The archive bucket every account's AWS Config delivers to; None without ``accounts.logArchive``."""
    account = org.accounts.log_archive
    return bucket_name(org, account, CONFIG_ARCHIVE_PURPOSE) if account else None


def audit_archive_key_alias_arn(org: OrganizationConfig) -> str | None:
    """The archive key by its alias ARN (the key ARN holds a random id no other stack can know).

    CloudTrail's ``KmsKeyId`` and AWS Config's ``s3KmsKeyArn`` both take an alias ARN (CloudTrail API
    reference, UpdateTrail/CreateTrail KmsKeyId; AWS Config Developer Guide, "Managing the Delivery Channel":
    "You can provide an AWS KMS key or alias Amazon Resource Name (ARN)"). None without ``accounts.logArchive``.
    """
    account = org.accounts.log_archive
    if not account:
        return None
    return f"arn:aws:kms:{org.region}:{account}:{kms_alias(org, AUDIT_ARCHIVE_PURPOSE)}"


def stack_reference_name(project: str, stack: str, organization: str = "organization") -> str:
    """Fully qualified stack name as a DIY backend spells it (Pulumi Cloud uses the real org)."""
    return f"{organization}/{project}/{stack}"


# ---- EXP: people, projects, registry ---------------------------------------------------------------

def persona_role_name(org: OrganizationConfig, persona: str) -> str:
    """Federated sign-in role of a persona, in every account that persona uses."""
    return f"{org.platform_name}-persona-{persona.replace('_', '-')}"


def user_execution_role_name(org: OrganizationConfig, user: str) -> str:
    """A data scientist's own Studio execution role in EXP."""
    return f"{org.platform_name}-user-{user}"


def project_role_name(org: OrganizationConfig, project: str) -> str:
    """The project role in EXP: runs the project's SageMaker pipeline and jobs; Lake Formation grants go here."""
    return f"{org.platform_name}-project-{project}"


def project_build_role_name(org: OrganizationConfig, project: str) -> str:
    """CodeBuild role that tests and upserts a project's pipeline."""
    return f"{org.platform_name}-project-{project}-build"


def model_package_group_name(project: str, product_made: bool = False) -> str:
    """Config-driven projects use their name; projects made by the Service Catalog product get ``sc-``."""
    return f"sc-{project}" if product_made else project


def project_bucket_purpose(project: str) -> str:
    return f"{project}-art"


# ---- RES: events and promotion ------------------------------------------------------------------


def event_bus_name(org: OrganizationConfig) -> str:
    """The central bus in RES that receives new-model-version events from EXP."""
    return f"{org.platform_name}-models"


def event_bus_arn(org: OrganizationConfig) -> str:
    return f"arn:aws:events:{org.region}:{org.accounts.res}:event-bus/{event_bus_name(org)}"


def events_forwarder_role_name(org: OrganizationConfig) -> str:
    """Role EventBridge in EXP uses to put events on the RES bus."""
    return f"{org.platform_name}-events-to-res"


def deploy_pipeline_name(org: OrganizationConfig, model_package_group: str) -> str:
    """RES CodePipeline that promotes a project's model versions (found by the trigger by this rule)."""
    return f"{org.platform_name}-deploy-{model_package_group}"


def serving_deployer_role_name(org: OrganizationConfig) -> str:
    """RES CodeBuild role that runs ``mlops-platform deploy model``."""
    return f"{org.platform_name}-serving-deployer"


# ---- DEV / INT / PROD: serving ------------------------------------------------------------------


def stage_deployment_role_name(org: OrganizationConfig) -> str:
    """Role in each stage account that the RES serving deployer assumes; scoped to serving resources."""
    return f"{org.platform_name}-serving-deploy"


def serving_role_name(org: OrganizationConfig, project: str, purpose: str) -> str:
    """Roles a serving stack uses, created by the platform stage stack: model, api, batch, monitor."""
    return f"{org.platform_name}-serving-{project}-{purpose}"


def endpoint_name(org: OrganizationConfig, project: str, stage: str) -> str:
    name = f"{org.platform_name}-{project}-{stage}"
    if len(name) > 63:
        raise ValueError(f"endpoint name {name!r} exceeds SageMaker's 63 characters")
    return name


def serving_stack_name(project: str, stage: str) -> str:
    return f"{project}-{stage}"


# ---- DATA ----------------------------------------------------------------------------------------


def data_etl_role_name(org: OrganizationConfig) -> str:
    return f"{org.platform_name}-data-etl"


def lakeformation_registration_role_name(org: OrganizationConfig) -> str:
    return f"{org.platform_name}-lakeformation-registration"


def data_key_purpose() -> str:
    """KMS alias purpose of the DATA account's lake key (buckets, catalog, HMAC secret, Glue)."""
    return "data"


def data_bucket_purpose(zone: str) -> str:
    """Bucket purpose of a lake zone (``raw``, ``curated``) or the ETL assets (``etl``) in DATA."""
    return f"lake-{zone}"


def data_database_name(org: OrganizationConfig, data_set: str) -> str:
    """Glue database of one data set in DATA (raw and curated tables). Glue/Athena names: no hyphens."""
    return f"{org.platform_name.replace('-', '_')}_{data_set}"


def raw_table_name(data_set: str) -> str:
    return f"{data_set}_raw"


def curated_table_name(data_set: str) -> str:
    """The curated (pseudonymised) table: the only table granted to projects."""
    return f"{data_set}_curated"


def shared_database_link_name(org: OrganizationConfig, data_set: str) -> str:
    """Resource link in EXP's catalog pointing at the data set's database in DATA (query through it)."""
    return f"{data_database_name(org, data_set)}_shared"


def data_cells_filter_name(project: str, data_set: str) -> str:
    """Lake Formation data cells filter carrying a project's row filter on a curated table."""
    return f"{project.replace('-', '_')}_{data_set}"


def athena_workgroup_name(org: OrganizationConfig, project: str) -> str:
    """A project's Athena workgroup in EXP: enforced, KMS-encrypted results under the project's own prefix."""
    return f"{org.platform_name}-data-{project}"


def curation_job_name(org: OrganizationConfig, data_set: str) -> str:
    """Glue ETL job in DATA writing a data set's curated table."""
    return f"{org.platform_name}-curate-{data_set.replace('_', '-')}"


def hmac_secret_name(org: OrganizationConfig) -> str:
    """Secrets Manager secret in DATA holding the pseudonymisation HMAC key."""
    return f"{org.platform_name}/data/pseudonymisation-hmac-key"


# ---- RES: registry, release pipeline and approvals (issue 6) -------------------------------------


def image_repository_name(org: OrganizationConfig, image: str, quarantine: bool = False) -> str:
    """ECR repository of a platform image (``deploy``, ``inference``); new builds land in quarantine first."""
    return f"{org.platform_name}/{'quarantine/' if quarantine else ''}{image}"


def image_uri(org: OrganizationConfig, image: str, tag: str) -> str:
    """A released platform image in the RES registry."""
    return f"{org.accounts.res}.dkr.ecr.{org.region}.amazonaws.com/{image_repository_name(org, image)}:{tag}"


def image_pipeline_role_name(org: OrganizationConfig) -> str:
    """RES CodeBuild role of the image pipeline: the only principal that pushes platform images."""
    return f"{org.platform_name}-image-builder"


def release_pipeline_role_name(org: OrganizationConfig) -> str:
    """RES CodePipeline service role of the deploy (promotion) pipelines."""
    return f"{org.platform_name}-release-pipeline"


def model_trigger_function_name(org: OrganizationConfig) -> str:
    return f"{org.platform_name}-model-trigger"


def release_approver_role_name(org: OrganizationConfig, stage: str) -> str:
    """RES sign-in role that approves the promotion into ``stage`` (int or prod)."""
    return f"{org.platform_name}-release-approver-{stage}"


def stage_deployment_boundary_name(org: OrganizationConfig) -> str:
    """Permissions boundary of the stage deployment role."""
    return f"{org.platform_name}-serving-deploy-boundary"


def model_build_pipeline_name(org: OrganizationConfig, project: str) -> str:
    """A config-driven project's SageMaker model build pipeline in EXP (inside the ``ProjectPipelines`` grant)."""
    return f"{org.platform_name}-{project}-build"
