"""`mlops-platform bootstrap --stage-toolchain`: the isolated image builds' toolchain, staged by bootstrap."""

from __future__ import annotations

import subprocess

from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.cli import app
from mlops_platform.commands import bootstrap as bootstrap_command


def test_dry_run_names_the_release_bucket_key_and_script() -> None:
    result = CliRunner().invoke(app, ["bootstrap", "--stage-toolchain", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [
        "bash",
        str(REPO_ROOT / "images/stage_toolchain.sh"),
        "s3://mlops-release-333333333333-eu-central-1/toolchain/pulumi-toolchain.zip",
        "arn:aws:kms:eu-central-1:333333333333:alias/mlops-release",
    ]


def test_the_script_reads_the_pins_it_stages() -> None:
    script = (REPO_ROOT / "images/stage_toolchain.sh").read_text()
    assert 'pin pulumi)' in script and "pulumi[-_]aws" in script and "plugin install resource aws" in script


class _Session:
    def __init__(self, credentials: object) -> None:
        self.credentials = credentials

    def get_credentials(self) -> object:
        return self.credentials


def test_a_failed_staging_exits_1_with_one_line(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(bootstrap_command, "base_session", lambda: _Session(object()))
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command) or subprocess.CompletedProcess(command, 3))
    result = CliRunner().invoke(app, ["bootstrap", "--stage-toolchain"])
    assert result.exit_code == 1 and calls, result.output
    assert result.stderr.strip() == "error: staging the toolchain failed (exit 3); see the lines above"


def test_staging_without_credentials_runs_nothing(monkeypatch) -> None:
    """The credentials are checked before the script downloads the toolchain."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command) or subprocess.CompletedProcess(command, 0))
    monkeypatch.setattr(bootstrap_command, "base_session", lambda: _Session(None))
    result = CliRunner().invoke(app, ["bootstrap", "--stage-toolchain"])
    assert result.exit_code == 2 and calls == [], f"bootstrap --stage-toolchain ran {calls} without credentials"
    assert result.stderr.startswith("error: --stage-toolchain") and "no AWS credentials" in result.stderr, result.stderr
