"""The offline plan harness: deterministic, isolated per stack, faithful about unknowns and secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from mlops_platform.harness import UNKNOWN, PlanError, _plain, plan_declaration, plan_stacks, run_program
from mlops_core.paths import REPO_ROOT

REQUIRED_KEYS = {"urn", "type", "name", "custom", "parent", "provider", "inputs", "protect"}


def _cli(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if root:
        env["MLOPS_PLATFORM_ROOT"] = str(root)
    return subprocess.run([sys.executable, "-m", "mlops_platform.cli", *args], capture_output=True, text=True, env=env, check=False)


def test_plan_json_has_the_pinned_shape(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = _cli("plan", "--stack", "dev", "--format", "json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    stack = json.loads(out.read_text())["stacks"]["dev"]
    assert stack["role"] == "dev"
    assert all(set(r) == REQUIRED_KEYS for r in stack["resources"]), "resource entries must have exactly the pinned keys"
    urns = [r["urn"] for r in stack["resources"]]
    assert urns == sorted(urns), "resources must be sorted by URN"
    kinds = {(r["custom"], r["type"].split(":")[0]) for r in stack["resources"]}
    assert (False, "mlops") in kinds and (True, "pulumi") in kinds, "components and providers must be listed"
    assert stack["outputs"]["vpcId"].startswith("vpc-")


def test_plan_text_shows_all_six_stacks() -> None:
    result = _cli("plan")
    assert result.returncode == 0, result.stderr
    for stack in ("data", "exp", "res", "dev", "int", "prod"):
        assert f"Stack {stack} " in result.stdout, f"stack {stack} missing from the plan"
    assert "aws:ec2/vpc:Vpc" in result.stdout and "Counts by type:" in result.stdout


def test_two_runs_give_identical_plans(platform_plans) -> None:
    from mlops_platform.harness import _CACHE

    first = json.dumps({k: p.to_json() for k, p in platform_plans.items()}, sort_keys=True)
    _CACHE.clear()
    second = json.dumps({k: p.to_json() for k, p in plan_stacks().items()}, sort_keys=True)
    assert first == second, "the plan is not deterministic"


def test_stacks_do_not_leak_exports_into_each_other(platform_plans) -> None:
    assert platform_plans["dev"].outputs["role"] == "dev" and platform_plans["prod"].outputs["role"] == "prod"
    assert platform_plans["dev"].outputs["vpcId"] != platform_plans["prod"].outputs["vpcId"]


def test_mock_arns_use_the_stack_account_and_region(platform_plans) -> None:
    assert platform_plans["prod"].outputs["platformKeyArn"].startswith("arn:aws:kms:eu-central-1:666666666666:key/")


def test_preview_leaves_computed_values_unknown(preview_plans) -> None:
    exp = preview_plans["exp"]
    (flow_log,) = exp.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["vpcId"] == UNKNOWN, "a VPC id is not known before the VPC exists"


def test_secrets_are_masked() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    assert _plain({"password": secret}) == {"password": "[secret]"}


def test_declaring_source_lines_are_recorded(platform_plans) -> None:
    (vpc,) = platform_plans["exp"].of_type("aws:ec2/vpc:Vpc")
    assert vpc.source and vpc.source[0] == "components/network.py" and vpc.source[1] > 0, vpc.source


def test_plan_runs_referenced_stacks_first(tmp_path: Path) -> None:
    """A program that references another stack gets that stack's real outputs."""
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (tmp_path / path.name).write_text(path.read_text())
    program = tmp_path / "platform"
    program.mkdir()
    (program / "__main__.py").write_text(textwrap.dedent(
        """
        import pulumi
        stack = pulumi.get_stack()
        if stack == "exp":
            pulumi.export("seen", pulumi.StackReference("organization/mlops-platform/dev").get_output("marker"))
        else:
            pulumi.export("marker", f"from-{stack}")
        """
    ))
    from mlops_platform.harness import plan_stack

    plan = plan_stack("exp", root=tmp_path)
    assert plan.outputs["seen"] == "from-dev"


