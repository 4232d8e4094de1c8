"""EXP: Studio, people, CodeArtifact, source control, model projects and the "Model Building" product.

Builds, in order (one module each): the CodeArtifact domain and repositories; the git connection
(:mod:`accounts.exp_source_control`); the model projects' roles and jobs groups and the role that
forwards their new versions to the RES bus (:mod:`accounts.exp_projects`; the rest of each project
is in its own stack, :mod:`accounts.exp_project_stack`); the data scientists' execution roles and the
Studio domain (:mod:`accounts.exp_studio`); the Model Building product's key, bucket and security
group (:mod:`accounts.exp_product`); both SageMaker deny guardrails, attached to every role
SageMaker uses (:mod:`accounts.exp_guardrails`); the product itself; then the role policies (they
name the domain, endpoint and product, known only now: :mod:`accounts.exp_role_policies`), the
persona sign-in roles (:mod:`accounts.exp_people`) and, last, the product's launchers (they need
the lead persona role itself).

Returns :class:`ExpWorkspace`, what the data-access module builds on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from accounts import (
    exp_guardrails,
    exp_people,
    exp_product,
    exp_projects,
    exp_role_policies,
    exp_source_control,
    exp_studio,
)
from accounts.common import AccountContext
from components.codeartifact import CodeArtifact, CodeArtifactArgs
from components.guardrails import SageMakerGuardrails
from components.model_project import ProjectIdentity
from components.people import PersonaRole
from mlops_core import naming
from mlops_core.config import StackSettings


@dataclass
class ExpWorkspace:
    """What ``exp_data_access`` builds on.

    Every role a module adds that SageMaker uses must get both deny guardrails:
    ``workspace.guardrails.attach(role.name, "<unique-name>")``.
    """

    settings: StackSettings
    projects: dict[str, ProjectIdentity]
    """Config-driven model projects' roles and jobs groups by name (the rest is in their stacks)."""
    studio_domain_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    """Private subnets of the EXP VPC."""
    guardrails: SageMakerGuardrails
    """The two deny policies (``.policy_arns``, ``.attach(role_name, name)``)."""
    user_role_arns: dict[str, pulumi.Output[str]]
    """Studio execution role per data scientist."""
    codeartifact_domain: pulumi.Output[str]
    codeartifact_repository: pulumi.Output[str]
    connection_arn: pulumi.Output[str] | None
    """The CodeConnections connection (None with CodeCommit)."""
    codecommit_repositories: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """Project -> CodeCommit clone URL (only when source control is CodeCommit)."""


def build(context: AccountContext) -> ExpWorkspace:
    """Declare the workspace; returns what the pipeline and data-access modules need."""
    codeartifact = _codeartifact(context)
    source = exp_source_control.build(context)
    projects = exp_projects.build(context)
    studio = exp_studio.build(context, codeartifact)
    product_foundation = exp_product.build_foundation(context)
    guardrails = exp_guardrails.build(context, studio, projects.projects, product_foundation.security_group.id)
    product = exp_product.build(context, product_foundation, guardrails, source, codeartifact, projects)
    policies = exp_role_policies.policy_context(context, studio, codeartifact, product, source)
    exp_role_policies.build(context, policies, studio)
    persona_roles = exp_people.build(context, policies)
    exp_product.associate_launchers(context, product, persona_roles, studio.user_roles)
    _export(context, codeartifact, studio, guardrails, projects, persona_roles)
    return _workspace(context, codeartifact, source, projects, studio, guardrails)


def _codeartifact(context: AccountContext) -> CodeArtifact:
    """The CodeArtifact domain (the platform's name) with the team and upstream repositories."""
    return CodeArtifact(
        "exp-codeartifact",
        CodeArtifactArgs(
            domain_name=context.settings.org.platform_name, kms_key_arn=context.baseline.platform_key.arn,
            publisher_role_name=naming.package_publisher_role_name(context.settings.org),
            publisher_trusted_role_arn=naming.ci_deploy_role_arn(context.settings.org),
        ),
        opts=context.opts,
    )


def _export(
    context: AccountContext,
    codeartifact: CodeArtifact,
    studio: exp_studio.StudioWorkspace,
    guardrails: SageMakerGuardrails,
    projects: exp_projects.ModelProjects,
    persona_roles: dict[str, PersonaRole],
) -> None:
    context.exports.update(
        {
            "studioDomainId": studio.studio.domain_id,
            "codeArtifactDomain": codeartifact.domain_name,
            "codeArtifactRepository": codeartifact.team_repository,
            "packagePublisherRoleArn": codeartifact.publisher_role_arn,
            "guardrailPolicyArns": guardrails.policy_arns,
            # What the projects' stacks (exp.<project>) read: the jobs' groups and the events role.
            "projectSecurityGroupIds": {name: p.security_group.id for name, p in projects.projects.items()},
            "eventsRoleArn": projects.events_role.arn,
            "personaRoleArns": {persona: r.arn for persona, r in persona_roles.items()},
        }
    )


def _workspace(
    context: AccountContext,
    codeartifact: CodeArtifact,
    source: exp_source_control.SourceControl,
    projects: exp_projects.ModelProjects,
    studio: exp_studio.StudioWorkspace,
    guardrails: SageMakerGuardrails,
) -> ExpWorkspace:
    return ExpWorkspace(
        settings=context.settings,
        projects=dict(projects.projects),
        studio_domain_id=studio.studio.domain_id,
        subnet_ids=context.baseline.network.subnet_ids,
        guardrails=guardrails,
        user_role_arns={name: r.arn for name, r in studio.user_roles.items()},
        codeartifact_domain=codeartifact.domain_name,
        codeartifact_repository=codeartifact.team_repository,
        connection_arn=source.connection_arn,
        codecommit_repositories=source.codecommit_repositories,
    )
