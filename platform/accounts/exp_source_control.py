"""EXP: the git connection the model projects and the Model Building product's builds use.

CodeConnections by default (a ``Host`` in the EXP VPC for a self-managed server), or one CodeCommit
repository per config-driven model project when ``workspace.sourceControl.provider`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from mlops_core import naming

#: Public hosts of the CodeConnections cloud providers (self-managed ones come from config).
PROVIDER_HOSTS = {"GitHub": "https://github.com", "GitLab": "https://gitlab.com", "Bitbucket": "https://bitbucket.org"}


@dataclass
class SourceControl:
    """What the product template and the workspace need of the git connection."""

    connection_arn: pulumi.Output[str] | None
    """The CodeConnections connection (None with CodeCommit)."""
    provider_type: str
    """CodeConnections provider type (``GitHub``, ``GitLabSelfManaged``...)."""
    repository_host: str
    """Where the product's repositories live (the self-managed server or the provider's public host)."""
    codecommit_repositories: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """Project -> CodeCommit clone URL (only when source control is CodeCommit)."""


def build(context: AccountContext) -> SourceControl:
    """The CodeConnections connection (and host), or the CodeCommit repositories."""
    source = context.settings.org.workspace.source_control
    control = SourceControl(
        connection_arn=None,
        provider_type=source.provider_type,
        repository_host=source.host_endpoint or PROVIDER_HOSTS.get(source.provider_type, "https://github.com"),
    )
    if source.provider == "codeconnections":
        control.connection_arn = _connection(context)
    else:
        control.codecommit_repositories = _codecommit_repositories(context)
    return control


def _connection(context: AccountContext) -> pulumi.Output[str]:
    org, network, top = context.settings.org, context.baseline.network, context.opts
    source, prefix = org.workspace.source_control, org.platform_name
    host_arn = None
    if source.host_endpoint:
        host_sg = aws.ec2.SecurityGroup(
            "exp-git-host-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=network.vpc_id,
                description="CodeConnections host: HTTPS to the self-managed git server",
                egress=[aws.ec2.SecurityGroupEgressArgs(description="git server", protocol="tcp", from_port=443, to_port=443, cidr_blocks=[source.host_cidr])],
            ),
            opts=top,
        )
        host_arn = aws.codeconnections.Host(
            "exp-git-host",
            aws.codeconnections.HostArgs(
                name=f"{prefix}-git",
                provider_type=source.provider_type,
                provider_endpoint=source.host_endpoint,
                vpc_configuration=aws.codeconnections.HostVpcConfigurationArgs(
                    vpc_id=network.vpc_id, subnet_ids=network.subnet_ids, security_group_ids=[host_sg.id]
                ),
            ),
            opts=top,
        ).arn
    connection = aws.codeconnections.Connection(
        "exp-git-connection",
        aws.codeconnections.ConnectionArgs(
            name=f"{prefix}-git",
            provider_type=None if host_arn is not None else source.provider_type,
            host_arn=host_arn,
        ),
        opts=top,
    )
    context.exports["gitConnectionArn"] = connection.arn
    context.exports["gitConnectionName"] = f"{prefix}-git"
    return connection.arn


def _codecommit_repositories(context: AccountContext) -> dict[str, pulumi.Output[str]]:
    org = context.settings.org
    repositories: dict[str, pulumi.Output[str]] = {}
    for project in org.model_projects:
        repo = aws.codecommit.Repository(
            f"exp-{project.name}-repo",
            aws.codecommit.RepositoryArgs(
                repository_name=f"{org.platform_name}-{project.name}",
                description=project.description or project.name,
                kms_key_id=context.baseline.platform_key.arn,
                tags={naming.PROJECT_TAG_KEY: project.name},
            ),
            opts=context.opts,
        )
        repositories[project.name] = repo.clone_url_http
    return repositories
