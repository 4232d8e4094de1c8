"""EXP: both SageMaker deny guardrails, attached to every role SageMaker uses in the workspace.

The network guardrail admits only the EXP subnets, the workspace's security groups (Studio domain
and users, project jobs, the product's builds) and the SageMaker API endpoint.
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext
from accounts.exp_studio import StudioWorkspace
from components.guardrails import SageMakerGuardrails, SageMakerGuardrailsArgs
from components.model_project import ModelProject

SAGEMAKER_API = "sagemaker.api"


def build(
    context: AccountContext,
    studio: StudioWorkspace,
    projects: dict[str, ModelProject],
    product_security_group_id: pulumi.Output[str],
) -> SageMakerGuardrails:
    """The two deny policies, attached to the Studio roles and the project roles."""
    network = context.baseline.network
    guardrails = SageMakerGuardrails(
        "exp-guardrails",
        SageMakerGuardrailsArgs(
            name_prefix=context.settings.org.platform_name,
            subnet_ids=network.subnet_ids,
            security_group_ids=[
                studio.studio.domain_security_group_id,
                *studio.studio.user_security_group_ids.values(),
                *(p.security_group.id for p in projects.values()),
                product_security_group_id,
            ],
            sagemaker_api_endpoint_ids=[network.endpoint_ids[SAGEMAKER_API]],
        ),
        opts=context.opts,
    )
    guardrails.attach(studio.default_role.name, "exp-studio-default")
    for name, role in studio.user_roles.items():
        guardrails.attach(role.name, f"exp-user-{name}")
    for name, project in projects.items():
        guardrails.attach(project.role.name, f"exp-{name}-role")
    return guardrails
