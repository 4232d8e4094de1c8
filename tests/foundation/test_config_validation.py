"""Malformed configuration is rejected with one line naming the file and the key, before any
resource is declared: through the offline plan (exit 2) and through the program's entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlops_core.paths import REPO_ROOT
from mlops_core.config import ConfigError, list_stacks, load_settings, read_stack_config
from mlops_platform.harness import PLATFORM_PROJECT, PlanError, run_program


@dataclass(frozen=True)
class BadConfig:
    case: str
    file: str  # "organization.yaml" or a stack name
    mutate: Callable[[dict], None]
    expected: tuple[str, ...]  # substrings of the one-line error


def _walk(doc, path: str):
    *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
    node = doc
    for part in parents:
        node = node[part]
    return node, last


def _set(path: str, value):
    def mutate(doc: dict) -> None:
        node, last = _walk(doc, path)
        node[last] = value

    return mutate


def _delete(path: str):
    def mutate(doc: dict) -> None:
        node, last = _walk(doc, path)
        del node[last]

    return mutate


def _without_data_account(doc: dict) -> None:
    """No DATA account: the lake's data sets and the projects' grants go too."""
    del doc["accounts"]["data"]
    doc.pop("dataSets", None)
    for project in doc.get("modelProjects", []):
        project.pop("dataAccess", None)


BAD_CONFIGS = [
    BadConfig("role missing", "exp", _delete("config/mlops:role"), ("Pulumi.exp.yaml", "mlops:role", "required")),
    BadConfig("role unknown", "exp", _set("config/mlops:role", "staging"), ("mlops:role", "'staging'")),
    BadConfig("cidr malformed", "exp", _set("config/mlops:vpcCidr", "10.20.0.0/33"), ("mlops:vpcCidr", "not a valid")),
    BadConfig("cidr public", "exp", _set("config/mlops:vpcCidr", "8.8.0.0/16"), ("mlops:vpcCidr", "private")),
    BadConfig("cidr too large", "exp", _set("config/mlops:vpcCidr", "10.0.0.0/8"), ("mlops:vpcCidr", "/16 and /24")),
    BadConfig("cidr host bits", "exp", _set("config/mlops:vpcCidr", "10.20.0.1/20"), ("mlops:vpcCidr", "host bits")),
    BadConfig("cidr overlaps", "exp", _set("config/mlops:vpcCidr", "10.40.0.0/21"), ("mlops:vpcCidr", "overlaps", "10.40.0.0/21")),
    BadConfig("one az", "exp", _set("config/mlops:azIds", ["euc1-az1"]), ("mlops:azIds", "2 or 3")),
    BadConfig("four azs", "exp", _set("config/mlops:azIds", ["euc1-az1", "euc1-az2", "euc1-az3", "euc1-az4"]), ("mlops:azIds", "2 or 3")),
    BadConfig("az repeated", "exp", _set("config/mlops:azIds", ["euc1-az1", "euc1-az1"]), ("mlops:azIds", "distinct")),
    BadConfig("az name not id", "exp", _set("config/mlops:azIds", ["eu-central-1a", "eu-central-1b"]), ("mlops:azIds", "AZ ID")),
    BadConfig("az regions mixed", "exp", _set("config/mlops:azIds", ["euc1-az1", "use1-az2"]), ("mlops:azIds", "mix regions")),
    BadConfig("unknown key", "exp", _set("config/mlops:vpcCider", "10.20.0.0/20"), ("mlops:vpcCider", "unknown key")),
    BadConfig("retention short", "exp", _set("config/mlops:baseline/logRetentionDays", 30), ("mlops:baseline.logRetentionDays",)),
    BadConfig("budget negative", "exp", _set("config/mlops:baseline/budget/monthlyLimitUsd", -5), ("mlops:baseline.budget.monthlyLimitUsd", "greater than 0")),
    BadConfig("budget email", "exp", _set("config/mlops:baseline/budget/alertEmails", ["not-an-email"]), ("mlops:baseline.budget.alertEmails[0]",)),
    BadConfig("session name", "exp", _set("config/mlops:deployRole", {"sessionName": "has spaces"}), ("mlops:deployRole.sessionName",)),
    BadConfig("secret in config", "exp", _set("config/mlops:deployRole", {"secure": "v1:abc"}), ("mlops:deployRole", "secret")),
    BadConfig("account id short", "organization.yaml", _set("accounts/exp", "22222222222"), ("organization.yaml", "accounts.exp", "12-digit")),
    BadConfig("account id unquoted", "organization.yaml", _set("accounts/exp", 222222222222), ("accounts.exp", "quoted")),
    BadConfig("account ids shared", "organization.yaml", _set("accounts/int", "444444444444"), ("accounts", "same account")),
    BadConfig("region", "organization.yaml", _set("region", "Frankfurt"), ("organization.yaml", "region")),
    BadConfig("platform name", "organization.yaml", _set("platformName", "MLOps_Platform"), ("platformName",)),
    BadConfig("reserved tag", "organization.yaml", _set("tags", {"aws:owner": "x"}), ("tags", "reserved")),
    BadConfig("audit retention short", "organization.yaml", _set("auditLogs", {"retentionDays": 30}), ("organization.yaml", "auditLogs.retentionDays", "365")),
    BadConfig("unknown org key", "organization.yaml", _set("acounts", {}), ("acounts", "unknown key")),
    BadConfig("data without account", "organization.yaml", _without_data_account, ("Pulumi.data.yaml",)),
    BadConfig("data sets without account", "organization.yaml", _delete("accounts/data"), ("organization.yaml", "dataSets: need accounts.data")),
    BadConfig("unknown project", "organization.yaml", _set("dataScientists/0/projects", ["nope"]), ("organization.yaml", "unknown project 'nope'")),
    BadConfig("pii column granted", "organization.yaml", _set("modelProjects/0/dataAccess/0/columns", ["worker_id"]), ("worker_id", "pii")),
]


def _apply(root: Path, bad: BadConfig) -> None:
    path = root / ("organization.yaml" if bad.file == "organization.yaml" else f"Pulumi.{bad.file}.yaml")
    doc = yaml.safe_load(path.read_text())
    bad.mutate(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _target_stack(bad: BadConfig) -> str:
    return "data" if bad.case == "data without account" else "exp"


@pytest.mark.parametrize("bad", BAD_CONFIGS, ids=[b.case for b in BAD_CONFIGS])
def test_loader_rejects_with_one_line_naming_the_key(repo_copy: Path, bad: BadConfig) -> None:
    _apply(repo_copy, bad)
    stack = _target_stack(bad)
    with pytest.raises(ConfigError) as caught:
        load_settings(stack, repo_copy)
    message = str(caught.value)
    if bad.case == "data without account":
        bad = BadConfig(bad.case, bad.file, bad.mutate, ("Pulumi.data.yaml", "mlops:role", "no accounts.data"))
    assert "\n" not in message, f"{bad.case}: error spans several lines: {message!r}"
    for fragment in bad.expected:
        assert fragment in message, f"{bad.case}: {fragment!r} not in error {message!r}"


@pytest.mark.parametrize("bad", BAD_CONFIGS, ids=[b.case for b in BAD_CONFIGS])
def test_program_entry_point_declares_nothing(repo_copy: Path, bad: BadConfig) -> None:
    """The program itself (as `pulumi up` runs it) fails with pulumi.RunError before any resource."""
    _apply(repo_copy, bad)
    stack = _target_stack(bad)
    config = read_stack_config(stack, repo_copy)
    with pytest.raises(PlanError) as caught:
        run_program(repo_copy / "platform", PLATFORM_PROJECT, stack, config, "222222222222", "eu-central-1", root=repo_copy)
    assert caught.value.records == [], f"{bad.case}: resources declared before validation: {[r.name for r in caught.value.records]}"
    assert "\n" not in str(caught.value), f"{bad.case}: multi-line error {caught.value}"


def _expected_for_plan(bad: BadConfig) -> tuple[str, ...]:
    if bad.case == "data without account":
        return ("Pulumi.data.yaml", "mlops:role", "no accounts.data")
    return bad.expected


@pytest.mark.parametrize("bad", BAD_CONFIGS, ids=[b.case for b in BAD_CONFIGS])
def test_offline_plan_exits_2_with_one_line_per_problem(repo_copy: Path, bad: BadConfig) -> None:
    """`mlops-platform -C <copy> plan` (in-process): exit 2, `error:` lines naming the key, nothing planned."""
    from typer.testing import CliRunner

    from mlops_platform.cli import app

    _apply(repo_copy, bad)
    stack = _target_stack(bad)
    result = CliRunner().invoke(app, ["-C", str(repo_copy), "plan", *([] if bad.case == "cidr overlaps" else ["--stack", stack])])
    assert result.exit_code == 2, f"{bad.case}: exit {result.exit_code}, output {result.output!r}"
    assert result.stdout == "", f"{bad.case}: the plan printed resources despite the bad config"
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), f"{bad.case}: stderr {result.stderr!r}"
    assert len(lines) == (2 if bad.case == "cidr overlaps" else 1), f"{bad.case}: one problem, one line: {lines}"
    for fragment in _expected_for_plan(bad):
        assert any(fragment in line for line in lines), f"{bad.case}: {fragment!r} not in {lines!r}"


def test_offline_plan_process_exits_2_without_traceback(repo_copy: Path) -> None:
    """The installed entry point as a process: exit code 2 and one line, no traceback."""
    _apply(repo_copy, BAD_CONFIGS[7])  # one AZ
    env = {**os.environ, "MLOPS_PLATFORM_ROOT": str(repo_copy)}
    result = subprocess.run(
        [sys.executable, "-m", "mlops_platform.cli", "plan"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "mlops:azIds" in result.stderr, result.stderr


def test_committed_stacks_are_valid() -> None:
    for stack in ("data", "exp", "res", "dev", "int", "prod"):
        settings = load_settings(stack, REPO_ROOT)
        assert settings.role == stack, f"Pulumi.{stack}.yaml declares role {settings.role}"


def test_role_is_read_from_config_not_the_stack_name(repo_copy: Path) -> None:
    doc = yaml.safe_load((repo_copy / "Pulumi.prod.yaml").read_text())
    doc["config"]["mlops:vpcCidr"] = "10.70.0.0/20"
    (repo_copy / "Pulumi.prod-eu.yaml").write_text(yaml.safe_dump(doc))
    assert load_settings("prod-eu", repo_copy).role == "prod"


# ---- the model projects' stacks (exp.<project>): config derived, never a file --------------------


def test_a_project_stack_config_is_its_exp_stack_config_and_its_project() -> None:
    derived = read_stack_config("exp.weld-gun-pm", REPO_ROOT)
    assert derived == {**read_stack_config("exp", REPO_ROOT), "mlops:modelProject": "weld-gun-pm"}, derived


def test_a_stack_of_an_unknown_project_is_one_line_naming_the_projects() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings("exp.paint-shop", REPO_ROOT)
    assert str(error.value).count("\n") == 0 and "'paint-shop' is not a model project" in str(error.value), str(error.value)


def test_model_project_on_a_stage_stack_is_refused(repo_copy: Path) -> None:
    doc = yaml.safe_load((repo_copy / "Pulumi.dev.yaml").read_text())
    doc["config"]["mlops:modelProject"] = "weld-gun-pm"
    (repo_copy / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as error:
        load_settings("dev", repo_copy)
    assert "only EXP holds model projects" in str(error.value), str(error.value)


def test_a_written_project_stack_file_is_not_an_account_stack(repo_copy: Path) -> None:
    # A deploy's working copy may leave Pulumi.exp.<project>.yaml beside Pulumi.exp.yaml.
    (repo_copy / "Pulumi.exp.weld-gun-pm.yaml").write_text("config: {}\n")
    assert "exp.weld-gun-pm" not in list_stacks(repo_copy), list_stacks(repo_copy)
