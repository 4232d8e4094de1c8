"""EXP: the policies of the Studio roles.

They name the Studio domain, the SageMaker API endpoint, the CodeArtifact repository, the Model
Building product and the git connection, so they come after all of those: :func:`policy_context`
gathers them once; the persona sign-in roles use the same context. The projects' resources live in
the projects' own stacks: a user's project access names them by the naming convention
(:func:`convention_resources`), each project role's policy is declared by its project's stack.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from accounts import exp_data_access
from accounts.common import AccountContext
from accounts.exp_guardrails import SAGEMAKER_API
from accounts.exp_source_control import SourceControl
from accounts.exp_studio import StudioWorkspace
from components.codeartifact import CodeArtifact
from components.exp_policies import (
    ExpPolicyContext,
    ProjectResources,
    default_execution_role_policy,
    execution_role_base_policy,
    project_access_documents,
)
from components.service_catalog import ModelBuildingProduct
from mlops_core import naming
from mlops_core.config import DataScientist, StackSettings


def policy_context(
    context: AccountContext,
    studio: StudioWorkspace,
    codeartifact: CodeArtifact,
    product: ModelBuildingProduct | None,
    source: SourceControl,
) -> pulumi.Output[ExpPolicyContext]:
    """Everything the workspace's identity policies name, once known."""
    settings = context.settings
    org = settings.org
    connection_arn = source.connection_arn
    return pulumi.Output.all(
        studio.studio.domain_id,
        context.baseline.network.endpoint_ids[SAGEMAKER_API],
        codeartifact.domain_name,
        codeartifact.team_repository,
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
            product_ids=[v[4]] if v[4] else [],
            connection_arns=[v[5]] if v[5] else [],
            domain_key_arn=v[6],
        )
    )


def build(context: AccountContext, policies: pulumi.Output[ExpPolicyContext], studio: StudioWorkspace) -> None:
    """Per data scientist on a project an inline base policy and managed project-access policies;
    the domain default role's inline policy."""
    for person in context.settings.org.data_scientists:
        if person.projects:
            _user_policies(context, policies, studio.user_roles[person.name], person)
    aws.iam.RolePolicy(
        "exp-studio-default-policy",
        aws.iam.RolePolicyArgs(
            role=studio.default_role.id,
            name="studio-default",
            policy=policies.apply(lambda c: json.dumps(default_execution_role_policy(c))),
        ),
        opts=pulumi.ResourceOptions(parent=studio.default_role),
    )


def convention_resources(settings: StackSettings) -> dict[str, ProjectResources]:
    """The projects' resources as their names say. Key IDs are not known here (the keys live in
    the projects' stacks): ``key/*``, which the policy narrows by the key's ``mlops:project`` tag.
    A project given shared data adds its workgroup's query (:func:`exp_data_access.project_query`)."""
    org, account = settings.org, settings.account_id
    results = f"arn:aws:s3:::{naming.bucket_name(org, account, 'athena-results')}"
    queries_data = org.has_data_account and bool(org.data_sets)
    return {
        p.name: ProjectResources(
            name=p.name,
            bucket_arn=f"arn:aws:s3:::{naming.bucket_name(org, account, naming.project_bucket_purpose(p.name))}",
            key_arn=f"arn:aws:kms:{org.region}:{account}:key/*",
            model_package_group=naming.model_package_group_name(p.name),
            role_arn=naming.role_arn(account, naming.project_role_name(org, p.name)),
            query=exp_data_access.project_query(
                org, p.name, f"arn:aws:athena:{org.region}:{account}:workgroup/{naming.athena_workgroup_name(org, p.name)}", results
            ) if queries_data and p.data_access else None,
        )
        for p in org.model_projects
    }


def _user_policies(context: AccountContext, policies: pulumi.Output[ExpPolicyContext], role: aws.iam.Role, person: DataScientist) -> None:
    """The base policy inline; the project access in managed policies of at most 6,144 characters
    each, named by convention (no project's resource ID is needed), so a lead in many projects stays
    within IAM's limits. The AWS limits check reports a role that would carry more than ten."""
    settings = context.settings
    org = settings.org
    resources = convention_resources(settings)
    scope = ExpPolicyContext(org.platform_name, settings.account_id, org.region, "", "", org.identity.user_name_tag, "", "")
    documents = project_access_documents(person.persona, [resources[n] for n in person.projects], scope)
    aws.iam.RolePolicy(
        f"exp-user-{person.name}-policy",
        aws.iam.RolePolicyArgs(
            role=role.id,
            name="studio-user",
            policy=pulumi.Output.all(policies, role.arn).apply(
                lambda v: json.dumps(execution_role_base_policy(person.persona, person.name, v[1], v[0]))
            ),
        ),
        opts=pulumi.ResourceOptions(parent=role),
    )
    projects = ", ".join(sorted(person.projects))
    for index, document in enumerate(documents, start=1):
        policy = aws.iam.Policy(
            f"exp-user-{person.name}-projects-{index}",
            aws.iam.PolicyArgs(
                name=f"{org.platform_name}-user-{person.name}-projects-{index}",
                description=f"Project access of {person.name} (part {index} of {len(documents)}): {projects}"[:1000],
                policy=json.dumps(document),
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        aws.iam.RolePolicyAttachment(
            f"exp-user-{person.name}-projects-{index}-attachment",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=policy.arn),
            opts=pulumi.ResourceOptions(parent=role),
        )
