"""Helpers for the RES / stage-access tests: the planned stacks and parsed documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlops_platform.config import load_organization
from mlops_platform.harness import ResourceRecord, StackPlan


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
