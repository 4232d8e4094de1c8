"""Readers for the gate's inputs: ``pulumi preview --json``, ``pulumi stack export``, plan records.

Shapes:
- preview: ``{"steps": [{"op", "urn", "newState": {"type", "urn", "inputs", "parent", "provider",
  "propertyDependencies"?...}}]}``; ops create/update/replace/create-replacement/same/import are
  evaluated, delete/read/refresh/discard and the like are ignored.
- export: ``{"version": 3, "deployment": {"resources": [{"urn", "type", "inputs", "id"?, ...}]}}``.
Unknown values are the engine's sentinel strings; a secret is an object keyed
``4dabf18193072939515e22adb298388d`` (opened when it carries its plaintext) or the blinded ``[secret]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_guard.model import Resource
from mlops_guard.normalize import open_secrets

EVALUATED_OPS = frozenset({"create", "update", "replace", "create-replacement", "same", "import"})


class InputError(Exception):
    """An input file is unreadable or malformed; ``str()`` is one line naming the file and problem."""


@dataclass(frozen=True)
class StackInput:
    stack: str
    project: str
    resources: list[Resource]


def parse_urn(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    parts = urn[len("urn:pulumi:") :].split("::")
    if len(parts) < 4:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[0], parts[1], parts[2], "::".join(parts[3:])


def _resource(state: Mapping[str, Any], where: str) -> Resource:
    urn = state.get("urn")
    type_token = state.get("type")
    if not isinstance(urn, str) or not isinstance(type_token, str):
        raise InputError(f"{where}: needs string 'urn' and 'type'")
    try:
        _, _, _, name = parse_urn(urn)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None
    inputs = state.get("inputs") or {}
    if not isinstance(inputs, Mapping):
        raise InputError(f"{where}: 'inputs' must be an object")
    dependencies = state.get("propertyDependencies") or {}
    if not isinstance(dependencies, Mapping):
        dependencies = {}
    props = open_secrets(dict(inputs))
    if isinstance(state.get("id"), str) and state["id"]:
        props.setdefault("id", state["id"])
    return Resource(
        type=type_token,
        name=name,
        urn=urn,
        props=props,
        property_dependencies={k: [str(u) for u in v] for k, v in dependencies.items() if isinstance(v, list)},
        parent=state.get("parent"),
        custom=bool(state.get("custom", True)),
    )


def _group(resources: Iterable[Resource], where: str) -> list[StackInput]:
    stacks: dict[tuple[str, str], list[Resource]] = {}
    for res in resources:
        stack, project, _, _ = parse_urn(res.urn)
        stacks.setdefault((stack, project), []).append(res)
    if not stacks:
        raise InputError(f"{where}: contains no resources to evaluate")
    return [StackInput(stack, project, items) for (stack, project), items in sorted(stacks.items())]


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def parse_preview(document: Any, where: str) -> list[StackInput]:
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), list):
        raise InputError(f"{where}: not a 'pulumi preview --json' document (no 'steps' list)")
    resources = []
    for index, step in enumerate(document["steps"]):
        if not isinstance(step, Mapping):
            raise InputError(f"{where}: steps[{index}] is not an object")
        op = step.get("op")
        if op not in EVALUATED_OPS:
            continue
        state = step.get("newState")
        if not isinstance(state, Mapping):
            raise InputError(f"{where}: steps[{index}] ({op}) has no 'newState' object")
        resources.append(_resource(state, f"{where}: steps[{index}]"))
    return _group(resources, where)


def parse_stack_export(document: Any, where: str) -> list[StackInput]:
    deployment = document.get("deployment") if isinstance(document, Mapping) else None
    if not isinstance(deployment, Mapping):
        raise InputError(f"{where}: not a 'pulumi stack export' document (no 'deployment' object)")
    version = document.get("version")
    if version not in (3, None):
        raise InputError(f"{where}: unsupported deployment version {version!r} (expected 3)")
    raw = deployment.get("resources") or []
    if not isinstance(raw, list):
        raise InputError(f"{where}: deployment.resources must be a list")
    resources = []
    for index, state in enumerate(raw):
        if not isinstance(state, Mapping):
            raise InputError(f"{where}: deployment.resources[{index}] is not an object")
        if state.get("delete") is True or state.get("pendingReplacement") is True:
            continue  # resources waiting for deletion are not part of the stack's future
        resources.append(_resource(state, f"{where}: deployment.resources[{index}]"))
    return _group(resources, where)


def read_preview_json(path: Path) -> list[StackInput]:
    return parse_preview(_load_json(path), str(path))


def read_stack_export(path: Path) -> list[StackInput]:
    return parse_stack_export(_load_json(path), str(path))


def from_records(records: Iterable[Any]) -> list[Resource]:
    """Resources from the harness's ``ResourceRecord``s (duck-typed: urn, type, name, inputs, ...)."""
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.inputs or {},
            property_dependencies=dict(getattr(r, "property_dependencies", None) or {}),
            parent=getattr(r, "parent", None),
            custom=bool(getattr(r, "custom", True)),
            source=getattr(r, "source", None),
        )
        for r in records
    ]
