"""The Model Building product's template (as uploaded by the plan): cfn-lint and guardrail properties."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exp_helpers import by_name, document, matches_pattern
from mlops_core.paths import REPO_ROOT

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@pytest.fixture(scope="module")
def template(exp_plan) -> dict:
    return json.loads(by_name(exp_plan, "exp-model-building-template").inputs["content"])


def resources_of(template: dict, type_name: str) -> dict:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == type_name}


def test_template_is_cfn_lint_clean(template, tmp_path) -> None:
    path = tmp_path / "model-building.json"
    path.write_text(json.dumps(template, indent=1))
    result = subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_template_takes_the_parameters_studio_passes(template) -> None:
    assert {"SageMakerProjectName", "SageMakerProjectId"} <= set(template["Parameters"])


def test_build_is_encrypted_with_a_customer_key(template) -> None:
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    assert build["EncryptionKey"].startswith("arn:aws:kms:"), build["EncryptionKey"]


def test_build_runs_in_the_exp_vpc(exp_plan, template) -> None:
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    vpc = build["VpcConfig"]
    assert vpc["Subnets"] == sorted(exp_plan.outputs["subnetIds"]) and vpc["SecurityGroupIds"] and vpc["VpcId"] == exp_plan.outputs["vpcId"], vpc


def test_build_is_unprivileged_and_logs_to_an_encrypted_group(template) -> None:
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    (group,) = resources_of(template, "AWS::Logs::LogGroup").values()
    assert build["Environment"]["PrivilegedMode"] is False and build["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED"
    assert group["KmsKeyId"].startswith("arn:aws:kms:"), group


def test_build_uses_the_platform_git_connection(exp_plan, template) -> None:
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    assert build["Source"]["Auth"] == {"Type": "CODECONNECTIONS", "Resource": exp_plan.outputs["gitConnectionArn"]}


def test_build_tests_then_upserts_with_the_platform_builder(template) -> None:
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    commands = json.loads(build["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    assert commands[0].startswith("python -m pytest") and any("python -m mlops_pipelines upsert" in c and "--start" in c for c in commands), commands


@pytest.mark.parametrize("role", ["PipelineRole", "BuildRole"])
def test_product_roles_carry_the_boundary_and_path(template, role) -> None:
    props = template["Resources"][role]["Properties"]
    assert props["PermissionsBoundary"] == "arn:aws:iam::222222222222:policy/mlops-sc-boundary" and props["Path"] == "/mlops-sc/", props


@pytest.mark.parametrize("role", ["PipelineRole", "BuildRole"])
def test_product_roles_carry_both_deny_guardrails(exp_plan, template, role) -> None:
    props = template["Resources"][role]["Properties"]
    assert sorted(props["ManagedPolicyArns"]) == sorted(exp_plan.outputs["guardrailPolicyArns"]), props["ManagedPolicyArns"]


def _statements(template: dict):
    for role in resources_of(template, "AWS::IAM::Role").values():
        for policy in role["Policies"]:
            yield from policy["PolicyDocument"]["Statement"]


def test_product_policies_have_no_wildcard_actions(template) -> None:
    for stmt in _statements(template):
        for action in stmt["Action"]:
            assert action != "*" and not re.fullmatch(r"[a-z0-9-]+:\*", action), stmt


def test_product_pass_role_names_its_own_pipeline_role(template) -> None:
    passes = [s for s in _statements(template) if "iam:PassRole" in s["Action"]]
    assert passes and all(s["Resource"] != "*" and s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passes), passes


def test_data_actions_never_apply_to_every_resource(template) -> None:
    for stmt in _statements(template):
        if any(a.startswith(("s3:", "kms:", "sagemaker:")) for a in stmt["Action"]):
            assert stmt["Resource"] != "*", stmt


def test_product_names_start_with_the_product_prefix(template) -> None:
    group = resources_of(template, "AWS::SageMaker::ModelPackageGroup")["ModelPackageGroup"]
    assert group["ModelPackageGroupName"] == {"Fn::Sub": "sc-${SageMakerProjectName}"}


def _pattern_for(template: dict, group: str) -> dict:
    """The rule's pattern as CloudFormation resolves it for a launch whose group is ``group``."""
    rule = resources_of(template, "AWS::Events::Rule")["NewVersionRule"]
    return json.loads(json.dumps(rule["EventPattern"]).replace('{"Fn::Sub": "sc-${SageMakerProjectName}"}', json.dumps(group)))


def _product_event() -> dict:
    return json.loads((REPO_ROOT / "tests/functions/fixtures/model_package_created_product_group.json").read_text())


def test_product_rule_forwards_a_real_creation_event_of_its_group(template) -> None:
    event = _product_event()
    assert matches_pattern(_pattern_for(template, event["detail"]["ModelPackageGroupName"]), event)


def test_product_rule_ignores_another_groups_event(template) -> None:
    assert not matches_pattern(_pattern_for(template, "sc-other"), _product_event())


def test_product_rule_targets_the_res_bus_with_a_role(template) -> None:
    rule = resources_of(template, "AWS::Events::Rule")["NewVersionRule"]
    (target,) = rule["Targets"]
    assert target["Arn"] == "arn:aws:events:eu-central-1:333333333333:event-bus/mlops-models" and target["RoleArn"].endswith(":role/mlops-events-to-res")


def test_boundary_has_no_wildcard_actions_or_open_pass_role(exp_plan) -> None:
    boundary = document(by_name(exp_plan, "exp-model-building-boundary").inputs["policy"])
    for stmt in boundary["Statement"]:
        assert not any(a == "*" or a.endswith(":*") for a in stmt["Action"]), stmt
        if "iam:PassRole" in stmt["Action"]:
            assert stmt["Resource"] == "arn:aws:iam::222222222222:role/mlops-sc/*" and stmt["Condition"]["StringEquals"]["iam:PassedToService"], stmt


def test_build_spec_step_pins_the_platform_values(template, tmp_path) -> None:
    """Run the build's spec step for real: repository settings kept, platform values enforced."""
    (build,) = resources_of(template, "AWS::CodeBuild::Project").values()
    commands = json.loads(build["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    (step,) = [c for c in commands if "build/spec.json" in c and c.startswith("python -c")]
    env = {v["Name"]: v["Value"] for v in build["Environment"]["EnvironmentVariables"] if isinstance(v["Value"], str)}
    env.update({"PROJECT": "sc-welds", "PIPELINE_ROLE_ARN": "arn:aws:iam::222222222222:role/mlops-sc/sc-welds-pipeline", "AWS_REGION": "eu-central-1", "MODEL_PACKAGE_GROUP": "sc-welds"})
    (tmp_path / "pipeline-spec.json").write_text(json.dumps({"metric_threshold": 0.7, "bucket": "someone-elses-bucket"}))
    result = subprocess.run(["bash", "-c", step.replace("python ", f"{sys.executable} ", 1)], cwd=tmp_path, env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    spec = json.loads((tmp_path / "build" / "spec.json").read_text())
    assert spec["metric_threshold"] == 0.7 and spec["bucket"] == env["ARTIFACTS_BUCKET"], spec
    assert spec["subnet_ids"] == build["VpcConfig"]["Subnets"] and spec["security_group_ids"] == build["VpcConfig"]["SecurityGroupIds"], spec
