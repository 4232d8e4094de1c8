"""Pure logic of the release path: product template (cfn-lint), buildspecs, scan gate, policy sizes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from components.deployment_product import deployment_product_template, launch_role_policy
from components.promotion_pipeline import build_actions, buildspec, stage_specs
from components.release_access import approver_policy, approval_resources
from components.stage_deployment import deployment_boundary, deployment_role_policy, stage_scope

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "images"))
import scan_gate  # noqa: E402

from .conftest import PRODUCT_VALUES as VALUES  # noqa: E402

EXPECTED_STAGES = ["Source", "DeployDev", "TestDev", "ApproveInt", "DeployInt", "TestInt", "ApproveProd", "DeployProd"]


# ---- promotion order ------------------------------------------------------------------------------


def test_stage_order_is_the_pinned_promotion_order() -> None:
    assert [s.name for s in stage_specs()] == EXPECTED_STAGES


def test_each_stage_is_deployed_before_it_is_tested_and_approved_before_it_is_deployed() -> None:
    order = [(a.kind, a.stage) for s in stage_specs() for a in s.actions if a.stage]
    for kind, stage in order:
        if kind == "test":
            assert order.index(("deploy", stage)) < order.index(("test", stage)), stage
        if kind == "deploy" and stage != "dev":
            assert order.index(("approval", stage)) < order.index(("deploy", stage)), stage


def test_buildspec_stops_when_the_package_variable_is_empty() -> None:
    (deploy_dev,) = [a for a in build_actions() if (a.kind, a.stage) == ("deploy", "dev")]
    guard = json.loads(buildspec("weld-gun-pm", deploy_dev))["phases"]["build"]["commands"][0]
    empty = subprocess.run(["bash", "-c", guard], env={"MODEL_PACKAGE_ARN": ""}, capture_output=True, text=True)
    assert empty.returncode == 2 and "MODEL_PACKAGE_ARN is empty" in empty.stdout
    given = subprocess.run(["bash", "-c", guard], env={"MODEL_PACKAGE_ARN": "arn:x"}, capture_output=True, text=True)
    assert given.returncode == 0


# ---- the product ----------------------------------------------------------------------------------


def test_product_template_is_cfn_lint_clean() -> None:
    matches = lint(json.dumps(deployment_product_template(VALUES)), config=ManualArgs(regions=["eu-central-1"]))
    problems = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id[0] in "EW"]
    assert not problems, "\n".join(problems)


def test_product_pipeline_has_the_same_stages_mode_and_variable() -> None:
    pipeline = deployment_product_template(VALUES)["Resources"]["Pipeline"]["Properties"]
    assert [s["Name"] for s in pipeline["Stages"]] == EXPECTED_STAGES
    assert (pipeline["PipelineType"], pipeline["ExecutionMode"]) == ("V2", "QUEUED")
    assert [v["Name"] for v in pipeline["Variables"]] == ["MODEL_PACKAGE_ARN"]
    assert pipeline["Name"] == {"Fn::Sub": "mlops-deploy-sc-${ProjectName}"}


def test_product_roles_carry_the_boundary_under_the_product_path() -> None:
    template = deployment_product_template(VALUES)
    roles = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert roles, "the template creates no role"
    for name, props in roles.items():
        assert props["PermissionsBoundary"] == VALUES.boundary_arn and props["Path"] == VALUES.role_path, name


def test_product_builds_run_as_the_serving_deployer_in_the_vpc() -> None:
    template = deployment_product_template(VALUES)
    builds = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    assert len(builds) == 5
    for props in builds:
        assert props["ServiceRole"] == VALUES.deployer_role_arn and props["VpcConfig"]["Subnets"] == VALUES.subnet_ids
        assert props["Environment"]["PrivilegedMode"] is False and props["EncryptionKey"] == VALUES.kms_key_arn


def test_launch_role_passes_the_deployer_only_to_codebuild() -> None:
    document = launch_role_policy(VALUES, VALUES.deployer_role_arn)
    passes = [s for s in document["Statement"] if "iam:PassRole" in s["Action"]]
    deployer = [s for s in passes if s["Resource"] == VALUES.deployer_role_arn]
    assert len(deployer) == 1 and deployer[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}}
    assert all("iam:PassedToService" in s["Condition"]["StringEquals"] for s in passes)


# ---- access documents -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage,approval", [("int", "ApproveInt"), ("prod", "ApproveProd")])
def test_approver_policy_names_only_its_own_approval_action(org, stage, approval) -> None:
    assert approval_resources(approver_policy(org, stage)) == [
        f"arn:aws:codepipeline:eu-central-1:333333333333:mlops-deploy-*/{approval}/Approve"
    ]


def _compact(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def test_deployment_role_policy_fits_the_inline_policy_limit(org) -> None:
    keys = [f"arn:aws:kms:eu-central-1:666666666666:key/{n}234abcd-12ab-34cd-56ef-1234567890ab" for n in (1, 2)]
    scope = stage_scope(org, "666666666666", [p.name for p in org.model_projects], keys)
    assert _compact(deployment_role_policy(scope)) < 10240, "IAM limits inline role policies to 10,240 characters"
    assert _compact(deployment_boundary(scope)) < 6144, "IAM limits managed policies to 6,144 characters"


def test_deployment_role_policy_without_projects_still_names_resources(org) -> None:
    scope = stage_scope(org, "444444444444", [])
    for item in deployment_role_policy(scope)["Statement"]:
        assert item["Resource"], item["Sid"]


# ---- scan gate ---------------------------------------------------------------------------------------


def scan(status: str, counts: dict | None = None, findings: list | None = None) -> dict:
    response = {"imageScanStatus": {"status": status, "description": "test"}, "imageScanFindings": {}}
    if counts is not None:
        response["imageScanFindings"]["findingSeverityCounts"] = counts
    if findings is not None:
        response["imageScanFindings"]["enhancedFindings"] = findings
    return response


@pytest.mark.parametrize(
    "response,state",
    [
        (scan("ACTIVE", {"HIGH": 3, "MEDIUM": 10}), "promote"),
        (scan("ACTIVE", {"CRITICAL": 1, "HIGH": 3}), "block"),
        (scan("COMPLETE", {}), "promote"),
        (scan("ACTIVE", None, [{"severity": "CRITICAL"}, {"severity": "LOW"}]), "block"),
        (scan("PENDING"), "wait"),
        (scan("FAILED"), "block"),
        (scan("FINDINGS_UNAVAILABLE"), "block"),
        ({}, "block"),
    ],
)
def test_scan_gate_verdicts(response, state) -> None:
    assert scan_gate.evaluate(response).state == state, scan_gate.evaluate(response)


def test_scan_gate_gives_up_after_the_timeout() -> None:
    now = [0.0]
    verdict = scan_gate.wait_for_verdict(lambda: scan("PENDING"), timeout_s=60, interval_s=20,
                                         sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert verdict.state == "block" and "giving up" in verdict.reason


def test_scan_gate_waits_until_the_scan_finishes() -> None:
    responses = iter([scan("PENDING"), scan("IN_PROGRESS"), scan("ACTIVE", {"LOW": 1})])
    verdict = scan_gate.wait_for_verdict(lambda: next(responses), timeout_s=600, sleep=lambda s: None, clock=lambda: 0.0)
    assert verdict.state == "promote"


# ---- the images' own tests ---------------------------------------------------------------------------


def test_image_tests_pass_on_the_host() -> None:
    """The tests the image pipeline runs inside the images (inference server, smoke test)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "images/inference/tests", "images/deploy/tests"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_deploy_image_version_names_the_pinned_pulumi_and_provider() -> None:
    pins = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)
    version = (REPO / "images" / "deploy" / "VERSION").read_text().strip()
    assert f"pulumi{pins['pulumi']}" in version and f"aws{pins['pulumi_aws']}" in version, (
        f"images/deploy/VERSION {version!r} does not name pulumi {pins['pulumi']} / pulumi-aws {pins['pulumi_aws']}"
    )


def test_stage_toolchain_script_reads_both_pins() -> None:
    script = (REPO / "images" / "stage_toolchain.sh").read_text()
    probe = script.split("work=", 1)[0].replace('target="${1:?', 'target="${1:-x}" #').replace('key="${2:?', 'key="${2:-x}" #')
    result = subprocess.run(["bash", "-c", probe + 'echo "$pulumi_version $aws_version"'], cwd=REPO / "images",
                            capture_output=True, text=True)
    pins = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)
    assert result.stdout.split() == [pins["pulumi"], pins["pulumi_aws"]], result.stderr


def test_every_model_project_has_a_numeric_smoke_payload(org) -> None:
    for project in org.model_projects:
        payload = REPO / "images" / "deploy" / "smoke_payloads" / f"{project.name}.csv"
        assert payload.is_file(), f"{project.name}: no smoke payload {payload.relative_to(REPO)} (its TestDev/TestInt would fail)"
        for row in payload.read_text().strip().splitlines():
            [float(value) for value in row.split(",")]  # raises on a non-numeric feature
