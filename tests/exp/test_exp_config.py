"""Validation of the EXP workspace settings in organization.yaml (one clear line per problem)."""

from __future__ import annotations

import pytest
import yaml

from mlops_core.config import ConfigError, load_organization


def write(repo_copy, workspace: dict) -> None:
    path = repo_copy / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["workspace"] = workspace
    path.write_text(yaml.safe_dump(raw))


def test_default_source_control_is_a_github_connection(org) -> None:
    assert (org.workspace.source_control.provider, org.workspace.source_control.provider_type) == ("codeconnections", "GitHub")


def test_self_managed_provider_needs_host(repo_copy) -> None:
    write(repo_copy, {"sourceControl": {"providerType": "GitLabSelfManaged"}})
    with pytest.raises(ConfigError, match="needs hostEndpoint and hostCidr"):
        load_organization(repo_copy)


def test_host_endpoint_is_only_for_self_managed(repo_copy) -> None:
    write(repo_copy, {"sourceControl": {"providerType": "GitHub", "hostEndpoint": "https://git.example.com"}})
    with pytest.raises(ConfigError, match="only for self-managed"):
        load_organization(repo_copy)


def test_self_managed_provider_with_host_is_accepted(repo_copy) -> None:
    write(repo_copy, {"sourceControl": {"providerType": "GitLabSelfManaged", "hostEndpoint": "https://git.example.com", "hostCidr": "10.99.0.0/24"}})
    assert load_organization(repo_copy).workspace.source_control.host_cidr == "10.99.0.0/24"


def test_unknown_provider_is_named(repo_copy) -> None:
    write(repo_copy, {"sourceControl": {"provider": "svn"}})
    with pytest.raises(ConfigError, match=r"workspace\.sourceControl\.provider: 'svn' is not allowed"):
        load_organization(repo_copy)


def test_idle_timeout_below_an_hour_is_refused(repo_copy) -> None:
    write(repo_copy, {"studioIdleTimeoutMinutes": 30})
    with pytest.raises(ConfigError, match="studioIdleTimeoutMinutes"):
        load_organization(repo_copy)


def test_max_idle_below_idle_is_refused(repo_copy) -> None:
    write(repo_copy, {"studioIdleTimeoutMinutes": 120, "studioMaxIdleTimeoutMinutes": 60})
    with pytest.raises(ConfigError, match="at least studioIdleTimeoutMinutes"):
        load_organization(repo_copy)


def test_self_managed_host_is_planned_in_the_vpc(repo_copy) -> None:
    from mlops_platform.harness import plan_stack

    write(repo_copy, {"sourceControl": {"providerType": "GitLabSelfManaged", "hostEndpoint": "https://git.example.com", "hostCidr": "10.99.0.0/24"}})
    plan = plan_stack("exp", root=repo_copy)
    (host,) = plan.of_type("aws:codeconnections/host:Host")
    (connection,) = plan.of_type("aws:codeconnections/connection:Connection")
    assert host.inputs["vpcConfiguration"]["subnetIds"] and connection.inputs.get("hostArn"), host.urn


def test_config_project_may_not_use_the_product_prefix(repo_copy) -> None:
    from mlops_platform.harness import PlanError, plan_stack

    path = repo_copy / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["modelProjects"][1]["name"] = "sc-welds"
    for person in raw["dataScientists"]:
        person["projects"] = ["sc-welds" if p == "spot-weld-qa" else p for p in person["projects"]]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PlanError, match="'sc-welds' starts with 'sc-', which is reserved"):
        plan_stack("exp", root=repo_copy)
