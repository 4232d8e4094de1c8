"""The release's package publisher: publishes exactly the platform's packages into ``internal``.

PublishPackageVersion and PutPackageOriginConfiguration act on package ARNs with an empty namespace for
PyPI (``package/<domain>/<repo>/pypi//<name>``), which the access engine's ARN templates cannot match, so
these two actions are checked here on the planned policy; the rest of the release is journey steps
(``package release`` in mlops_platform/access/journeys.yaml).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
import yaml

from components.codeartifact import PLATFORM_PACKAGES
from mlops_core.paths import REPO_ROOT

PUBLISH_ACTIONS = ("codeartifact:PublishPackageVersion", "codeartifact:PutPackageOriginConfiguration")
PACKAGE = "arn:aws:codeartifact:eu-central-1:222222222222:package/mlops/{repo}/pypi//{name}"


def _allowed(document: dict, action: str, resource: str) -> bool:
    return any(
        s["Effect"] == "Allow"
        and any(fnmatchcase(action, a) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
        and any(fnmatchcase(resource, r) for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]))
        for s in document["Statement"]
    )


@pytest.fixture(scope="module")
def publisher_policy(exp_plan) -> dict:
    return json.loads(exp_plan.named("exp-codeartifact-publisher-policy").inputs["policy"])


@pytest.mark.parametrize("action", PUBLISH_ACTIONS)
@pytest.mark.parametrize("package", PLATFORM_PACKAGES)
def test_the_publisher_may_publish_the_platform_packages_into_internal(publisher_policy, action, package) -> None:
    resource = PACKAGE.format(repo="internal", name=package)
    assert _allowed(publisher_policy, action, resource), f"exp-codeartifact-publisher-policy: {action} on {resource} not allowed"


@pytest.mark.parametrize("action", PUBLISH_ACTIONS)
@pytest.mark.parametrize(("repo", "name"), [("team", "mlops-platform"), ("pypi-store", "mlops-platform"), ("internal", "requests")])
def test_the_publisher_may_publish_nothing_else(publisher_policy, action, repo, name) -> None:
    resource = PACKAGE.format(repo=repo, name=name)
    assert not _allowed(publisher_policy, action, resource), f"exp-codeartifact-publisher-policy: {action} on {resource} allowed"


def test_the_checker_sees_a_wildcard_grant() -> None:
    wide = {"Statement": [{"Effect": "Allow", "Action": "codeartifact:*", "Resource": "*"}]}
    assert _allowed(wide, PUBLISH_ACTIONS[0], PACKAGE.format(repo="team", name="x"))


def test_only_the_ci_deploy_identity_may_assume_the_publisher(exp_plan) -> None:
    role = exp_plan.named("exp-codeartifact-publisher")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    conditions = [s["Condition"]["ArnEquals"]["aws:PrincipalArn"] for s in trust["Statement"]]
    assert conditions == ["arn:aws:iam::333333333333:role/mlops-deploy"], f"{role.urn}: trusted by {conditions}"


def test_the_deploy_workflow_publishes_after_exp_as_the_publisher() -> None:
    workflow = yaml.safe_load((REPO_ROOT / ".github/workflows/deploy.yml").read_text())
    job = workflow["jobs"]["publish-packages"]
    assert job["needs"] == ["exp"], f"deploy.yml publish-packages: needs {job['needs']}, not the EXP deploy"
    steps = job["steps"]
    chained = [s for s in steps if s.get("with", {}).get("role-to-assume") == "${{ vars.AWS_PACKAGE_PUBLISHER_ROLE_ARN }}"]
    assert chained and chained[0]["with"].get("role-chaining") is True, "deploy.yml publish-packages: does not chain into the publisher role"
    runs = [s.get("run", "") for s in steps]
    assert any("images/publish_packages.py" in r for r in runs), "deploy.yml publish-packages: does not run images/publish_packages.py"
