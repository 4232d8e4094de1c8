"""The stack references the programs really create agree with the static graph (mock run of every stack).

A ``StackReference`` is *read*, not registered, so the engine passes it to the mocks' ``new_resource``
(type ``pulumi:pulumi:StackReference``, input ``name``) but not to ``RegisterResource``. The fixture
below records each one with the stack whose program created it, and also takes any the harness's
plan records itself, so the check holds whichever way the harness reports them.
"""

from __future__ import annotations

import pytest

from mlops_core.paths import REPO_ROOT
from mlops_platform.commands.deploy import platform_stacks
from mlops_core.config import load_organization
from mlops_platform.deployer.graph import STAGES, build_graph, serving_stack_name, undeclared_references

STACK_REFERENCE = "pulumi:pulumi:StackReference"
SIX = {role: role for role in ("data", "exp", "res", "dev", "int", "prod")}


@pytest.fixture
def references(monkeypatch) -> dict[str, set[str]]:
    """Stack name -> names of the StackReferences its program created during the test."""
    from mlops_platform import harness

    seen: dict[str, set[str]] = {}
    running: list[str] = []
    original_run, original_new = harness.run_program, harness.PlatformMocks.new_resource

    def run_program(program, project, stack, *args, **kwargs):
        running.append(stack)
        try:
            return original_run(program, project, stack, *args, **kwargs)
        finally:
            running.pop()

    def new_resource(self, args):
        if args.typ == STACK_REFERENCE:
            seen.setdefault(running[-1], set()).add(str(args.inputs.get("name", args.name)))
        return original_new(self, args)

    monkeypatch.setattr(harness, "_CACHE", {})  # run every program here, not a plan cached by another test
    monkeypatch.setattr(harness, "run_program", run_program)
    monkeypatch.setattr(harness.PlatformMocks, "new_resource", new_resource)
    return seen


def with_recorded(references: dict[str, set[str]], plans) -> dict[str, set[str]]:
    for name, plan in plans.items():
        references.setdefault(name, set()).update(
            record.inputs["name"] for record in plan.resources if record.type == STACK_REFERENCE)
    return references


def test_every_stack_reference_of_the_platform_programs_points_upstream_in_the_graph(references):
    from mlops_platform.harness import plan_stacks

    org = load_organization(REPO_ROOT)
    graph = build_graph(platform_stacks(REPO_ROOT, org), has_data_account=org.has_data_account)
    plans = plan_stacks()
    assert set(plans) == set(graph.nodes), "the harness and the graph must know the same platform stacks"
    assert undeclared_references(graph, with_recorded(references, plans)) == []


def test_every_stack_reference_of_the_serving_program_points_upstream_in_the_graph(references):
    from mlops_platform.harness import plan_serving

    org = load_organization(REPO_ROOT)
    serving = [serving_stack_name(project.name, stage) for project in org.model_projects for stage in STAGES]
    assert serving, "organization.yaml must declare at least one model project to check the serving program"
    graph = build_graph(platform_stacks(REPO_ROOT, org), serving, has_data_account=org.has_data_account)
    plans = {name: plan_serving(name) for name in serving}
    found = with_recorded(references, plans)
    assert all(found.get(name) for name in serving), f"each serving stack reads its platform stack: {found}"
    assert undeclared_references(graph, found) == []


def test_a_reference_to_a_downstream_stack_is_reported():
    problems = undeclared_references(build_graph(SIX), {"dev": ["organization/mlops-platform/int"]})
    assert problems == ["dev references organization/mlops-platform/int, but the graph does not deploy int before dev"]


def test_a_reference_to_an_upstream_stack_agrees():
    assert undeclared_references(build_graph(SIX), {"prod": ["organization/mlops-platform/res"]}) == []


def test_a_reference_to_an_unknown_stack_is_reported():
    problems = undeclared_references(build_graph(SIX), {"exp": ["organization/mlops-platform/shared"]})
    assert problems == ["exp references organization/mlops-platform/shared, which is not a stack of the graph"]


def test_a_serving_reference_to_its_stage_stack_agrees():
    graph = build_graph(SIX, ["churn-prod"])
    assert undeclared_references(graph, {"churn-prod": ["organization/mlops-platform/prod"]}) == []


def test_a_serving_stack_may_read_its_own_previous_outputs():
    graph = build_graph(SIX, ["churn-prod"])
    assert undeclared_references(graph, {"churn-prod": ["organization/mlops-serving/churn-prod"]}) == []


def test_a_reference_into_the_wrong_project_is_reported():
    problems = undeclared_references(build_graph(SIX, ["churn-dev"]), {"churn-dev": ["organization/mlops-serving/dev"]})
    assert problems == ["churn-dev references organization/mlops-serving/dev, which is not a stack of the graph"]


def test_the_exp_program_exports_the_studio_domain_destroy_empties():
    from mlops_platform.deployer.destroy import STUDIO_DOMAIN_OUTPUT
    from mlops_platform.harness import plan_stacks

    outputs = plan_stacks(["exp"])["exp"].outputs
    assert outputs.get(STUDIO_DOMAIN_OUTPUT), f"destroy reads the exp stack output {STUDIO_DOMAIN_OUTPUT}: {sorted(outputs)}"
