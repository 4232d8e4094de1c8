"""Per policy, every form pulumi-aws v7 can express its setting in (fixtures/forms.yaml, issue #18).

Each case names its form (the test id), and its expected outcome is written by hand: a form the
rule cannot read must not slip through, a compliant form must not draw a finding, and a value not
known until apply is "not evaluated", never a pass.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mlops_guard.engine import check_resource, check_stack
from mlops_guard.model import Report
from mlops_guard.normalize import UNKNOWN
from mlops_guard.registry import BY_NAME

from .conftest import GOLDEN, load_yaml, make_pack_config, resource, set_path, stack_resources

FORMS: dict[str, dict[str, list[dict[str, Any]]]] = load_yaml("forms.yaml")
CONFIG = make_pack_config()
RESOURCE_FORMS = [(policy, case) for policy, cases in FORMS["resource"].items() for case in cases]
STACK_FORMS = [(policy, case) for policy, cases in FORMS["stack"].items() for case in cases]


def _unknowns(value: Any) -> Any:
    """``<unknown>`` in the fixture stands for the engine's unknown sentinel."""
    if value == "<unknown>":
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def _subject(case: dict[str, Any]):
    props = copy.deepcopy(GOLDEN.get(case["type"], {}))
    for path in case.get("delete", []):
        props.pop(path, None)
    for path, value in (case.get("set") or {}).items():
        set_path(props, path, _unknowns(copy.deepcopy(value)))
    if "statement" in case:
        document: Any = {"Version": "2012-10-17", "Statement": _unknowns(copy.deepcopy(case["statement"]))}
        set_path(props, case.get("doc", "policy"), json.dumps(document) if case.get("json") else document)
    return resource(case["type"], props)


def _assert_outcome(report: Report, expect: str, what: str) -> None:
    violations = [v.message for v in report.violations]
    unknown = [n.message for n in report.not_evaluated]
    if expect == "pass":
        assert not violations and not unknown, f"{what} must pass: {violations or unknown}"
    elif expect == "violation":
        assert violations, f"{what} must be a violation (not evaluated: {unknown})"
    else:
        assert unknown and not violations, f"{what} must be not evaluated, never passed or failed: {violations}"


@pytest.mark.parametrize(("policy_name", "case"), RESOURCE_FORMS, ids=[f"{p}:{c['id']}" for p, c in RESOURCE_FORMS])
def test_resource_policy_reads_the_form(policy_name: str, case: dict[str, Any]) -> None:
    subject = _subject(case)
    report = check_resource(BY_NAME[policy_name], subject, CONFIG)
    _assert_outcome(report, case["expect"], f"{policy_name} on {case['type']} ({case['id']})")
    assert all(v.message.startswith(subject.name) for v in report.violations), "messages must name the resource"


@pytest.mark.parametrize(("policy_name", "case"), STACK_FORMS, ids=[f"{p}:{c['id']}" for p, c in STACK_FORMS])
def test_stack_policy_reads_the_form(policy_name: str, case: dict[str, Any]) -> None:
    report = check_stack(BY_NAME[policy_name], stack_resources(case), CONFIG)
    _assert_outcome(report, case["expect"], f"{policy_name} ({case['id']})")


def test_every_form_case_names_a_real_policy_and_a_known_outcome() -> None:
    bad = [
        f"{p}:{c.get('id')}"
        for p, c in RESOURCE_FORMS + STACK_FORMS
        if p not in BY_NAME or c.get("expect") not in ("pass", "violation", "not_evaluated") or not c.get("id")
    ]
    assert not bad, f"form cases with an unknown policy, outcome or no id: {bad}"


def test_form_ids_are_unique_per_policy() -> None:
    seen: set[tuple[str, str]] = set()
    duplicates = [f"{p}:{c['id']}" for p, c in RESOURCE_FORMS + STACK_FORMS if (p, c["id"]) in seen or seen.add((p, c["id"]))]
    assert not duplicates, f"form ids used twice: {duplicates}"
