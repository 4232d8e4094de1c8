"""The stack references the programs really create agree with the static graph (mock run of every stack)."""

from __future__ import annotations

import pytest

from mlops_platform import REPO_ROOT
from mlops_platform.commands.deploy import platform_stacks
from mlops_platform.config import load_organization
from mlops_platform.deployer.graph import build_graph, undeclared_references

STACK_REFERENCE = "pulumi:pulumi:StackReference"
SIX = {role: role for role in ("data", "exp", "res", "dev", "int", "prod")}


def test_every_stack_reference_of_the_platform_programs_points_upstream_in_the_graph():
    from mlops_platform.harness import plan_stacks

    org = load_organization(REPO_ROOT)
    graph = build_graph(platform_stacks(REPO_ROOT, org), has_data_account=org.has_data_account)
    plans = plan_stacks()
    references = {
        name: [record.inputs["name"] for record in plan.resources if record.type == STACK_REFERENCE]
        for name, plan in plans.items()
    }
    assert set(plans) == set(graph.nodes), "the harness and the graph must know the same platform stacks"
    assert undeclared_references(graph, references) == []


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


@pytest.mark.skipif(not (REPO_ROOT / "serving" / "__main__.py").exists(),
                    reason="the serving program (serving/__main__.py, issue 6) has not landed yet")
def test_every_stack_reference_of_the_serving_program_points_upstream_in_the_graph():
    from mlops_platform.deployer.graph import serving_stack_name
    from mlops_platform.harness import plan_serving

    org = load_organization(REPO_ROOT)
    serving = [serving_stack_name(project.name, stage) for project in org.model_projects for stage in ("dev", "int", "prod")]
    assert serving, "organization.yaml must declare at least one model project to check the serving program"
    graph = build_graph(platform_stacks(REPO_ROOT, org), serving, has_data_account=org.has_data_account)
    references = {
        name: [record.inputs["name"] for record in plan_serving(name).resources if record.type == STACK_REFERENCE]
        for name in serving
    }
    assert any(references.values()), "a serving stack reads its platform stack through a StackReference"
    assert undeclared_references(graph, references) == []
