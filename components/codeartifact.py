"""A KMS-encrypted CodeArtifact domain with a PyPI proxy, an internal and a team repository.

pip in the isolated VPC cannot reach pypi.org; the ``pypi-store`` repository has the external
connection ``public:pypi``, and the team repository uses it as upstream, so ``pip install`` through
the team repository fetches (and caches) public packages. Studio and CodeBuild log in with ``aws
codeartifact login --tool pip`` (a 12-hour token, renewed at every app start and by the Studio
lifecycle configuration's renewal loop).

The platform's own packages (``mlops-platform``, which carries ``mlops_pipelines``) live in the
``internal`` repository: no upstream, no external connection, published by the release
(``images/publish_packages.py``). Through a repository with the public upstream, a same-named
package on pypi.org with a higher version could win (dependency confusion), so the Model Building
product's build installs our packages from ``internal`` alone, pinned, before anything else
(``components/service_catalog.py``); the team repository searches ``internal`` first, and the
release also sets the package origin control ``upstream=BLOCK`` for our names there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PYPI_EXTERNAL_CONNECTION = "public:pypi"
#: Distributions the platform publishes itself; never resolved through the public upstream.
PLATFORM_PACKAGES = ("mlops-platform",)


@dataclass
class CodeArtifactArgs:
    """Inputs of :class:`CodeArtifact`."""

    domain_name: str
    """CodeArtifact domain (lowercase, e.g. ``mlops``)."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for the domain's assets."""
    team_repository: str = "team"
    proxy_repository: str = "pypi-store"
    internal_repository: str = "internal"
    """The platform's own packages only: no upstream, no external connection."""


class CodeArtifact(pulumi.ComponentResource):
    """Domain, PyPI proxy repository and team repository."""

    domain: aws.codeartifact.Domain
    domain_name: pulumi.Output[str]
    domain_owner: pulumi.Output[str]
    team_repository: pulumi.Output[str]
    team_repository_arn: pulumi.Output[str]
    internal_repository: pulumi.Output[str]

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
        internal = aws.codeartifact.Repository(
            f"{name}-internal",
            aws.codeartifact.RepositoryArgs(
                domain=self.domain.domain,
                repository=args.internal_repository,
                description=f"The platform's own packages ({', '.join(PLATFORM_PACKAGES)}); no upstream",
            ),
            opts=child,
        )
        team = aws.codeartifact.Repository(
            f"{name}-team",
            aws.codeartifact.RepositoryArgs(
                domain=self.domain.domain,
                repository=args.team_repository,
                description="Team packages; the platform's first (internal), public ones through the PyPI proxy",
                # Search order: internal before the public proxy.
                upstreams=[
                    aws.codeartifact.RepositoryUpstreamArgs(repository_name=internal.repository),
                    aws.codeartifact.RepositoryUpstreamArgs(repository_name=proxy.repository),
                ],
            ),
            opts=child,
        )
        self.domain_name = self.domain.domain
        self.domain_owner = self.domain.owner
        self.team_repository = team.repository
        self.team_repository_arn = team.arn
        self.internal_repository = internal.repository
        self.register_outputs(
            {"domain": self.domain_name, "teamRepository": self.team_repository, "internalRepository": self.internal_repository}
        )
