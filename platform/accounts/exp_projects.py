"""EXP: the config-driven model projects' identities and the role that forwards new versions to RES.

Per ``modelProjects`` entry one :class:`ProjectIdentity` (project role, jobs security group): the
people's roles, guardrails and grants of this stack name them. The rest of a project (key, bucket,
registry group, pipeline, workgroup) lives in its own stack ``exp.<project>``
(:mod:`accounts.exp_project_stack`), so this stack does not grow with each project's resources.
Project names must not start with the Model Building product's prefix: the two paths never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.model_project import ModelProjectArgs, ProjectIdentity, ProjectIdentityArgs
from components.service_catalog import PRODUCT_PREFIX
from mlops_core import naming
from mlops_core.config import ModelProject as ProjectConfig
from mlops_core.config import OrganizationConfig, StackSettings


@dataclass
class ModelProjects:
    """The projects by name, and the event wiring to RES that the product's template reuses."""

    projects: dict[str, ProjectIdentity]
    events_role: aws.iam.Role
    """EventBridge's role for the cross-account PutEvents onto the RES bus."""
    event_bus_arn: str


def stage_accounts(org: OrganizationConfig) -> list[str]:
    """DEV, INT and PROD: where the serving roles that read EXP's artifacts live."""
    return [org.accounts.dev, org.accounts.int_, org.accounts.prod]


def reader_role_patterns(org: OrganizationConfig, project: str) -> dict[str, list[str]]:
    """Account -> role ARN patterns that read a project's artifacts: the stage accounts' serving and
    deployment roles, and the RES serving deployer. ``project`` may be a pattern (``sc-*``)."""
    patterns = {
        account: [
            naming.role_arn(account, naming.serving_role_name(org, project, "*")),
            naming.role_arn(account, naming.stage_deployment_role_name(org)),
        ]
        for account in stage_accounts(org)
    }
    patterns[org.accounts.res] = [naming.role_arn(org.accounts.res, naming.serving_deployer_role_name(org))]
    return patterns


def build(context: AccountContext) -> ModelProjects:
    """The events role first (every project's rule uses it), then one ProjectIdentity per entry."""
    org = context.settings.org
    for project in org.model_projects:
        if project.name.startswith(PRODUCT_PREFIX):  # the two paths must never collide
            raise pulumi.RunError(
                f"organization.yaml: modelProjects: {project.name!r} starts with {PRODUCT_PREFIX!r}, "
                "which is reserved for projects made by the Model Building product"
            )
    bus_arn = naming.event_bus_arn(org)
    events_role = _events_role(context, bus_arn)
    projects = {project.name: _project(context, project) for project in org.model_projects}
    return ModelProjects(projects=projects, events_role=events_role, event_bus_arn=bus_arn)


def _events_role(context: AccountContext, bus_arn: str) -> aws.iam.Role:
    """New-version events to RES: EventBridge in EXP may put events on the RES bus, nothing else."""
    org, account, region = context.settings.org, context.settings.account_id, context.settings.org.region
    return role_with_policy(
        "exp-events-to-res",
        role_name=naming.events_forwarder_role_name(org),
        description="EventBridge forwards new model versions to the RES bus",
        trust_policy=service_trust_policy("events.amazonaws.com", account, f"arn:aws:events:{region}:{account}:rule/*"),
        policy_name="put-events-on-res-bus",
        policy=policy_document([statement("PutEventsOnResBus", ["events:PutEvents"], bus_arn)]),
        opts=context.opts,
    ).role


def _project(context: AccountContext, project: ProjectConfig) -> ProjectIdentity:
    settings, network = context.settings, context.baseline.network
    name = f"exp-{project.name}"
    return ProjectIdentity(
        name,
        ProjectIdentityArgs(
            project=project.name,
            account_id=settings.account_id,
            role_name=naming.project_role_name(settings.org, project.name),
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
            s3_prefix_list_id=network.s3_prefix_list_id,
        ),
        opts=context.opts,
    )


def model_project_args(settings: StackSettings, project: ProjectConfig, access_log_bucket: pulumi.Input[str],
                       events_role_arn: pulumi.Input[str]) -> ModelProjectArgs:
    """The inputs of a project's :class:`ModelProject` (in its own stack), by the naming convention."""
    org, account = settings.org, settings.account_id
    return ModelProjectArgs(
        project=project.name,
        description=project.description,
        platform_name=org.platform_name,
        account_id=account,
        region=org.region,
        model_package_group=naming.model_package_group_name(project.name),
        bucket_name=naming.bucket_name(org, account, naming.project_bucket_purpose(project.name)),
        access_log_bucket=access_log_bucket,
        role_arn=naming.role_arn(account, naming.project_role_name(org, project.name)),
        key_alias=naming.kms_alias(org, f"project-{project.name}"),
        res_account_id=org.accounts.res,
        stage_account_ids=stage_accounts(org),
        reader_role_patterns=reader_role_patterns(org, project.name),
        exempt_principal_arns=[
            naming.stack_deploy_role_arn(settings),
            naming.role_arn(account, naming.project_build_role_name(org, project.name)),
        ],
        member_role_arns=[
            naming.role_arn(account, naming.user_execution_role_name(org, member.name))
            for member in org.members(project.name)
        ],
        event_bus_arn=naming.event_bus_arn(org),
        events_role_arn=events_role_arn,
    )
