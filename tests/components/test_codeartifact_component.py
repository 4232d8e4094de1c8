"""CodeArtifact: a KMS-encrypted domain, a PyPI proxy and a team repository that uses it as upstream."""

from __future__ import annotations

import pytest

from component_helpers import ACCOUNT, KEY_ARN, REGION, only
from components.codeartifact import CodeArtifact, CodeArtifactArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration


@pytest.fixture(scope="module")
def plan() -> DeclarationPlan:
    def declare():
        artifact = CodeArtifact("ca", CodeArtifactArgs(domain_name="acme", kms_key_arn=KEY_ARN, team_repository="ml-team",
                                                       proxy_repository="pypi-mirror"))
        return {"teamRepository": artifact.team_repository}

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def repository(plan: DeclarationPlan, name: str):
    (record,) = [r for r in plan.of_type("aws:codeartifact/repository:Repository") if r.inputs["repository"] == name]
    return record


def test_domain_is_encrypted_with_the_customer_key(plan) -> None:
    domain = only(plan, "aws:codeartifact/domain:Domain")
    assert domain.inputs["encryptionKey"] == KEY_ARN, f"{domain.name}: package assets under the customer key"


def test_proxy_repository_connects_to_public_pypi(plan) -> None:
    proxy = repository(plan, "pypi-mirror")
    assert proxy.inputs["externalConnections"] == {"externalConnectionName": "public:pypi"}, f"{proxy.name}: the PyPI proxy"


def test_team_repository_has_no_external_connection(plan) -> None:
    team = repository(plan, "ml-team")
    assert "externalConnections" not in team.inputs, f"{team.name}: public packages come only through the proxy upstream"


def test_team_repository_searches_our_internal_packages_before_the_proxy(plan) -> None:
    team = repository(plan, "ml-team")
    upstreams = [u["repositoryName"] for u in team.inputs["upstreams"]]
    assert upstreams[-1] == "pypi-mirror" and upstreams.index("internal") < upstreams.index("pypi-mirror"), (
        f"{team.name}: the internal repository must come before the public proxy, got {upstreams}"
    )


def test_custom_team_repository_name_is_exported(plan) -> None:
    assert plan.outputs["teamRepository"] == "ml-team", plan.outputs
