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
release sets the package origin control ``publish=ALLOW, upstream=BLOCK`` for our names in ``internal``.
The release runs as the package publisher role (``<platform>-package-publisher``), which may publish
exactly those names into ``internal`` and nothing else; the deploy workflow's ``publish-packages``
job chains into it from the CI deploy identity.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from components.iam_role import role_with_policy
from mlops_core import naming

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
    publisher_role_name: str | None = None
    """IAM name of the release's package publisher role; none without ``publisher_trusted_role_arn``."""
    publisher_trusted_role_arn: str | None = None
    """The one role that may assume the publisher: the CI deploy identity the release job holds."""


def package_arn(repository_arn: str, package: str) -> str:
    """ARN of a PyPI package (no namespace: the empty segment) in the repository ``repository_arn``."""
    return repository_arn.replace(":repository/", ":package/", 1) + f"/pypi//{package}"


def publisher_policy(domain_arn: str, internal_repository_arn: str, packages: tuple[str, ...] = PLATFORM_PACKAGES) -> dict[str, Any]:
    """Publish ``packages`` into the internal repository and set their origin control; nothing else (pure)."""
    return policy_document(
        [
            statement("TokenForTheDomain", ["codeartifact:GetAuthorizationToken"], domain_arn),
            statement(
                "CodeArtifactBearerToken",
                ["sts:GetServiceBearerToken"],
                "*",
                condition={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
            ),
            statement("InternalRepositoryEndpoint", ["codeartifact:GetRepositoryEndpoint"], internal_repository_arn),
            statement(
                "PublishThePlatformPackages",
                ["codeartifact:PublishPackageVersion", "codeartifact:PutPackageOriginConfiguration"],
                [package_arn(internal_repository_arn, p) for p in packages],
            ),
        ]
    )


def publisher_trust_policy(trusted_role_arn: str) -> dict[str, Any]:
    """Only ``trusted_role_arn`` may assume the publisher (account root with ``aws:PrincipalArn``, pure)."""
    account = trusted_role_arn.split(":")[4]
    return policy_document(
        [
            statement(
                "ReleaseJobOnly",
                ["sts:AssumeRole"],
                None,
                principal={"AWS": naming.account_root(account)},
                condition={"ArnEquals": {"aws:PrincipalArn": trusted_role_arn}},
            )
        ]
    )


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
        self.publisher_role_arn: pulumi.Output[str] | None = None
        if args.publisher_role_name and args.publisher_trusted_role_arn:
            publisher = role_with_policy(
                f"{name}-publisher",
                role_name=args.publisher_role_name,
                description="Release: publishes the platform's own packages into the internal repository",
                trust_policy=publisher_trust_policy(args.publisher_trusted_role_arn),
                policy=pulumi.Output.all(self.domain.arn, internal.arn).apply(lambda a: publisher_policy(a[0], a[1])),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.publisher_role_arn = publisher.role.arn
        self.register_outputs(
            {"domain": self.domain_name, "teamRepository": self.team_repository, "internalRepository": self.internal_repository,
             "publisherRoleArn": self.publisher_role_arn}
        )
