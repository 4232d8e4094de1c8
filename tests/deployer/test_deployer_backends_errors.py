"""Backend selection, the one-line faults, and the closing table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.automation import CommandResult
from pulumi.automation.errors import create_command_error
from rich.console import Console

from mlops_platform.deployer.backends import resolve_backend
from mlops_platform.deployer.errors import (
    DeployerError,
    MissingCredentialsError,
    MissingPassphraseError,
    MissingPulumiCliError,
    StackLockedError,
    classify_command_error,
    last_line,
)
from mlops_platform.deployer.progress import LiveProgress
from mlops_platform.deployer.runner import OperationResult

ALIAS = "alias/mlops-pulumi-state"


def resolve(root: Path, url=None, environ=None, credentials=True):
    return resolve_backend(root, url, kms_alias=ALIAS, region="eu-central-1", environ=environ or {},
                           has_aws_credentials=lambda: credentials)


def test_default_backend_is_the_local_state_directory_with_a_passphrase(tmp_path):
    backend = resolve(tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE": "x"})
    assert (backend.kind, backend.url, backend.secrets_provider) == (
        "local", (tmp_path / ".pulumi-state").resolve().as_uri(), "passphrase")


def test_local_backend_without_a_passphrase_is_refused(tmp_path):
    with pytest.raises(MissingPassphraseError, match="PULUMI_CONFIG_PASSPHRASE"):
        resolve(tmp_path)


def test_s3_backend_uses_the_state_key_as_awskms_secrets_provider(tmp_path):
    backend = resolve(tmp_path, "s3://mlops-pulumi-state-333333333333-eu-central-1?region=eu-central-1")
    assert (backend.kind, backend.secrets_provider) == ("s3", f"awskms://{ALIAS}?region=eu-central-1")
    assert backend.env == {"PULUMI_BACKEND_URL": "s3://mlops-pulumi-state-333333333333-eu-central-1?region=eu-central-1"}


def test_s3_backend_without_aws_credentials_is_refused(tmp_path):
    with pytest.raises(MissingCredentialsError, match="needs AWS credentials"):
        resolve(tmp_path, "s3://bucket", credentials=False)


def test_pulumi_access_token_selects_pulumi_cloud(tmp_path):
    backend = resolve(tmp_path, environ={"PULUMI_ACCESS_TOKEN": "pul-123"})
    assert (backend.kind, backend.url, backend.secrets_provider) == ("cloud", "https://api.pulumi.com", None)


def test_explicit_backend_wins_over_the_pulumi_token(tmp_path):
    backend = resolve(tmp_path, "s3://bucket", environ={"PULUMI_ACCESS_TOKEN": "pul-123"})
    assert backend.kind == "s3"


def test_unknown_backend_scheme_is_bad_input(tmp_path):
    with pytest.raises(DeployerError, match="unsupported backend"):
        resolve(tmp_path, "gs://bucket")


def cli_error(stderr: str, stdout: str = ""):
    return create_command_error(CommandResult(stdout=stdout, stderr=stderr, code=255))


def test_lock_message_is_a_stack_locked_fault():
    error = cli_error("error: the stack is currently locked by 1 lock(s). Either wait for the other process")
    assert isinstance(classify_command_error("res", error), StackLockedError)


def test_passphrase_message_is_a_missing_passphrase_fault():
    error = cli_error("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE")
    assert isinstance(classify_command_error("res", error), MissingPassphraseError)


def test_provider_credential_message_is_a_missing_credentials_fault():
    error = cli_error("", "error: unable to validate AWS credentials.\nError: No valid credential sources found")
    fault = classify_command_error("dev", error)
    assert isinstance(fault, MissingCredentialsError) and "\n" not in fault.message


def test_missing_executable_is_the_missing_cli_fault():
    fault = classify_command_error("dev", FileNotFoundError("pulumi"))
    assert isinstance(fault, MissingPulumiCliError) and "https://get.pulumi.com" in fault.message


def test_an_ordinary_failure_is_not_a_fault():
    assert classify_command_error("dev", cli_error("error: creating S3 Bucket: BucketAlreadyExists")) is None


def test_last_line_keeps_the_last_error_line():
    error = cli_error("warning: x\nerror: creating S3 Bucket: BucketAlreadyExists\n")
    assert last_line(error) == "error: creating S3 Bucket: BucketAlreadyExists"


def test_closing_table_shows_counts_findings_and_state():
    console = Console(record=True, width=160, force_terminal=False)
    progress = LiveProgress(console)
    progress.register(["dev"])
    progress.state("dev", "preview", "previewing")
    progress.result("dev", OperationResult("dev", "up", changes={"create": 3, "update": 2, "delete": 1}))
    progress.state("dev", "up", "succeeded")
    progress.close()
    row = next(line for line in console.export_text().splitlines() if line.startswith("│ dev"))
    assert [cell.strip() for cell in row.strip("│").split("│")][:6] == ["dev", "succeeded", "3", "2", "1", "0/0"]
