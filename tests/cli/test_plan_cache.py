"""The plan cache (`.plan-cache/plans/`) and the planning workers: a hit is what a fresh plan gives,
any changed input plans afresh, and plans from worker processes equal the ones planned in process."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from mlops_core.config import ConfigError
from mlops_platform import harness, plan_cache

SMALL_STACK = "dev"


def canonical(plan: harness.StackPlan) -> harness.StackPlan:
    """The plan with its records by URN: programs register concurrently, so two fresh runs of the
    same program may record in different orders (every output of a plan sorts by URN)."""
    return dataclasses.replace(plan, resources=sorted(plan.resources, key=lambda record: record.urn))


@pytest.fixture
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing planned in this process yet (plans cached in memory by other tests would hide the disk)."""
    monkeypatch.setattr(harness, "_CACHE", {})
    monkeypatch.setattr(harness, "_FINGERPRINTS", {})


def test_a_cached_plan_equals_a_fresh_plan(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    fresh = harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    monkeypatch.setattr(harness, "_CACHE", {})
    cached = harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    assert cached is not fresh and cached == fresh, f"{SMALL_STACK}: the plan read from .plan-cache differs from the fresh plan"


def test_a_warm_plan_runs_no_program(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    monkeypatch.setattr(harness, "_CACHE", {})

    def no_program(*args, **kwargs):
        raise AssertionError(f"{SMALL_STACK}: planned again although no input changed")

    monkeypatch.setattr(harness, "run_program", no_program)
    harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)


def test_a_changed_config_value_plans_afresh(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    stack_file = repo_copy / f"Pulumi.{SMALL_STACK}.yaml"
    stack_file.write_text(stack_file.read_text().replace("10.40.0.0/20", "10.47.0.0/20"))
    monkeypatch.setattr(harness, "_CACHE", {})
    (vpc,) = harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True).of_type("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.47.0.0/20", (
        f"{vpc.name}: mlops:vpcCidr changed in Pulumi.{SMALL_STACK}.yaml but the plan came from the cache")


def test_a_changed_component_source_changes_the_key(tmp_path: Path, repo_copy: Path, monkeypatch: pytest.MonkeyPatch):
    checkout = tmp_path / "checkout"
    for directory in ("components", "mlops_platform"):
        (checkout / directory).mkdir(parents=True)
    for name in plan_cache.HARNESS_FILES:
        (checkout / name).write_text("MOCKS = 1\n")
    component = checkout / "components" / "bucket.py"
    component.write_text("VERSIONING = True\n")
    monkeypatch.setattr(plan_cache, "SOURCE_CHECKOUT", checkout)
    before = plan_cache.inputs_fingerprint(repo_copy)
    component.write_text("VERSIONING = False\n")
    assert plan_cache.inputs_fingerprint(repo_copy) != before, "components/bucket.py changed but the plan cache key did not"


def test_unchanged_inputs_keep_the_key(repo_copy: Path):
    assert plan_cache.inputs_fingerprint(repo_copy) == plan_cache.inputs_fingerprint(repo_copy), (
        "the plan cache key changed although no input did (a warm run would plan everything again)")


def test_installed_package_versions_are_part_of_the_key():
    assert any(name.startswith("pulumi_aws-") for name in plan_cache.installed_distributions()), (
        "the plan cache key does not cover the installed pulumi-aws version")


def test_a_damaged_entry_is_planned_again(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    fresh = harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    for entry in (repo_copy / ".plan-cache" / "plans").glob("*.json"):
        entry.write_text(entry.read_text()[:100])
    monkeypatch.setattr(harness, "_CACHE", {})
    assert canonical(harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)) == canonical(fresh), (
        f"{SMALL_STACK}: a truncated .plan-cache entry did not give the fresh plan")


def test_caching_off_writes_nothing(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(plan_cache.CACHE_VARIABLE, "0")
    harness.plan_stack(SMALL_STACK, root=repo_copy, disk_cache=True)
    assert not (repo_copy / ".plan-cache").exists(), f"{plan_cache.CACHE_VARIABLE}=0 but a plan was cached"


def test_a_cache_hit_logs_the_programs_warnings_again(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    plan = harness.StackPlan("dev", "dev", harness.PLATFORM_PROJECT, [], {})
    plan_cache.store(tmp_path, "entry", plan, ["model project x: its data access does not grant y"])
    loaded = plan_cache.load(tmp_path, "entry")
    assert loaded is not None
    plan_cache.replay(loaded[1])
    assert "model project x: its data access does not grant y" in caplog.messages, "a cached plan lost its warning"


def test_worker_plans_equal_plans_in_process(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    requests = [(SMALL_STACK, False), (SMALL_STACK, True)]
    monkeypatch.setattr(harness, "_workers", lambda: 2)
    in_workers = harness.plan_many(requests, root=repo_copy, parallel=True)
    monkeypatch.setattr(harness, "_CACHE", {})
    monkeypatch.setattr(harness, "_workers", lambda: 1)
    in_process = harness.plan_many(requests, root=repo_copy, parallel=True)
    assert {k: canonical(v) for k, v in in_workers.items()} == {k: canonical(v) for k, v in in_process.items()}, "plans from the worker processes differ from plans made in process"


def test_the_workers_did_plan(repo_copy: Path, fresh_memory: None, monkeypatch: pytest.MonkeyPatch):
    """The comparison above means something only if the pool ran: then no program runs in this process
    (a forked worker's calls are recorded in the worker's copy of the list, not this one)."""
    calls: list[str] = []
    run_program = harness.run_program

    def recorded(program, project, stack, *args, **kwargs):
        calls.append(stack)
        return run_program(program, project, stack, *args, **kwargs)

    monkeypatch.setattr(harness, "_workers", lambda: 2)
    monkeypatch.setattr(harness, "run_program", recorded)
    plans = harness.plan_many([(SMALL_STACK, False), (SMALL_STACK, True)], root=repo_copy, parallel=True)
    assert calls == [] and all(plan.resources for plan in plans.values()), (
        f"programs ran in the parent process ({calls}) although two workers were available")



def test_a_config_error_in_a_worker_comes_back_as_a_plan_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A worker's exception reaches the parent pickled; ConfigError cannot be unpickled, PlanError can."""
    def bad_config(*args, **kwargs):
        raise ConfigError("Pulumi.dev.yaml", "mlops:vpcCidr", "overlaps exp")

    monkeypatch.setattr(harness, "plan_stack", bad_config)
    with pytest.raises(harness.PlanError) as raised:
        harness._plan_in_worker(SMALL_STACK, False, tmp_path)
    returned = pickle.loads(pickle.dumps(raised.value))
    assert "mlops:vpcCidr" in str(returned), f"the worker's error lost its message: {returned!r}"
