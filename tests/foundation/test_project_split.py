"""Splitting a deployed exp stack into the model projects' stacks keeps every cloud resource.

The state before is the exp stack as the program declared it before the split (a fixture recorded
from that commit, not from this code). The moves are the ones ``mlops-platform stacks --state-moves``
prints, applied the way ``pulumi state move`` does (pkg/cmd/pulumi/state/state_move.go): the named
resources with all their descendants; a moved resource whose parent stays behind lands at the
destination's root, and every moved URN is rewritten for its new parent and stack. Afterwards each
stack's state must hold exactly what the program now declares there (by URN or by an alias): no
resource the next deploy would delete, none it would create twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_core.config import load_organization
from mlops_platform.harness import account_plan, plan_stack
from mlops_platform.project_split import StateMove, project_state_moves

BEFORE = Path(__file__).parent / "fixtures" / "exp_urns_before_project_stacks.json"
PROJECTS = [p.name for p in load_organization().model_projects]
#: Retired by this version on purpose: the members' per-project query policy, whose statements the
#: members' project-access policies now hold (one fewer attached policy per project on a person's role).
RETIRED = ("exp-data-access-{project}-members",)
#: Declared by the split itself and holding no cloud resource (components, reads, providers).
NEW_KINDS = ("mlops:project:ProjectIdentity", "mlops:guardrails:RoleGuardrails", "pulumi:pulumi:StackReference", "pulumi:providers:aws")


def _engine_urns(rows: list[tuple[str, str, str, str | None]], stack: str) -> dict[str, str]:
    """Mock URN -> the engine's URN, for rows of (mock URN, type, name, parent's mock URN)."""
    by_urn = {urn: (type_, name, parent) for urn, type_, name, parent in rows}
    chains: dict[str, str] = {}

    def chain(urn: str | None) -> str:
        if urn not in by_urn:
            return ""  # the stack's root
        if urn not in chains:
            type_, _, parent = by_urn[urn]
            above = chain(parent)
            chains[urn] = f"{above}${type_}" if above else type_
        return chains[urn]

    return {urn: f"urn:pulumi:{stack}::mlops-platform::{chain(urn)}::{name}" for urn, (_, name, _) in by_urn.items()}


def _before() -> list[dict]:
    """The fixture's state in the engine's URNs."""
    rows = json.loads(BEFORE.read_text())["resources"]
    parsed = [(r["urn"], _parts(r["urn"])[2].split("$")[-1], _parts(r["urn"])[3], r["parent"]) for r in rows]
    engine = _engine_urns(parsed, "exp")
    return [{"urn": engine[r["urn"]], "parent": engine.get(r["parent"])} for r in rows]


def _parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type chain, name) of ``urn:pulumi:<stack>::<project>::<chain>::<name>``."""
    head, project, chain, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, chain, name


def _move(state: dict[str, list[dict]], move: StateMove) -> list[str]:
    """Apply one move to ``state`` (stack -> [{urn, parent}]); returns the URNs it did not find."""
    source = state[move.source]
    known = {row["urn"] for row in source}
    selected = {urn for urn in move.urns if urn in known}
    grew = True
    while grew:  # every descendant moves with its ancestor
        children = {row["urn"] for row in source if row["parent"] in selected} - selected
        selected |= children
        grew = bool(children)
    rewritten: dict[str, str] = {}
    moved = []
    for row in source:
        if row["urn"] not in selected:
            continue
        _, project, chain, name = _parts(row["urn"])
        parent = rewritten.get(row["parent"])  # None: the parent stayed behind, so the stack's root
        own_type = chain.split("$")[-1]
        new_chain = f"{_parts(parent)[2]}${own_type}" if parent else own_type
        rewritten[row["urn"]] = f"urn:pulumi:{move.dest}::{project}::{new_chain}::{name}"
        moved.append({"urn": rewritten[row["urn"]], "parent": parent})
    state[move.source] = [row for row in source if row["urn"] not in selected]
    state.setdefault(move.dest, []).extend(moved)
    return [urn for urn in move.urns if urn not in known]


def _split(moves_of=project_state_moves) -> dict[str, list[dict]]:
    state = {"exp": _before()}
    org = load_organization()
    for project in PROJECTS:
        for move in moves_of(org, project):
            missing = _move(state, move)
            assert not missing, f"{move.command()}: not in the source stack's state: {missing}"
    return state


@pytest.fixture(scope="module")
def split_state() -> dict[str, list[dict]]:
    return _split()


