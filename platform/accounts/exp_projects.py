"""EXP: the config-driven model projects and the role that forwards their new versions to RES.

Per ``modelProjects`` entry one :class:`ModelProject` (key, artifacts bucket, package group and its
policy, project role, job security group, new-version rule to the RES bus). Project names must not
start with the Model Building product's prefix: the two paths never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.model_project import ModelProject, ModelProjectArgs
from components.service_catalog import PRODUCT_PREFIX
from mlops_core import naming
from mlops_core.config import ModelProject as ProjectConfig
from mlops_core.config import OrganizationConfig


@dataclass
class ModelProjects:
    """The projects by name, and the event wiring to RES that the product's template reuses."""

    projects: dict[str, ModelProject]
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
    """The events role first (every project's rule uses it), then one ModelProject per entry."""
    org = context.settings.org
    for project in org.model_projects:
        if project.name.startswith(PRODUCT_PREFIX):  # the two paths must never collide
            raise pulumi.RunError(
                f"organization.yaml: modelProjects: {project.name!r} starts with {PRODUCT_PREFIX!r}, "
                "which is reserved for projects made by the Model Building product"
            )
    bus_arn = naming.event_bus_arn(org)
    events_role = _events_role(context, bus_arn)
    projects = {project.name: _project(context, project, bus_arn, events_role) for project in org.model_projects}
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


def _project(context: AccountContext, project: ProjectConfig, bus_arn: str, events_role: aws.iam.Role) -> ModelProject:
    settings, baseline = context.settings, context.baseline
    org, account = settings.org, settings.account_id
    network = baseline.network
    return ModelProject(
        f"exp-{project.name}",
        ModelProjectArgs(
            project=project.name,
            description=project.description,
            platform_name=org.platform_name,
            account_id=account,
            region=org.region,
            model_package_group=naming.model_package_group_name(project.name),
            bucket_name=naming.bucket_name(org, account, naming.project_bucket_purpose(project.name)),
            access_log_bucket=baseline.access_logs.name,
            role_name=naming.project_role_name(org, project.name),
            key_alias=naming.kms_alias(org, f"project-{project.name}"),
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
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
            event_bus_arn=bus_arn,
            events_role_arn=events_role.arn,
            s3_prefix_list_id=network.s3_prefix_list_id,
        ),
        opts=context.opts,
    )
