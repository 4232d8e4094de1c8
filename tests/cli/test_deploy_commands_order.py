"""deploy, destroy and drift check what the user typed before the environment (backend, the Pulumi
CLI), so a typo is named as a typo; --json errors reach the event stream; the closing table wraps
instead of cutting words and lists each policy finding under it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pulumi.automation.events import EngineEvent, PolicyEvent
from rich.console import Console
from typer.testing import CliRunner

from mlops_platform.cli import app
from mlops_platform.deployer.progress import LiveProgress
from mlops_platform.policy_config import write_all

NO_CLI = "Pulumi CLI is not installed"


@pytest.fixture
def project(repo_copy: Path, monkeypatch) -> Path:
    """A valid project with current policy configs, on a machine without the Pulumi CLI."""
    write_all(repo_copy)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "only-for-this-test")
    monkeypatch.setenv("PATH", str(repo_copy / "no-bin"))
    return repo_copy


def _run(project: Path, *args: str):
    return CliRunner().invoke(app, ["-C", str(project), *args])


def test_the_environment_is_checked_after_valid_input(project: Path) -> None:
    result = _run(project, "deploy", "--yes")
    assert result.exit_code == 2 and NO_CLI in result.stderr, "control: valid input reaches the CLI check"


def test_deploy_with_an_unknown_stack_names_the_stack(project: Path) -> None:
    result = _run(project, "deploy", "--stack", "foo", "--yes")
    assert result.exit_code == 2 and "--stack foo" in result.stderr and NO_CLI not in result.stderr, result.stderr


def test_destroy_prod_without_confirm_is_refused_before_the_cli(project: Path) -> None:
    result = _run(project, "destroy", "--stack", "prod")
    assert result.exit_code == 2 and "--confirm prod" in result.stderr and NO_CLI not in result.stderr, result.stderr


def test_destroy_with_the_wrong_confirmation_is_refused(project: Path) -> None:
    result = _run(project, "destroy", "--stack", "dev", "--confirm", "int")
    assert result.exit_code == 2 and "has role dev" in result.stderr and NO_CLI not in result.stderr, result.stderr


def test_drift_json_reports_an_error_on_the_event_stream(project: Path) -> None:
    result = _run(project, "drift", "--stack", "nope", "--json")
    assert result.exit_code == 2 and result.stderr.startswith("error: --stack nope"), result.stderr
    event = json.loads(result.stdout.strip().splitlines()[-1])
    assert event["type"] == "error" and event["exitCode"] == 2 and "--stack nope" in event["message"], result.stdout


def test_deploy_max_stacks_below_one_is_bad_input(project: Path) -> None:
    result = _run(project, "deploy", "--max-stacks", "0", "--yes")
    assert result.exit_code == 2 and "--max-stacks 0" in result.stderr and NO_CLI not in result.stderr, result.stderr


def _policy_event(message: str, urn: str) -> EngineEvent:
    policy = PolicyEvent(message, "never", "kms-key-policy-not-public", "mlops-guardrails", "1.0.0", "", "mandatory", urn)
    return EngineEvent(1, 0, policy_event=policy)


def test_the_closing_table_wraps_at_80_columns_and_lists_the_findings() -> None:
    stream = io.StringIO()
    progress = LiveProgress(Console(file=stream, width=80, force_terminal=False, color_system=None), "deploy")
    progress.register(["exp", "res"])
    progress.state("exp", "up", "succeeded")
    urn = "urn:pulumi:res::mlops-platform::aws:kms/key:Key::res-release-key"
    progress.engine_event("res", "preview", _policy_event("res-release-key: the key policy trusts account 510987654321", urn))
    progress.state("res", "preview", "failed", "mandatory policy violation: kms-key-policy-not-public")
    progress.close()
    text = stream.getvalue()
    assert "succeeded" in text and "…" not in text, f"the table cuts cells at 80 columns:\n{text}"
    assert "res: MANDATORY kms-key-policy-not-public: res-release-key: the key policy trusts account 510987654321" in text, text
    assert urn in text, f"the finding's resource is not listed under the table:\n{text}"