def _declared(stack: str) -> dict[str, set[str]]:
    """What the program declares in ``stack``: the engine's URN -> every URN it answers to (its own
    and its aliases')."""
    records = plan_stack(stack).resources
    engine = _engine_urns([(r.urn, r.type, r.name, r.parent) for r in records], stack)
    chain_of = {urn: _parts(value)[2] for urn, value in engine.items()}
    declared = {}
    for record in records:
        answers = {engine[record.urn]}
        for alias in record.aliases:
            if "urn" in alias:
                continue  # the SDK's own type aliases (V2 resource types), not a move
            parent = record.parent if alias["parent"] is None else alias["parent"]
            above = chain_of.get(parent, "")
            type_ = alias["type"] or record.type
            answers.add(f"urn:pulumi:{stack}::mlops-platform::{f'{above}${type_}' if above else type_}::{alias['name'] or record.name}")
        declared[engine[record.urn]] = answers
    return declared


def _retired(rows: list[dict]) -> set[str]:
    """The retired resources among ``rows``, with their children (the policies' attachments)."""
    names = {name.format(project=p) for name in RETIRED for p in PROJECTS}
    retired = {row["urn"] for row in rows if _parts(row["urn"])[3] in names}
    retired |= {row["urn"] for row in rows if row["parent"] in retired}
    return retired


def _orphans(state: dict[str, list[dict]], stack: str) -> list[str]:
    answers = set().union(*_declared(stack).values())
    rows = state.get(stack, [])
    retired = _retired(rows)
    return [row["urn"] for row in rows if row["urn"] not in answers and row["urn"] not in retired]


@pytest.mark.parametrize("stack", ["exp", *(f"exp.{p}" for p in PROJECTS)])
def test_after_the_moves_nothing_in_the_state_is_deleted(split_state, stack) -> None:
    orphans = _orphans(split_state, stack)
    assert not orphans, f"{stack}: the next deploy would delete {len(orphans)} moved or kept resource(s): {orphans[:5]}"


@pytest.mark.parametrize("stack", ["exp", *(f"exp.{p}" for p in PROJECTS)])
def test_after_the_moves_nothing_is_created_twice(split_state, stack) -> None:
    # A declared resource the state does not hold, of a type and name some stack's state holds: the
    # deploy would create what exists already. (Resources new in this version hold no state anywhere.)
    held = {row["urn"] for row in split_state.get(stack, [])}
    existing = {(_parts(row["urn"])[2].split("$")[-1], _parts(row["urn"])[3]) for rows in split_state.values() for row in rows}
    fresh = [urn for urn, names in _declared(stack).items()
             if not names & held and (_parts(urn)[2].split("$")[-1], _parts(urn)[3]) in existing
             and _parts(urn)[2].split("$")[-1] not in NEW_KINDS]
    assert not fresh, f"{stack}: the next deploy would create {len(fresh)} resource(s) that already exist elsewhere: {fresh[:5]}"


def test_a_move_list_without_the_pipeline_leaves_it_to_be_deleted() -> None:
    # The checker itself: with one URN left out of the first move, the exp stack keeps a resource
    # the program no longer declares there.
    def without_pipeline(org, project):
        first, *rest = project_state_moves(org, project)
        return [StateMove(first.source, first.dest, tuple(u for u in first.urns if "ModelBuildPipeline" not in u)), *rest]

    orphans = _orphans(_split(without_pipeline), "exp")
    assert sorted(o.rsplit("::", 1)[-1] for o in orphans if o.endswith("-build")) == sorted(f"exp-{p}-build" for p in PROJECTS), orphans


def test_the_move_of_a_resource_leaves_its_children_at_the_destination() -> None:
    state = {"a": [{"urn": "urn:pulumi:a::p::t:m:C::c", "parent": None},
                   {"urn": "urn:pulumi:a::p::t:m:C$t:m:R::r", "parent": "urn:pulumi:a::p::t:m:C::c"}]}
    _move(state, StateMove("a", "b", ("urn:pulumi:a::p::t:m:C$t:m:R::r",)))
    assert state["b"] == [{"urn": "urn:pulumi:b::p::t:m:R::r", "parent": None}], state


def test_account_plan_holds_every_project_stack() -> None:
    plan = account_plan("exp")
    assert sorted(plan.outputs["projectStacks"]) == sorted(PROJECTS), plan.outputs["projectStacks"]


def test_the_only_deletions_are_the_retired_query_policies(split_state) -> None:
    retired = sorted(_parts(urn)[3] for urn in _retired(split_state["exp"]))
    assert retired and all(name.startswith("exp-data-access-") for name in retired), retired
