"""Fixture loading for the guardrail tests: golden inputs, mutation cases, the test policy config."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_guard.config import PackConfig, parse_pack_config
from mlops_platform.policy_config import generate_policy_config
from mlops_guard.model import Resource
from mlops_guard.normalize import UNKNOWN

FIXTURES = Path(__file__).parent / "fixtures"
PLATFORM_ACCOUNTS = {"dev": "111111111111", "prod": "222222222222"}


def load_yaml(name: str) -> Any:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


GOLDEN: dict[str, dict[str, Any]] = load_yaml("golden.yaml")
CASES: dict[str, dict[str, Any]] = load_yaml("cases.yaml")
GOLDEN_STACK: list[dict[str, Any]] = load_yaml("golden_stack.yaml")
STACK_CASES: dict[str, dict[str, Any]] = load_yaml("stack_cases.yaml")


def make_pack_config() -> PackConfig:
    """The PROD role's config generated for two platform accounts in eu-central-1."""
    return parse_pack_config(generate_policy_config("prod", PLATFORM_ACCOUNTS, "eu-central-1"), "test config")


@pytest.fixture(scope="session")
def pack_config() -> PackConfig:
    return make_pack_config()


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (list indices allowed), creating dicts on the way."""
    parts = path.split(".")
    current: Any = target
    for index, part in enumerate(parts[:-1]):
        nxt = parts[index + 1]
        if isinstance(current, list):
            current = current[int(part)]
            continue
        if part not in current or not isinstance(current[part], dict | list):
            current[part] = [] if nxt.isdigit() else {}
        current = current[part]
    last = parts[-1]
    if isinstance(current, list):
        index = int(last)
        if index < len(current):
            current[index] = value
        else:
            current.append(value)
    else:
        current[last] = value


def delete_path(target: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    current: Any = target
    for part in parts[:-1]:
        current = current[int(part)] if isinstance(current, list) else current[part]
    if isinstance(current, list):
        del current[int(parts[-1])]
    else:
        del current[parts[-1]]


def urn(type_token: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::mlops-platform::{type_token}::{name}"


def resource(type_token: str, props: dict[str, Any], name: str = "subject") -> Resource:
    return Resource(type=type_token, name=name, urn=urn(type_token, name), props=props)


def mutated(type_token: str, case: dict[str, Any], *, unknown_path: str | None = None) -> Resource:
    """The golden props of ``type_token`` with the case's edits (and optionally one unknown)."""
    props = copy.deepcopy(GOLDEN.get(type_token, {}))
    for path in case.get("delete", []):
        delete_path(props, path)
    for path, value in (case.get("set") or {}).items():
        set_path(props, path, copy.deepcopy(value))
    if unknown_path:
        set_path(props, unknown_path, UNKNOWN)
    return resource(type_token, props)


def stack_resources(
    case: dict[str, Any] | None = None, *, unknown: dict[str, Any] | None = None, golden: list[dict[str, Any]] | None = None
) -> list[Resource]:
    """The golden stack (``golden``, default golden_stack.yaml) with a stack case's edits applied."""
    case = case or {}
    items = copy.deepcopy(GOLDEN_STACK if golden is None else golden)
    removed = set(case.get("remove", []))
    items = [i for i in items if i["name"] not in removed]
    by_name = {i["name"]: i for i in items}
    for name, edits in (case.get("set") or {}).items():
        for path, value in edits.items():
            set_path(by_name[name]["props"], path, copy.deepcopy(value))
    for name, paths in (case.get("delete") or {}).items():
        for path in paths:
            delete_path(by_name[name]["props"], path)
    for name, deps in (case.get("set_deps") or {}).items():
        by_name[name]["deps"] = deps
    if unknown:
        target = by_name[unknown["resource"]]
        set_path(target["props"], unknown["path"], UNKNOWN)
        if unknown.get("drop_deps"):
            target.get("deps", {}).pop(unknown["path"].split(".")[0], None)
    urns = {i["name"]: urn(i["type"], i["name"]) for i in items}
    return [
        Resource(
            type=i["type"],
            name=i["name"],
            urn=urns[i["name"]],
            props=i["props"],
            property_dependencies={k: [urns[n] for n in v if n in urns] for k, v in (i.get("deps") or {}).items()},
        )
        for i in items
    ]
