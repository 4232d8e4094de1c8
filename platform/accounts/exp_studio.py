"""EXP: the Studio domain and the data scientists' execution roles.

Per data scientist an execution role (tagged with their projects, user and persona); a domain
default role without project access; the :class:`Studio` domain with a profile, security group and
JupyterLab lifecycle configuration per user who works on a project. The lifecycle script fetches the
SageMaker SDK defaults of each of the user's projects (an object per project in its bucket, declared
by the project's stack, :mod:`accounts.exp_project_stack`) and logs pip into CodeArtifact.

The roles' inline policies come later (:mod:`accounts.exp_role_policies`): they name the domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.codeartifact import CodeArtifact
from components.exp_policies import project_tags
from components.iam_documents import service_trust_policy
from components.studio import (
    SDK_CONFIG_KEY,
    CodeArtifactLogin,
    SdkConfigSource,
    Studio,
    StudioArgs,
    StudioUser,
    lifecycle_script,
)
from mlops_core import naming
from mlops_core.config import DataScientist


@dataclass
class StudioWorkspace:
    """The domain and the execution roles SageMaker uses for it."""

    studio: Studio
    user_roles: dict[str, aws.iam.Role]
    """Execution role per data scientist."""
    default_role: aws.iam.Role
    """The domain's default execution role (no project access)."""


def build(context: AccountContext, codeartifact: CodeArtifact) -> StudioWorkspace:
    """The execution roles, then the domain with one profile per data scientist on a project."""
    settings, baseline = context.settings, context.baseline
    org, network = settings.org, baseline.network
    user_roles, default_role = _execution_roles(context)
    login = pulumi.Output.all(codeartifact.domain_name, codeartifact.team_repository).apply(
        lambda v: CodeArtifactLogin(domain=v[0], domain_owner=settings.account_id, repository=v[1], region=org.region)
    )
    studio = Studio(
        "exp-studio",
        StudioArgs(
            domain_name=f"{org.platform_name}-studio",
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
            subnet_ids=network.subnet_ids,
            kms_key_arn=baseline.platform_key.arn,
            default_execution_role_arn=default_role.arn,
            users=[
                StudioUser(
                    name=p.name,
                    execution_role_arn=user_roles[p.name].arn,
                    lifecycle_script=_user_script(context, p, login),
                    tags={**project_tags(p.projects), "mlops:user": p.name},
                )
                for p in org.data_scientists
                if p.projects
            ],
            idle_timeout_minutes=org.workspace.studio_idle_timeout_minutes,
            max_idle_timeout_minutes=org.workspace.studio_max_idle_timeout_minutes,
            s3_prefix_list_id=network.s3_prefix_list_id,
        ),
        opts=context.opts,
    )
    return StudioWorkspace(studio=studio, user_roles=user_roles, default_role=default_role)


def _execution_roles(context: AccountContext) -> tuple[dict[str, aws.iam.Role], aws.iam.Role]:
    """One execution role per data scientist, and the domain's default role."""
    org, account, top = context.settings.org, context.settings.account_id, context.opts
    # aws:SourceAccount only: not every SageMaker feature that assumes an execution role sends aws:SourceArn.
    sagemaker_trust = json.dumps(service_trust_policy("sagemaker.amazonaws.com", account))
    user_roles: dict[str, aws.iam.Role] = {}
    for person in org.data_scientists:
        user_roles[person.name] = aws.iam.Role(
            f"exp-user-{person.name}",
            aws.iam.RoleArgs(
                name=naming.user_execution_role_name(org, person.name),
                description=f"Studio execution role of {person.name} ({person.persona})",
                assume_role_policy=sagemaker_trust,
                tags={
                    **project_tags(person.projects),
                    "mlops:user": person.name,
                    "mlops:persona": person.persona,
                },
            ),
            opts=top,
        )
    default_role = aws.iam.Role(
        "exp-studio-default",
        aws.iam.RoleArgs(
            name=f"{org.platform_name}-studio-default",
            description="Studio domain default execution role (no project access; every user has their own role)",
            assume_role_policy=sagemaker_trust,
        ),
        opts=top,
    )
    return user_roles, default_role


def _user_script(context: AccountContext, person: DataScientist, login: pulumi.Output[CodeArtifactLogin]) -> pulumi.Output[str]:
    """The user's lifecycle script: it fetches their projects' SDK configs, so it names none."""
    org = context.settings.org
    source = SdkConfigSource(
        user=person.name,
        region=org.region,
        account_id=context.settings.account_id,
        object_url=f"s3://{naming.bucket_name(org, context.settings.account_id, naming.project_bucket_purpose('{project}'))}/{SDK_CONFIG_KEY}",
    )
    return login.apply(lambda value: lifecycle_script(source, value))
