"""Fixtures for the deployer tests: a small repository on disk and the stand-in Pulumi CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from deployer_fakes import Behaviour, FakeBackend, RecordingPulumiCommand
from deployer_repo import ROLES, platform_targets, write_repo
from mlops_platform.deployer.backends import Backend
from mlops_platform.deployer.graph import build_graph
from mlops_platform.deployer.progress import JsonProgress
from mlops_platform.deployer.runner import AutomationStackRunner


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test-passphrase")


@pytest.fixture
def repo(tmp_path, passphrase) -> Path:
    return write_repo(tmp_path / "repo", {role: role for role in ROLES})


@pytest.fixture
def backend(repo) -> Backend:
    url = (repo / ".pulumi-state").as_uri()
    return Backend("local", url, "passphrase", {"PULUMI_BACKEND_URL": url})


@pytest.fixture
def fake_state() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def behaviour() -> Behaviour:
    return Behaviour()


@pytest.fixture
def cli(fake_state, behaviour) -> RecordingPulumiCommand:
    return RecordingPulumiCommand(fake_state, behaviour)


@pytest.fixture
def runner(repo, backend, cli) -> AutomationStackRunner:
    return AutomationStackRunner(repo, backend, pulumi_command=cli)


@pytest.fixture
def platform(repo):
    """(graph, targets) of the six platform stacks."""
    stacks = {role: role for role in ROLES}
    return build_graph(stacks), platform_targets(repo, stacks)


@pytest.fixture
def json_progress():
    return JsonProgress(io.StringIO())


@pytest.fixture
def config_repo(tmp_path, passphrase) -> Path:
    """The fixture repository with this repo's real (validated) organization.yaml and stack files."""
    from mlops_core.paths import REPO_ROOT
    from mlops_platform.policy_config import write_all

    root = write_repo(tmp_path / "cfg-repo", {})
    for source in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (root / source.name).write_text(source.read_text())
    write_all(root)  # policies/config/<role>.json as `mlops-platform policy-config` writes them
    return root


@pytest.fixture
def cli_app(config_repo, backend, cli, monkeypatch):
    """The typer app with the deploy commands rooted at ``config_repo`` and the stand-in CLI."""
    import typer

    from mlops_platform.commands import deploy as deploy_cmd

    monkeypatch.setattr(deploy_cmd, "ROOT", config_repo)
    monkeypatch.setattr(deploy_cmd, "make_runner",
                        lambda root, backend: AutomationStackRunner(root, backend, pulumi_command=cli))
    app = typer.Typer()
    deploy_cmd.register(app)
    return app
