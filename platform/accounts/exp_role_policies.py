"""EXP: the inline policies of the Studio and project roles.

They name the Studio domain, the SageMaker API endpoint, the CodeArtifact repository, the projects'
resources, the Model Building product and the git connection, so they come after all of those:
:func:`policy_context` gathers them once; the persona sign-in roles use the same context.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from accounts.exp_guardrails import SAGEMAKER_API
from accounts.exp_source_control import SourceControl
from accounts.exp_studio import StudioWorkspace
from components.codeartifact import CodeArtifact
from components.exp_policies import (
    ExpPolicyContext,
    default_execution_role_policy,
    execution_role_policy,
    project_role_policy,
)
from components.model_project import ModelProject
from components.service_catalog import ModelBuildingProduct


def policy_context(
    context: AccountContext,
    studio: StudioWorkspace,
    codeartifact: CodeArtifact,
    projects: dict[str, ModelProject],
    product: ModelBuildingProduct | None,
    source: SourceControl,
) -> pulumi.Output[ExpPolicyContext]:
    """Everything the workspace's identity policies name, once known."""
    settings = context.settings
    org = settings.org
    project_resources = {name: p.resources for name, p in projects.items()}
    connection_arn = source.connection_arn
    return pulumi.Output.all(
        studio.studio.domain_id,
        context.baseline.network.endpoint_ids[SAGEMAKER_API],
        codeartifact.domain_name,
        codeartifact.team_repository,
        pulumi.Output.all(**project_resources) if project_resources else {},
        product.product.id if product is not None else "",
        connection_arn if connection_arn is not None else "",
        context.baseline.platform_key.arn,
    ).apply(
        lambda v: ExpPolicyContext(
            platform_name=org.platform_name,
            account_id=settings.account_id,
            region=org.region,
            domain_id=v[0],
            sagemaker_api_endpoint_id=v[1],
            user_name_tag=org.identity.user_name_tag,
            codeartifact_domain=v[2],
            codeartifact_repository=v[3],
            projects=dict(v[4]),
            product_ids=[v[5]] if v[5] else [],
            connection_arns=[v[6]] if v[6] else [],
            domain_key_arn=v[7],
        )
    )


def build(
    context: AccountContext,
    policies: pulumi.Output[ExpPolicyContext],
    studio: StudioWorkspace,
    projects: dict[str, ModelProject],
) -> None:
    """One inline policy per data scientist on a project, the domain default role and each project role."""
    user_roles = studio.user_roles
    for person in context.settings.org.data_scientists:
        if not person.projects:
            continue
        aws.iam.RolePolicy(
            f"exp-user-{person.name}-policy",
            aws.iam.RolePolicyArgs(
                role=user_roles[person.name].id,
                name="studio-user",
                policy=pulumi.Output.all(policies, user_roles[person.name].arn).apply(
                    lambda v, person=person: json.dumps(
                        execution_role_policy(person.persona, person.name, v[1], [v[0].projects[n] for n in person.projects], v[0])
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=user_roles[person.name]),
        )
    aws.iam.RolePolicy(
        "exp-studio-default-policy",
        aws.iam.RolePolicyArgs(
            role=studio.default_role.id,
            name="studio-default",
            policy=policies.apply(lambda c: json.dumps(default_execution_role_policy(c))),
        ),
        opts=pulumi.ResourceOptions(parent=studio.default_role),
    )
    for name, project in projects.items():
        aws.iam.RolePolicy(
            f"exp-{name}-role-policy",
            aws.iam.RolePolicyArgs(
                role=project.role.id,
                name="project",
                policy=policies.apply(lambda c, name=name: json.dumps(project_role_policy(c.projects[name], c))),
            ),
            opts=pulumi.ResourceOptions(parent=project.role),
        )