def test_data_stack_is_optional(repo_copy: Path) -> None:
    org = yaml.safe_load((repo_copy / "organization.yaml").read_text())
    del org["accounts"]["data"]
    del org["dataSets"]
    for project in org["modelProjects"]:
        project.pop("dataAccess", None)
    (repo_copy / "organization.yaml").write_text(yaml.safe_dump(org))
    result = _cli("plan", root=repo_copy)
    assert result.returncode == 0, result.stderr
    assert "Stack data " not in result.stdout and "Stack exp " in result.stdout


def test_stack_references_are_part_of_the_plan(tmp_path: Path) -> None:
    for path in [REPO_ROOT / "organization.yaml", *REPO_ROOT.glob("Pulumi*.yaml")]:
        (tmp_path / path.name).write_text(path.read_text())
    program = tmp_path / "platform"
    program.mkdir()
    (program / "__main__.py").write_text(
        "import pulumi\n"
        "if pulumi.get_stack() == 'exp':\n"
        "    pulumi.StackReference('organization/mlops-platform/dev')\n"
    )
    from mlops_platform.harness import plan_stack

    references = plan_stack("exp", root=tmp_path).of_type("pulumi:pulumi:StackReference")
    assert [r.inputs["name"] for r in references] == ["organization/mlops-platform/dev"], references


# ---- plan_declaration: one component under the programs' mocks ----------------------------------------


def _declare_platform_key() -> dict:
    from components.encryption import PlatformKey, PlatformKeyArgs

    key = PlatformKey("probe", PlatformKeyArgs(account_id="123456789012", alias="alias/probe", description="probe key"))
    return {"arn": key.arn, "alias": key.alias_name}


def _declaration(preview: bool):
    from mlops_platform.harness import plan_declaration

    return plan_declaration(_declare_platform_key, account="123456789012", region="eu-west-1", preview=preview)


def test_declaration_outputs_use_the_given_account_and_region() -> None:
    arn = _declaration(preview=False).outputs["arn"]
    assert arn.startswith("arn:aws:kms:eu-west-1:123456789012:key/"), f"plan_declaration: the key ARN must follow account and region, got {arn}"


def test_declaration_preview_leaves_computed_outputs_unknown() -> None:
    assert _declaration(preview=True).outputs["arn"] == UNKNOWN, "plan_declaration(preview=True): a key ARN is unknown before the key exists"


def test_declaration_preview_keeps_plain_outputs_known() -> None:
    assert _declaration(preview=True).outputs["alias"] == "alias/probe", "plan_declaration(preview=True): plain values stay known"


def test_declaration_preview_records_computed_inputs_as_unknown() -> None:
    alias = _declaration(preview=True).named("probe-alias")
    assert (alias.inputs["name"], alias.inputs["targetKeyId"]) == ("alias/probe", UNKNOWN), alias.inputs


def test_declaration_records_children_under_their_parents() -> None:
    plan = _declaration(preview=False)
    component, key, alias = plan.named("probe"), plan.named("probe-key"), plan.named("probe-alias")
    assert (key.parent, alias.parent) == (component.urn, key.urn), "PlatformKey: key under the component, alias under the key"


def test_declaration_records_property_dependencies() -> None:
    plan = _declaration(preview=False)
    assert plan.named("probe-alias").property_dependencies["targetKeyId"] == [plan.named("probe-key").urn], (
        "the alias's targetKeyId comes from the key"
    )


def test_declarations_do_not_share_records() -> None:
    first, second = _declaration(preview=False), _declaration(preview=False)
    assert [r.name for r in second.resources].count("probe-key") == 1 and len(first.resources) == len(second.resources) == 3, (
        "each plan_declaration call records only its own registrations"
    )


def test_declaration_named_lists_what_was_declared() -> None:
    import pytest

    with pytest.raises(KeyError, match="probe-key"):
        _declaration(preview=False).named("no-such-resource")


def test_plan_declaration_refuses_a_declare_that_is_not_a_function() -> None:
    with pytest.raises(PlanError, match="declare must be a function that declares resources, not str"):
        plan_declaration("ModelEndpoint")


def test_plan_declaration_refuses_a_declare_returning_no_mapping() -> None:
    with pytest.raises(PlanError, match="declare returned list; return None or a mapping of outputs"):
        plan_declaration(lambda: ["endpoint"])
