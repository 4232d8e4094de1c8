"""EXP: both SageMaker deny guardrails, attached to every role SageMaker uses in the workspace.

The network guardrail admits only the EXP subnets, the workspace's security groups and the SageMaker
API endpoint: the shared one the Studio domain's and the product's groups, one per user their apps'
group and their projects' jobs groups. Each project role gets its own (its jobs' group) from the
project's stack (:mod:`accounts.exp_project_stack`), with the shared encryption policy exported here.
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext
from accounts.exp_studio import StudioWorkspace
from components.guardrails import SageMakerGuardrails, SageMakerGuardrailsArgs
from components.model_project import ProjectIdentity

SAGEMAKER_API = "sagemaker.api"


def build(
    context: AccountContext,
    studio: StudioWorkspace,
    projects: dict[str, ProjectIdentity],
    product_security_group_id: pulumi.Output[str],
) -> SageMakerGuardrails:
    """The two deny policies, attached to the Studio roles (the project roles: by their stacks).

    The shared network policy admits the domain's and the product's groups; each user's role gets
    its own (the user's apps group and their projects' jobs groups), so no shared document grows
    with projects or people.
    """
    network = context.baseline.network
    org = context.settings.org
    domain_sg = studio.studio.domain_security_group_id
    guardrails = SageMakerGuardrails(
        "exp-guardrails",
        SageMakerGuardrailsArgs(
            name_prefix=org.platform_name,
            subnet_ids=network.subnet_ids,
            security_group_ids=[domain_sg, product_security_group_id],
            sagemaker_api_endpoint_ids=[network.endpoint_ids[SAGEMAKER_API]],
        ),
        opts=context.opts,
    )
    guardrails.attach(studio.default_role.name, "exp-studio-default")
    people = {person.name: person for person in org.data_scientists}
    for name, role in studio.user_roles.items():
        groups = [domain_sg, *([studio.studio.user_security_group_ids[name]] if name in studio.studio.user_security_group_ids else [])]
        groups += [projects[p].security_group.id for p in people[name].projects]
        guardrails.attach(role.name, f"exp-user-{name}", network_policy=guardrails.network_policy(f"user-{name}", groups))
    return guardrails
