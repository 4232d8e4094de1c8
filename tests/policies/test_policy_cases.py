"""Per policy: the golden fixture passes, each one-field mutation fails, unknown values are handled.

Cases are data (fixtures/golden.yaml, cases.yaml, golden_stack.yaml, stack_cases.yaml); the expected
outcomes are written there by hand, never produced by the code under test.
"""

from __future__ import annotations

import pytest

from mlops_guard.engine import check_resource, check_stack
from mlops_guard.registry import ALL_POLICIES, BY_NAME, RESOURCE_POLICIES, STACK_POLICIES

from .conftest import CASES, GOLDEN, STACK_CASES, mutated, resource, stack_resources, make_pack_config

CONFIG = make_pack_config()


def _first_type(policy_name: str, case: dict) -> str:
    return case.get("type") or BY_NAME[policy_name].types[0]


def _ids(items: list[tuple]) -> list[str]:
    return [f"{p}#{i}" for p, i, *_ in items]


GOLDEN_PAIRS = [(gp.name, t) for gp in RESOURCE_POLICIES for t in gp.types if t in GOLDEN]
MUTATIONS = [(name, i, m) for name, c in CASES.items() for i, m in enumerate(c.get("mutations", []))]
UNKNOWNS = [(name, i, u) for name, c in CASES.items() for i, u in enumerate(c.get("unknown", []))]
FORBIDDEN = [(name, i, t) for name, c in CASES.items() for i, t in enumerate(c.get("forbidden_types", []))]
STACK_MUTATIONS = [(name, i, m) for name, c in STACK_CASES.items() for i, m in enumerate(c.get("mutations", []))]
STACK_UNKNOWNS = [(name, i, u) for name, c in STACK_CASES.items() for i, u in enumerate(c.get("unknown", []))]


@pytest.mark.parametrize(("policy_name", "type_token"), GOLDEN_PAIRS, ids=[f"{p}@{t}" for p, t in GOLDEN_PAIRS])
def test_golden_fixture_passes(policy_name: str, type_token: str) -> None:
    report = check_resource(BY_NAME[policy_name], resource(type_token, GOLDEN[type_token]), CONFIG)
    assert not report.violations, f"{policy_name} flags the golden {type_token}: {[v.message for v in report.violations]}"
    assert not report.not_evaluated, f"{policy_name} cannot evaluate the golden {type_token}: {report.not_evaluated}"


@pytest.mark.parametrize(("policy_name", "index", "case"), MUTATIONS, ids=_ids(MUTATIONS))
def test_mutation_is_a_violation(policy_name: str, index: int, case: dict) -> None:
    subject = mutated(_first_type(policy_name, case), case)
    report = check_resource(BY_NAME[policy_name], subject, CONFIG)
    assert report.violations, f"{policy_name} misses mutation {index} of {subject.type}: {case}"
    assert all(v.message.startswith(f"{subject.name}") for v in report.violations), "messages must name the resource"


@pytest.mark.parametrize(("policy_name", "index", "case"), UNKNOWNS, ids=_ids(UNKNOWNS))
def test_unknown_value_case(policy_name: str, index: int, case: dict) -> None:
    subject = mutated(_first_type(policy_name, case), case, unknown_path=case.get("path"))
    report = check_resource(BY_NAME[policy_name], subject, CONFIG)
    expect = case["expect"]
    if expect == "pass":
        assert not report.violations and not report.not_evaluated, f"{policy_name}: unknown at {case.get('path')} must count as present"
    elif expect == "not_evaluated":
        assert report.not_evaluated, f"{policy_name}: unknown at {case.get('path')} must be reported as not evaluated"
        assert not report.violations, f"{policy_name}: unknown at {case.get('path')} must not fail: {report.violations}"
    else:
        assert report.violations, f"{policy_name}: {case} must still be a violation"


@pytest.mark.parametrize(("policy_name", "index", "type_token"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_forbidden_type_is_a_violation(policy_name: str, index: int, type_token: str) -> None:
    report = check_resource(BY_NAME[policy_name], resource(type_token, {}), CONFIG)
    assert report.violations, f"{policy_name} must reject any {type_token}"


def test_golden_stack_passes_every_policy(pack_config) -> None:
    from mlops_guard.engine import evaluate_stack

    result = evaluate_stack(stack_resources(), pack_config, stack="dev", project="mlops-platform")
    assert not result.violations, [f"{v.policy}: {v.message}" for v in result.violations]
    assert not result.not_evaluated, [f"{n.policy}: {n.reason}" for n in result.not_evaluated]


@pytest.mark.parametrize(("policy_name", "index", "case"), STACK_MUTATIONS, ids=_ids(STACK_MUTATIONS))
def test_stack_mutation_is_a_violation(policy_name: str, index: int, case: dict) -> None:
    report = check_stack(BY_NAME[policy_name], stack_resources(case), CONFIG)
    assert report.violations, f"{policy_name} misses stack mutation {index}: {case}"


@pytest.mark.parametrize(("policy_name", "index", "case"), STACK_UNKNOWNS, ids=_ids(STACK_UNKNOWNS))
def test_stack_unknown_value_case(policy_name: str, index: int, case: dict) -> None:
    report = check_stack(BY_NAME[policy_name], stack_resources(unknown=case), CONFIG)
    if case["expect"] == "pass":
        assert not report.violations and not report.not_evaluated, f"{policy_name}: {case} must pass"
    elif case["expect"] == "not_evaluated":
        assert report.not_evaluated and not report.violations, f"{policy_name}: {case} must be not evaluated"
    else:
        assert report.violations, f"{policy_name}: {case} must be a violation"


def test_every_resource_policy_has_cases() -> None:
    """Done-when: per policy a golden fixture, a failing mutation and an unknown-value case."""
    missing = []
    for gp in RESOURCE_POLICIES:
        case = CASES.get(gp.name, {})
        has_golden = any(t in GOLDEN for t in gp.types) or bool(case.get("forbidden_types"))
        if not has_golden or not (case.get("mutations") or case.get("forbidden_types")) or not case.get("unknown"):
            missing.append(gp.name)
    assert not missing, f"resource policies without golden/mutation/unknown cases: {missing}"


def test_every_stack_policy_has_cases() -> None:
    missing = [gp.name for gp in STACK_POLICIES if not STACK_CASES.get(gp.name, {}).get("mutations") or not STACK_CASES[gp.name].get("unknown")]
    assert not missing, f"stack policies without mutation/unknown cases: {missing}"


def test_cases_name_only_real_policies() -> None:
    unknown = (set(CASES) | set(STACK_CASES)) - {gp.name for gp in ALL_POLICIES}
    assert not unknown, f"cases for policies that do not exist: {unknown}"
