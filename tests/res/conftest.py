"""Helpers for the RES / stage-access tests: the planned stacks and parsed documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.deployment_product import ProductTemplateValues
from mlops_core.config import load_organization
from mlops_platform.harness import ResourceRecord, StackPlan

#: Sample values for the generated product template (documentation account and IDs).
PRODUCT_VALUES = ProductTemplateValues(
    platform_name="mlops", region="eu-central-1", account_id="333333333333",
    artifact_bucket="mlops-release-333333333333-eu-central-1", bundle_key="deployer/bundle.zip",
    kms_key_arn="arn:aws:kms:eu-central-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    logs_key_arn="arn:aws:kms:eu-central-1:333333333333:key/2234abcd-12ab-34cd-56ef-1234567890ab",
    deployer_role_arn="arn:aws:iam::333333333333:role/mlops-serving-deployer",
    approval_topic_arn="arn:aws:sns:eu-central-1:333333333333:mlops-release-approvals",
    deploy_image="333333333333.dkr.ecr.eu-central-1.amazonaws.com/mlops/deploy:1",
    vpc_id="vpc-0123456789abcdef0", subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    security_group_ids=["sg-0123456789abcdef0"],
    boundary_arn="arn:aws:iam::333333333333:policy/mlops-product-boundary", role_path="/mlops-product/",
    backend_url="s3://mlops-pulumi-state-333333333333-eu-central-1?region=eu-central-1",
)


def doc(value: Any) -> dict[str, Any]:
    """A policy document from a resource input (JSON string or dict)."""
    return json.loads(value) if isinstance(value, str) else value


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    items = document["Statement"]
    return items if isinstance(items, list) else [items]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def children(plan: StackPlan, parent: ResourceRecord, type_token: str) -> list[ResourceRecord]:
    return [r for r in plan.resources if r.parent == parent.urn and r.type == type_token]


@pytest.fixture(scope="session")
def org():
    return load_organization()


@pytest.fixture(scope="session")
def res(platform_plans) -> StackPlan:
    return platform_plans["res"]


@pytest.fixture(scope="session")
def stages(platform_plans) -> dict[str, StackPlan]:
    return {name: platform_plans[name] for name in ("dev", "int", "prod")}
