"""A newcomer's first hour: a fresh clone, the README's step 1 with six new account IDs, then what
`make plan` runs (policy-config, plan --summary, check) exits 0 with no extra step. The gate derives
its allow-lists from the config of the run; the generated files the Pulumi CLI reads are rewritten by
one command, and a stale one is one line naming it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.cli import app

NEW_ACCOUNTS = {
    "111111111111": "510987654321",
    "222222222222": "520987654321",
    "333333333333": "530987654321",
    "444444444444": "540987654321",
    "555555555555": "550987654321",
    "666666666666": "560987654321",
}


def _clone(root: Path) -> Path:
    """What a fresh clone holds for the CLI: the config, the committed policy configs, the program."""
    root.mkdir(parents=True, exist_ok=True)
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        shutil.copy(path, root / path.name)
    shutil.copytree(REPO_ROOT / "policies" / "config", root / "policies" / "config")
    (root / "platform").symlink_to(REPO_ROOT / "platform", target_is_directory=True)
    return root


def _step_one(root: Path) -> None:
    """README step 1: replace the documentation account IDs with your own."""
    path = root / "organization.yaml"
    text = path.read_text()
    for old, new in NEW_ACCOUNTS.items():
        assert f'"{old}"' in text, f"organization.yaml no longer holds the documentation account {old}"
        text = text.replace(f'"{old}"', f'"{new}"')
    path.write_text(text)


def _cli(root: Path, *args: str):
    return CliRunner().invoke(app, ["-C", str(root), *args])


@pytest.fixture
def new_accounts(tmp_path: Path) -> Path:
    root = _clone(tmp_path / "clone")
    _step_one(root)
    return root


def test_make_plan_after_step_one_exits_zero(new_accounts: Path) -> None:
    """The Makefile's plan target, command by command, on a clone with six new account IDs."""
    makefile = (REPO_ROOT / "Makefile").read_text()
    target = makefile.split("\nplan: ", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip().removeprefix("$(BIN)/mlops-platform ").split() for line in target.splitlines()[1:]]
    assert commands == [["policy-config"], ["plan", "--summary"], ["check"]], f"make plan runs {commands}"
    for command in commands:
        result = _cli(new_accounts, *command)
        assert result.exit_code == 0, f"`mlops-platform {' '.join(command)}` after step 1: {result.output[-3000:]}"
        assert "note:" not in result.stderr, f"`{' '.join(command)}` reports stale files after policy-config: {result.stderr}"
    assert "510987654321" in (new_accounts / "policies" / "config" / "data.json").read_text()


def test_the_gate_uses_the_new_accounts_even_with_stale_files(new_accounts: Path) -> None:
    result = _cli(new_accounts, "check", "-s", "dev")
    assert result.exit_code == 0, f"check with stale policies/config/ must still pass: {result.stdout[-2000:]}"
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "`mlops-platform policy-config`" in notes[0], result.stderr
    assert "policies/config/dev.json" in notes[0], notes


def test_policy_config_check_names_the_command_then_passes(new_accounts: Path) -> None:
    stale = _cli(new_accounts, "policy-config", "--check")
    assert stale.exit_code == 1 and stale.stderr.count("\n") == 1, stale.output
    assert re.search(r"run `mlops-platform policy-config`$", stale.stderr.strip()), stale.stderr
    assert _cli(new_accounts, "policy-config").exit_code == 0
    assert _cli(new_accounts, "policy-config", "--check").exit_code == 0


def test_deploy_refuses_stale_policy_configs_before_looking_for_pulumi(new_accounts: Path, monkeypatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "not used")
    result = _cli(new_accounts, "deploy", "--yes")
    assert result.exit_code == 2, result.output
    assert "mlops-platform policy-config" in result.stderr and "Pulumi CLI" not in result.stderr, result.stderr


def test_policy_config_module_help_writes_nothing(tmp_path: Path) -> None:
    """`python -m mlops_platform.policy_config --help` prints help; it used to regenerate the files."""
    import subprocess
    import sys

    root = _clone(tmp_path / "clone")
    _step_one(root)
    before = {p.name: p.read_text() for p in (root / "policies" / "config").iterdir()}
    done = subprocess.run([sys.executable, "-m", "mlops_platform.policy_config", "--help"], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--check" in done.stdout, done.stderr
    after = {p.name: p.read_text() for p in (root / "policies" / "config").iterdir()}
    assert after == before, "--help rewrote policies/config/"


def test_the_stale_file_itself_would_have_failed_the_gate(new_accounts: Path) -> None:
    """What the newcomer hit: the committed (old-account) file as the gate's config blocks the stack."""
    stale = new_accounts / "policies" / "config" / "dev.json"
    result = _cli(new_accounts, "check", "-s", "dev", "--policy-config", str(stale))
    assert result.exit_code == 1 and "not a platform account" in result.stdout, result.stdout[-1500:]


def test_pull_requests_fail_on_stale_policy_configs_and_upload_the_report() -> None:
    import yaml

    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    steps = workflow["jobs"]["guardrails"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any("mlops-platform policy-config --check" in run for run in runs), runs
    assert any("mlops-platform report --out report.html" in run for run in runs), runs
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report.html", upload
