"""The GitHub workflows: schema-valid, and wired to the graph, the environments and the OIDC trust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_core.paths import REPO_ROOT
from mlops_platform.bootstrap import DEPLOY_ENVIRONMENT_OF_ROLE
from mlops_platform.deployer.graph import build_graph

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SIX = {role: role for role in ("data", "exp", "res", "dev", "int", "prod")}


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + " " + str(step.get("uses", "")) for step in job.get("steps", []))


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflow_is_valid_against_the_github_workflow_schema(name):
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOWS / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"


def test_pull_requests_run_make_test():
    assert "make test" in steps_text(load("pull-request.yml")["jobs"]["test"])


def test_pull_requests_upload_the_guardrail_sarif_to_code_scanning():
    job = load("pull-request.yml")["jobs"]["guardrails"]
    text = steps_text(job)
    assert "mlops-platform check --format sarif" in text and "github/codeql-action/upload-sarif" in text
    assert job["permissions"]["security-events"] == "write"


def test_pull_request_previews_run_per_stack_only_with_credentials():
    jobs = load("pull-request.yml")["jobs"]
    job = jobs["preview"]
    # One preview per stack the platform has, the model projects' stacks included: the list is computed.
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}", job["strategy"]
    assert "mlops-platform stacks --json" in steps_text(jobs["stacks"]) and "stacks" in job["needs"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in job["if"]


def test_main_deploys_one_matrix_job_per_model_project_stack_after_exp():
    jobs = load("deploy.yml")["jobs"]
    job = jobs["exp-projects"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.project-stacks.outputs.stacks) }}", job["strategy"]
    assert "exp" in job["needs"] and job["with"]["stack"] == "${{ matrix.stack }}", job
    assert "mlops-platform stacks --project-stacks --json" in steps_text(jobs["project-stacks"])


def test_pull_request_previews_use_the_policy_gated_preview_of_the_deployer():
    text = steps_text(load("pull-request.yml")["jobs"]["preview"])
    assert 'mlops-platform deploy --preview-only --stack "$STACK" --yes --json' in text


def test_pull_request_preview_comment_lists_the_policy_findings():
    job = load("pull-request.yml")["jobs"]["preview"]
    comment = next(step for step in job["steps"] if "github-script" in str(step.get("uses")))
    assert "e.type === 'policy'" in comment["with"]["script"] and "createComment" in comment["with"]["script"]


def test_pull_request_previews_point_the_providers_at_the_preview_role():
    text = steps_text(load("pull-request.yml")["jobs"]["preview"])
    assert 'document["config"].setdefault("mlops:deployRole", {})["roleName"] = role' in text
    assert '-preview"' in text


def test_main_has_one_deploy_job_per_graph_step_in_graph_order():
    jobs = load("deploy.yml")["jobs"]
    order = [wave[0] for wave in build_graph(SIX).waves()]
    for upstream, stack in zip(order, order[1:]):
        assert upstream in jobs[stack]["needs"], f"job {stack} must need job {upstream}"
    assert [jobs[stack]["with"]["stack"] for stack in order] == order


def test_each_deploy_job_runs_in_the_environment_the_deploy_role_trusts():
    jobs = load("deploy.yml")["jobs"]
    assert {stack: jobs[stack]["with"]["environment"] for stack in DEPLOY_ENVIRONMENT_OF_ROLE} == DEPLOY_ENVIRONMENT_OF_ROLE


def test_the_identity_job_needs_only_the_tests_and_runs_only_with_identity_center():
    job = load("deploy.yml")["jobs"]["identity"]
    assert (job["needs"], job["if"]) == (["test"], "vars.HAS_IDENTITY_CENTER == 'true'")


def test_the_log_archive_job_needs_only_the_tests_and_runs_only_with_a_log_archive():
    job = load("deploy.yml")["jobs"]["log-archive"]
    assert (job["needs"], job["if"], job["with"]["stack"]) == (["test"], "vars.HAS_LOG_ARCHIVE == 'true'", "log-archive")


@pytest.mark.parametrize("stack", ["data", "exp"])
def test_the_first_account_jobs_wait_for_the_log_archive_job_or_its_skip(stack):
    job = load("deploy.yml")["jobs"][stack]
    assert "log-archive" in job["needs"], f"job {stack} must need job log-archive"
    assert "needs.log-archive.result == 'skipped'" in job["if"], f"job {stack} must also run when log-archive is skipped"


def test_deploy_runs_on_pushes_to_main():
    assert load("deploy.yml")["on"]["push"]["branches"] == ["main"]


def test_deploy_step_calls_the_deployer_with_yes_and_oidc():
    workflow = load("deploy-stack.yml")
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert workflow["permissions"]["id-token"] == "write"
    text = steps_text(job)
    assert "mlops-platform deploy --stack \"$STACK\" --yes" in text and "configure-aws-credentials" in text
