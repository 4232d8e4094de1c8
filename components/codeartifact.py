"""A KMS-encrypted CodeArtifact domain with a PyPI proxy and a team repository.

pip in the isolated VPC cannot reach pypi.org; the ``pypi-store`` repository has the external
connection ``public:pypi`` and the team repository uses it as upstream, so ``pip install`` through
the team repository fetches (and caches) public packages and serves the team's own ones. Studio and
CodeBuild log in with ``aws codeartifact login --tool pip`` (a 12-hour token, renewed at every app
start and by the Studio lifecycle configuration's renewal loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PYPI_EXTERNAL_CONNECTION = "public:pypi"


@dataclass
class CodeArtifactArgs:
    """Inputs of :class:`CodeArtifact`."""

    domain_name: str
    """CodeArtifact domain (lowercase, e.g. ``mlops``)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for the domain's assets."""
    team_repository: str = "team"
    proxy_repository: str = "pypi-store"


class CodeArtifact(pulumi.ComponentResource):
    """Domain, PyPI proxy repository and team repository."""

    domain: aws.codeartifact.Domain
    domain_name: pulumi.Output[str]
    domain_owner: pulumi.Output[str]
    team_repository: pulumi.Output[str]
    team_repository_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CodeArtifactArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:codeartifact:CodeArtifact", name, None, opts)
        self.domain = aws.codeartifact.Domain(
            f"{name}-domain",
            aws.codeartifact.DomainArgs(domain=args.domain_name, encryption_key=args.kms_key_arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self.domain)
        proxy = aws.codeartifact.Repository(
            f"{name}-pypi-store",
            aws.codeartifact.RepositoryArgs(
                domain=self.domain.domain,
                repository=args.proxy_repository,
                description="Proxy of the public PyPI (external connection public:pypi)",
                external_connections=aws.codeartifact.RepositoryExternalConnectionsArgs(
                    external_connection_name=PYPI_EXTERNAL_CONNECTION
                ),
            ),
            opts=child,
        )
        team = aws.codeartifact.Repository(
            f"{name}-team",
            aws.codeartifact.RepositoryArgs(
                domain=self.domain.domain,
                repository=args.team_repository,
                description="Team packages; public packages through the PyPI proxy upstream",
                upstreams=[aws.codeartifact.RepositoryUpstreamArgs(repository_name=proxy.repository)],
            ),
            opts=child,
        )
        self.domain_name = self.domain.domain
        self.domain_owner = self.domain.owner
        self.team_repository = team.repository
        self.team_repository_arn = team.arn
        self.register_outputs({"domain": self.domain_name, "teamRepository": self.team_repository})
