"""The layout rules a Pulumi Python project with a `platform/` directory must keep."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

from mlops_core.paths import REPO_ROOT


def test_stdlib_platform_module_works() -> None:
    import platform

    assert platform.system(), "platform.system() returned nothing"
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib, f"`platform` resolves to {platform.__file__}, not the stdlib"


def test_platform_directory_is_not_a_package() -> None:
    assert not (REPO_ROOT / "platform" / "__init__.py").exists(), "platform/__init__.py shadows the stdlib module"


def test_platform_stays_stdlib_when_run_from_repo_root() -> None:
    """From the repo root (where `pulumi up` runs), importing boto3 and pulumi must still work."""
    code = "import platform, boto3, pulumi; print(platform.__file__); platform.system()"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "/platform/" not in result.stdout.replace(str(REPO_ROOT), "<repo>"), result.stdout


def test_components_and_cli_packages_are_importable() -> None:
    for name in ("components", "mlops_platform", "mlops_platform.cli"):
        assert importlib.util.find_spec(name) is not None, f"{name} is not importable"


def test_pulumi_yaml_runs_platform_with_a_virtualenv() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["main"] == "platform/", "Pulumi.yaml must run the platform/ program"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"], "pulumi install needs the virtualenv option"


def test_pulumi_yaml_disables_default_providers() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    value = project["config"]["pulumi:disable-default-providers"]["value"]
    assert "*" in value, "the default AWS provider must be disabled"


def test_one_stack_file_per_account_role() -> None:
    for role in ("data", "exp", "res", "dev", "int", "prod"):
        assert (REPO_ROOT / f"Pulumi.{role}.yaml").exists(), f"Pulumi.{role}.yaml is missing"


def test_committed_config_holds_no_secrets() -> None:
    for path in REPO_ROOT.glob("Pulumi.*.yaml"):
        assert "secure:" not in path.read_text(), f"{path.name} holds a secret"
