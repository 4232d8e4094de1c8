"""Destroying the DATA or EXP stack keeps the Lake Formation settings and says so.

The provider's delete of ``aws.lakeformation.DataLakeSettings`` writes empty admins and
cross-account version 1: every administrator of the account would silently go. The settings are
protected and retained on delete, and the destroy command tells the operator they stay.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mlops_platform.harness import plan_stack

SETTINGS = "aws:lakeformation/dataLakeSettings:DataLakeSettings"


def deploy_all(fake_state) -> None:
    for name in ["data", "exp", "res", "dev", "int", "prod"]:
        fake_state.deployed("mlops-platform", name)


@pytest.mark.parametrize("stack", ["data", "exp"])
def test_lake_formation_settings_are_protected(stack: str) -> None:
    (settings,) = plan_stack(stack).of_type(SETTINGS)
    assert settings.protect, f"{stack}: {settings.name} is not protected; a destroy or replace would reset the account's LF admins"


@pytest.mark.parametrize("stack", ["data", "exp"])
def test_lake_formation_settings_are_retained_on_delete(stack: str) -> None:
    (settings,) = plan_stack(stack).of_type(SETTINGS)
    assert settings.retain_on_delete, f"{stack}: {settings.name} would be deleted (empty admins) once unprotected"


@pytest.mark.parametrize("stack", ["data", "exp"])
def test_destroy_says_lake_formation_settings_are_kept(cli_app, fake_state, stack: str) -> None:
    deploy_all(fake_state)
    result = CliRunner().invoke(cli_app, ["destroy", "--stack", stack, "--json"])
    assert "Lake Formation settings are kept" in result.output, f"destroy {stack} output: {result.output}"


def test_destroy_of_a_stack_without_lake_formation_does_not_mention_it(cli_app, fake_state) -> None:
    deploy_all(fake_state)
    result = CliRunner().invoke(cli_app, ["destroy", "--stack", "dev", "--json"])
    assert result.exit_code == 0, result.output
    assert "Lake Formation" not in result.output, f"destroy dev output: {result.output}"
