"""No policy crashes on a value known only at apply, wherever it appears (every leaf and container)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_guard.engine import check_resource
from mlops_guard.normalize import UNKNOWN, parse_json_value
from mlops_guard.registry import RESOURCE_POLICIES

from .conftest import GOLDEN, make_pack_config, resource

CONFIG = make_pack_config()


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path (tuple of keys/indices) in a props tree, containers and leaves, JSON documents included."""
    value = parse_json_value(value)
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _with_unknown(props: dict, path: tuple) -> dict:
    """Props with ``path`` unknown; JSON-string documents on the way are decoded first."""
    result = copy.deepcopy(props)
    current: Any = result
    for key in path[:-1]:
        current[key] = parse_json_value(current[key])
        current = current[key]
    current[path[-1]] = UNKNOWN
    return result


@pytest.mark.parametrize("type_token", sorted(GOLDEN))
def test_no_policy_crashes_on_any_unknown_value(type_token: str) -> None:
    crashes = []
    for path in _paths(GOLDEN[type_token]):
        subject = resource(type_token, _with_unknown(GOLDEN[type_token], path))
        for gp in RESOURCE_POLICIES:
            if type_token in gp.types:
                try:
                    check_resource(gp, subject, CONFIG)
                except Exception as exc:  # noqa: BLE001 - the assertion lists them
                    crashes.append(f"{gp.name} at {path}: {exc.__class__.__name__}: {exc}")
    assert not crashes, "\n".join(crashes)


def test_no_stack_policy_crashes_on_any_unknown_value() -> None:
    from mlops_guard.engine import check_stack
    from mlops_guard.model import Resource
    from mlops_guard.registry import STACK_POLICIES

    from .conftest import stack_resources

    golden = stack_resources()
    crashes = []
    for index, target in enumerate(golden):
        for path in _paths(dict(target.props)):
            mutated = [*golden[:index], Resource(**{**target.__dict__, "props": _with_unknown(dict(target.props), path)}), *golden[index + 1 :]]
            for gp in STACK_POLICIES:
                try:
                    check_stack(gp, mutated, CONFIG)
                except Exception as exc:  # noqa: BLE001 - the assertion lists them
                    crashes.append(f"{gp.name} at {target.name}.{path}: {exc.__class__.__name__}: {exc}")
    assert not crashes, "\n".join(crashes)
