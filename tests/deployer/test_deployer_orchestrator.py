"""`deploy` through the real LocalWorkspace/Stack classes and the recording stand-in CLI."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from deployer_repo import ROLES, platform_targets, write_repo
from deployer_fakes import RecordingPulumiCommand
from mlops_platform.deployer.backends import Backend
from mlops_platform.deployer.errors import MissingPassphraseError, MissingPulumiCliError, StackLockedError
from mlops_platform.deployer.graph import build_graph
from mlops_platform.deployer.orchestrator import DeployOptions, deploy
from mlops_platform.deployer.progress import JsonProgress
from mlops_platform.deployer.runner import AutomationStackRunner

ORDER = ["data", "exp", "res", "dev", "int", "prod"]


def run(platform, runner, progress, **options):
    graph, targets = platform
    selected = options.pop("selected", None)
    return deploy(graph, targets, runner, progress, DeployOptions(yes=options.pop("yes", True), **options), selected)


@dataclass
class FirstRun:
    """One full deploy of the six stacks into a fresh backend, observed by several tests."""

    repo: Path
    cli: RecordingPulumiCommand
    committed_before: dict[str, bytes]
    committed_after: dict[str, bytes]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> FirstRun:
    repo = write_repo(tmp_path_factory.mktemp("first-run") / "repo", {role: role for role in ROLES})
    url = (repo / ".pulumi-state").as_uri()
    cli = RecordingPulumiCommand()
    committed = lambda: {path.name: path.read_bytes() for path in repo.glob("Pulumi*.yaml")}  # noqa: E731
    before = committed()
    with mock.patch.dict(os.environ, {"PULUMI_CONFIG_PASSPHRASE": "test-passphrase"}):
        runner = AutomationStackRunner(repo, Backend("local", url, "passphrase", {"PULUMI_BACKEND_URL": url}),
                                       pulumi_command=cli)
        stacks = {role: role for role in ROLES}
        run((build_graph(stacks), platform_targets(repo, stacks)), runner, JsonProgress(io.StringIO()))
    return FirstRun(repo, cli, before, committed())


def test_ups_follow_the_graph_order(first_run):
    assert [stack for _, stack in first_run.cli.ops("up")] == ORDER


def test_every_up_is_preceded_by_a_preview_with_the_policy_pack_of_its_role(first_run):
    cli, repo = first_run.cli, first_run.repo
    for stack in ORDER:
        calls = [c for c in cli.calls if c.stack == stack and c.verb in ("preview", "up")]
        assert [c.verb for c in calls] == ["preview", "up"], f"{stack}: expected a preview before the up"
        preview = calls[0]
        assert (preview.values("--policy-pack"), preview.values("--policy-pack-config")) == (
            [str(repo / "policies")], [str(repo / f"policies/config/{stack}.json")]
        ), f"{stack}: preview must run the policy pack with policy-config.{stack}.json"


def test_the_up_also_enforces_the_policy_pack(first_run):
    up = next(c for c in first_run.cli.calls if c.verb == "up" and c.stack == "prod")
    assert up.values("--policy-pack-config") == [str(first_run.repo / "policies/config/prod.json")]


def test_a_mandatory_violation_stops_the_stack_and_skips_its_dependents(platform, runner, cli, behaviour, json_progress):
    behaviour.violations["res"] = ["s3-bucket-kms"]
    report = run(platform, runner, json_progress)
    assert ("up", "res") not in cli.ops("up"), "res must not be updated after a mandatory violation"
    assert {name: report.states[name] for name in ("res", "dev", "int", "prod")} == {
        "res": "failed", "dev": "skipped", "int": "skipped", "prod": "skipped"}
    assert "s3-bucket-kms" in report.reasons["res"]


def test_a_failed_up_skips_dependents_and_fails_the_run(platform, runner, cli, behaviour, json_progress):
    behaviour.fail_up.add("dev")
    report = run(platform, runner, json_progress)
    assert (report.ok, report.states["int"], report.states["prod"]) == (False, "skipped", "skipped")
    assert [stack for _, stack in cli.ops("up")] == ["data", "exp", "res", "dev"]


def test_a_rerun_resumes_where_the_failed_run_stopped(platform, runner, cli, behaviour, json_progress):
    behaviour.fail_up.add("int")
    run(platform, runner, json_progress)
    behaviour.fail_up.clear()
    first_run_calls = len(cli.calls)
    report = run(platform, runner, JsonProgress(io.StringIO()))
    rerun_ups = [call.stack for call in cli.calls[first_run_calls:] if call.verb == "up"]
    assert rerun_ups == ["int", "prod"], "a re-run must update only what the failed run did not finish"
    assert [report.states[s] for s in ORDER] == ["unchanged"] * 4 + ["succeeded"] * 2


def test_a_second_run_changes_nothing(platform, runner, cli, json_progress):
    run(platform, runner, json_progress)
    ups_before = len(cli.ops("up"))
    report = run(platform, runner, JsonProgress(io.StringIO()))
    assert len(cli.ops("up")) == ups_before and set(report.states.values()) == {"unchanged"}


def test_preview_only_never_updates(platform, runner, cli, json_progress):
    report = run(platform, runner, json_progress, preview_only=True)
    assert cli.ops("up") == [] and report.states["prod"] == "previewed"


def test_int_and_prod_need_a_confirmation_when_interactive(platform, runner, cli, json_progress):
    asked = []
    report = run(platform, runner, json_progress, yes=False, confirm=lambda question: asked.append(question) or False)
    assert (report.states["dev"], report.states["int"], report.states["prod"]) == ("succeeded", "skipped", "skipped")
    assert len(asked) == 1 and "int" in asked[0], f"only int is asked (prod is skipped after it): {asked}"


def test_without_a_terminal_and_without_yes_int_is_not_deployed(platform, runner, cli, json_progress):
    report = run(platform, runner, json_progress, yes=False, confirm=None)
    assert ("up", "int") not in cli.ops("up") and report.states["int"] == "skipped"


def test_independent_stacks_run_in_parallel_up_to_max_stacks(tmp_path, passphrase, backend, cli, behaviour):
    stacks = {"data": "data", "exp": "exp", "res": "res", "dev": "dev", "int": "int", "prod": "prod", "prod-eu": "prod"}
    repo = write_repo(tmp_path / "two-prod", stacks)
    runner = AutomationStackRunner(repo, backend, pulumi_command=cli)
    behaviour.up_delay.update({"prod": 1.0, "prod-eu": 1.0})
    deploy(build_graph(stacks), platform_targets(repo, stacks), runner, JsonProgress(io.StringIO()),
           DeployOptions(yes=True, max_stacks=2), None)
    assert cli.max_active == 2, "prod and prod-eu must be updated at the same time"


def test_max_stacks_one_runs_one_stack_at_a_time(tmp_path, passphrase, backend, cli, behaviour):
    stacks = {"res": "res", "dev": "dev", "int": "int", "prod": "prod", "prod-eu": "prod"}
    repo = write_repo(tmp_path / "serial", stacks)
    behaviour.up_delay.update({"prod": 0.3, "prod-eu": 0.3})
    deploy(build_graph(stacks), platform_targets(repo, stacks), AutomationStackRunner(repo, backend, pulumi_command=cli),
           JsonProgress(io.StringIO()), DeployOptions(yes=True, max_stacks=1), None)
    assert cli.max_active == 1


def test_selected_stack_needs_its_upstream_deployed(platform, runner, cli, fake_state, json_progress):
    from mlops_platform.deployer.errors import DeployerError

    for name in ("data", "exp", "res", "dev"):
        fake_state.deployed("mlops-platform", name)
    with pytest.raises(DeployerError, match=r"upstream stack\(s\) not deployed yet: int \("):
        run(platform, runner, json_progress, selected=["prod"])
    assert cli.ops("preview", "up") == []


def test_selected_stack_runs_alone_when_upstream_is_deployed(platform, runner, cli, fake_state, json_progress):
    for name in ("data", "exp", "res", "dev", "int"):
        fake_state.deployed("mlops-platform", name)
    run(platform, runner, json_progress, selected=["prod"])
    assert {stack for _, stack in cli.ops("preview", "up")} == {"prod"}


def test_committed_stack_files_are_unchanged_after_a_run(first_run):
    assert first_run.committed_after == first_run.committed_before, \
        "the deployer must not write into the committed project or stack files"


def test_the_cli_wrote_its_secrets_provider_fields_into_the_working_copy(first_run):
    """Guards the test above: the stand-in does write stack files, so a run in the repo would show."""
    saved = first_run.repo / ".pulumi-state" / "workspace-settings" / "mlops-platform" / "Pulumi.dev.yaml"
    assert "encryptionsalt" in saved.read_text()


def test_the_working_copy_runs_the_repositorys_program(first_run):
    preview = next(c for c in first_run.cli.calls if c.verb == "preview")
    assert (preview.cwd != str(first_run.repo), preview.program) == (True, (first_run.repo / "platform").resolve())


def test_the_working_copy_is_removed_and_the_program_kept(first_run):
    assert not any(Path(c.cwd).exists() for c in first_run.cli.calls), "working copies must be removed after each operation"
    assert (first_run.repo / "platform" / "__main__.py").is_file(), "removing a working copy must not touch what it links"


def test_secrets_fields_are_kept_when_the_first_preview_fails(platform, runner, cli, behaviour, repo, json_progress):
    behaviour.violations["data"] = ["s3-bucket-kms"]
    run(platform, runner, json_progress)
    saved = repo / ".pulumi-state" / "workspace-settings" / "mlops-platform" / "Pulumi.data.yaml"
    assert "encryptionsalt" in saved.read_text(), "stack init wrote a salt before the preview failed; it must be kept"


def test_the_secrets_salt_is_kept_between_runs(platform, runner, cli, repo, json_progress):
    run(platform, runner, json_progress)
    run(platform, runner, JsonProgress(io.StringIO()))
    assert [c.stack for c in cli.calls if c.verb == "stack init"] == ORDER, "stacks are created once, then selected"


def test_a_held_lock_is_one_line_fault(platform, runner, behaviour, json_progress):
    behaviour.locked.add("data")
    with pytest.raises(StackLockedError) as error:
        run(platform, runner, json_progress)
    assert "stack data is locked" in error.value.message and "\n" not in error.value.message


def test_a_missing_passphrase_is_one_line_fault(platform, runner, monkeypatch, json_progress):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    with pytest.raises(MissingPassphraseError, match="PULUMI_CONFIG_PASSPHRASE"):
        run(platform, runner, json_progress)


def test_a_missing_pulumi_cli_names_the_install_command(repo, backend, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    runner = AutomationStackRunner(repo, backend)
    with pytest.raises(MissingPulumiCliError, match=r"curl -fsSL https://get\.pulumi\.com \| sh"):
        runner.ensure_cli()


def test_json_events_carry_stack_phase_and_type(platform, runner, behaviour):
    behaviour.advisories["dev"] = ["tags-required"]
    stream = io.StringIO()
    progress = JsonProgress(stream)
    run(platform, runner, progress)
    progress.close()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert all({"stack", "phase", "type"} <= event.keys() for event in events)
    policy = [e for e in events if e["type"] == "policy"]
    assert policy and policy[0]["policy"] == "tags-required" and policy[0]["phase"] == "preview"
    results = {e["stack"]: e for e in events if e["type"] == "result"}
    assert (results["dev"]["created"], results["dev"]["policyAdvisory"]) == (5, 1)


def test_a_fresh_runner_restores_the_secrets_provider_from_the_state(platform, runner, cli, repo, json_progress):
    """CI starts without .pulumi-state/workspace-settings: the fields come back from `stack export`."""
    import shutil

    run(platform, runner, json_progress)
    shutil.rmtree(runner.settings_dir)
    first_run_calls = len(cli.calls)
    report = run(platform, runner, JsonProgress(io.StringIO()))
    rerun = cli.calls[first_run_calls:]
    assert set(report.states.values()) == {"unchanged"}, report.reasons
    exports = [c.stack for c in rerun if c.verb == "stack export" and "--show-secrets" not in c.args]
    assert exports == ORDER, "each existing stack's secrets provider is read from its state once"


def test_without_the_restore_an_existing_stack_cannot_be_opened(platform, runner, cli, json_progress, monkeypatch):
    """Guards the test above: the stand-in refuses a stack file without the stack's secrets fields."""
    import shutil

    run(platform, runner, json_progress)
    shutil.rmtree(runner.settings_dir)
    monkeypatch.setattr(AutomationStackRunner, "_restore_secrets_provider", staticmethod(lambda stack, path: None))
    report = run(platform, runner, JsonProgress(io.StringIO()))
    assert report.states["data"] == "failed" and "secrets provider" in report.reasons["data"]


def test_secrets_fields_come_from_the_recorded_provider():
    from mlops_platform.deployer.runner import secrets_fields_from_state

    assert secrets_fields_from_state({"type": "passphrase", "state": {"salt": "v1:abc"}}) == {"encryptionsalt": "v1:abc"}
    assert secrets_fields_from_state(
        {"type": "cloud", "state": {"url": "awskms://alias/mlops-pulumi-state?region=eu-central-1", "encryptedkey": "k"}}
    ) == {"secretsprovider": "awskms://alias/mlops-pulumi-state?region=eu-central-1", "encryptedkey": "k"}
    assert secrets_fields_from_state({"type": "service", "state": {}}) == {}
