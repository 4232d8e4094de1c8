"""IAM documents of the release path are usable as written (policy_sentry's IAM database):

* every action exists;
* an action scoped to named resources supports resource-level permissions (otherwise IAM evaluates
  it against '*' and the statement silently grants nothing);
* everything the stage deployment role is granted is inside its permissions boundary (the
  effective permissions are the intersection).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache

import pytest
from policy_sentry.querying.actions import get_action_data

from components.deployment_product import launch_role_policy, product_pipeline_role_policy
from components.image_pipeline import builder_policy
from components.model_trigger import trigger_role_policy
from components.release_access import approver_policy, res_persona_policy, stage_persona_policy
from components.release_roles import ReleaseNames, deployer_policy, pipeline_policy
from components.stage_deployment import deployment_boundary, deployment_role_policy, stage_scope

from .conftest import PRODUCT_VALUES as VALUES
from .conftest import as_list

KEY = "arn:aws:kms:eu-central-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "mlops-release-333333333333-eu-central-1"


@cache
def resource_formats(action: str) -> tuple[str, ...] | None:
    service, name = action.split(":", 1)
    data = get_action_data(service, name)
    rows = next(iter(data.values()), None) if data else None
    if not rows:
        return None
    return tuple(row.get("resource_arn_format") or "*" for row in rows)


def documents(org) -> dict[str, dict]:
    projects = [p.name for p in org.model_projects]
    scope = stage_scope(org, "666666666666", projects, [KEY.format(account="666666666666")])
    names = ReleaseNames(
        platform_name="mlops", region="eu-central-1", res_account="333333333333", exp_account="222222222222",
        deployer_role_name="mlops-serving-deployer", pipeline_role_name="mlops-release-pipeline",
        stage_deployment_role_arns=[f"arn:aws:iam::{a}:role/mlops-serving-deploy" for a in ("444444444444", "555555555555")],
        state_bucket="mlops-pulumi-state-333333333333-eu-central-1", state_key_alias="alias/mlops-pulumi-state",
        deploy_repository="mlops/deploy",
    )
    res_key = KEY.format(account="333333333333")
    docs = {
        "stage deployment role": deployment_role_policy(scope),
        "serving deployer": deployer_policy(names, BUCKET, res_key),
        "release pipeline": pipeline_policy(names, BUCKET, res_key, "arn:aws:sns:eu-central-1:333333333333:t"),
        "model trigger": trigger_role_policy("eu-central-1", "333333333333", "mlops", "arn:aws:logs:eu-central-1:333333333333:log-group:g",
                                             "arn:aws:sqs:eu-central-1:333333333333:q", res_key),
        "image builder": builder_policy("eu-central-1", "333333333333", "mlops", ["mlops/deploy"], BUCKET, res_key),
        "product launch role": launch_role_policy(VALUES, VALUES.deployer_role_arn),
        "product pipeline role": product_pipeline_role_policy(VALUES),
        "approver int": approver_policy(org, "int"),
        "res devops": res_persona_policy(org, "devops"),
        "res auditor": res_persona_policy(org, "auditor"),
        "dev troubleshoot": stage_persona_policy(org, "dev", "lead", "444444444444"),
        "prod read-only": stage_persona_policy(org, "prod", "lead", "666666666666"),
    }
    return docs


def allow_statements(document: dict) -> list[dict]:
    return [s for s in document["Statement"] if s["Effect"] == "Allow"]


def test_every_action_exists(org) -> None:
    unknown = sorted({f"{name}: {a}" for name, document in documents(org).items() for s in allow_statements(document)
                      for a in as_list(s["Action"]) if "*" not in a and resource_formats(a) is None})
    assert not unknown, "\n".join(unknown)


def test_resource_scoped_actions_support_resource_level_permissions(org) -> None:
    offending = []
    for name, document in documents(org).items():
        for item in allow_statements(document):
            if as_list(item["Resource"]) == ["*"]:
                continue
            for action in as_list(item["Action"]):
                formats = resource_formats(action)
                if formats is not None and all(f == "*" for f in formats):
                    offending.append(f"{name}: {item['Sid']}: {action} accepts only '*'")
    assert not offending, "\n".join(offending)


def _covered(action: str, resources: list[str], boundary: dict) -> bool:
    for item in allow_statements(boundary):
        if any(fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(item["Action"])):
            if all(any(fnmatchcase(r, pattern) for pattern in as_list(item["Resource"])) for r in resources):
                return True
    return False


@pytest.mark.parametrize("stage,account", [("dev", "444444444444"), ("prod", "666666666666")])
def test_deployment_role_grants_stay_inside_its_boundary(org, stage, account) -> None:
    scope = stage_scope(org, account, [p.name for p in org.model_projects], [KEY.format(account=account)])
    boundary = deployment_boundary(scope)
    outside = [
        f"{item['Sid']}: {action} on {as_list(item['Resource'])}"
        for item in allow_statements(deployment_role_policy(scope))
        for action in as_list(item["Action"])
        if not _covered(action, as_list(item["Resource"]), boundary)
    ]
    assert not outside, "granted but cut off by the boundary:\n" + "\n".join(outside)
