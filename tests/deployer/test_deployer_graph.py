"""The static stack graph: order, waves, optional DATA, serving stacks and cycle detection."""

from __future__ import annotations

import pytest

from mlops_platform.deployer import graph as graph_module
from mlops_platform.deployer.graph import (
    GraphCycleError,
    GraphError,
    StackGraph,
    StackNode,
    build_graph,
    parse_serving_stack_name,
    topological_waves,
)

SIX = {role: role for role in ("data", "exp", "res", "dev", "int", "prod")}


def test_platform_stacks_deploy_in_role_order():
    assert build_graph(SIX).waves() == [["data"], ["exp"], ["res"], ["dev"], ["int"], ["prod"]]


def test_stacks_with_the_same_role_share_a_wave():
    waves = build_graph({**SIX, "prod-eu": "prod"}).waves()
    assert ["prod", "prod-eu"] in waves, f"prod and prod-eu must run in one parallel wave, got {waves}"


def test_exp_has_no_upstream_without_a_data_account():
    graph = build_graph(SIX, has_data_account=False)
    assert "data" not in graph and graph.nodes["exp"].upstream == (), "exp must start the graph when DATA is absent"


def test_int_waits_for_dev_and_prod_for_int():
    graph = build_graph(SIX)
    assert (graph.nodes["int"].upstream, graph.nodes["prod"].upstream) == (("dev",), ("int",))


def test_serving_stack_follows_its_stage_and_the_stage_before():
    graph = build_graph(SIX, ["churn-dev", "churn-int", "churn-prod"])
    assert graph.nodes["churn-int"].upstream == ("int", "churn-dev")


def test_serving_stacks_of_different_projects_run_in_one_wave():
    waves = build_graph(SIX, ["churn-dev", "fraud-dev"]).waves()
    wave = next(w for w in waves if "churn-dev" in w)
    assert "fraud-dev" in wave, f"independent serving stacks must share a wave: {waves}"


def test_waves_keep_only_the_selected_stacks():
    assert build_graph(SIX).waves(["prod", "dev"]) == [["dev"], ["prod"]]


def test_ancestors_are_transitive():
    assert build_graph(SIX).ancestors("int") == {"data", "exp", "res", "dev"}


def test_cycle_is_reported_with_its_path():
    with pytest.raises(GraphCycleError, match=r"stack graph has a cycle: a -> b -> c -> a"):
        topological_waves({"a": ["c"], "b": ["a"], "c": ["b"], "d": []})


def test_a_cyclic_stack_graph_cannot_be_built():
    nodes = [StackNode("x", "exp", "p", ("y",)), StackNode("y", "res", "p", ("x",))]
    with pytest.raises(GraphCycleError) as error:
        StackGraph(nodes)
    assert set(error.value.cycle) == {"x", "y"}


def test_a_cycle_in_the_role_table_is_detected(monkeypatch):
    monkeypatch.setitem(graph_module.ROLE_UPSTREAM, "data", ("prod",))
    with pytest.raises(GraphCycleError, match="data"):
        build_graph(SIX)


def test_unknown_role_is_rejected():
    with pytest.raises(GraphError, match="unknown role 'qa'"):
        build_graph({"qa": "qa"})


def test_serving_stack_name_needs_a_stage():
    with pytest.raises(GraphError, match="not a serving stack name"):
        parse_serving_stack_name("churn-test")


def test_the_identity_stack_runs_in_the_first_wave_and_blocks_nothing():
    graph = build_graph({**SIX, "identity": "identity"})
    assert graph.waves()[0] == ["data", "identity"] and graph.descendants("identity") == set()


def test_the_log_archive_stack_runs_first_and_every_account_stack_waits_for_it():
    graph = build_graph({**SIX, "log-archive": "log-archive"})
    assert graph.waves()[0] == ["log-archive"] and graph.descendants("log-archive") == set(SIX), graph.waves()


def test_without_data_exp_waits_for_the_log_archive_once():
    stacks = {name: role for name, role in SIX.items() if role != "data"}
    graph = build_graph({**stacks, "log-archive": "log-archive"}, has_data_account=False)
    assert graph.nodes["exp"].upstream == ("log-archive",), graph.nodes["exp"].upstream


def test_without_a_log_archive_stack_the_account_stacks_keep_their_order():
    assert build_graph(SIX).nodes["exp"].upstream == ("data",)
