"""The README's Security Hub table is generated from the policies' refs and the FSBP data file."""

from __future__ import annotations

import importlib.util
import re

from mlops_core.paths import REPO_ROOT

SPEC = importlib.util.spec_from_file_location("fsbp_coverage", REPO_ROOT / "tools" / "fsbp_coverage.py")
assert SPEC is not None and SPEC.loader is not None
COVERAGE = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(COVERAGE)

SERVICES = {
    "SageMaker", "S3", "KMS", "IAM", "EC2/VPC", "CloudTrail", "Config", "ECR", "Lambda", "API Gateway",
    "Step Functions", "CodeBuild", "SNS", "SQS", "Glue", "CloudWatch Logs",
}
"""The services issue #18 names: the platform deploys resources of each."""


def test_readme_table_is_what_the_generator_prints() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(re.escape(COVERAGE.BEGIN) + r".*?" + re.escape(COVERAGE.END), readme, re.DOTALL)
    assert found, "README.md has no Security Hub coverage table (run python tools/fsbp_coverage.py)"
    assert found.group(0) == COVERAGE.render(), "README Security Hub table is stale: run python tools/fsbp_coverage.py"


def test_the_data_file_covers_every_deployed_service() -> None:
    assert set(COVERAGE.load()["services"]) == SERVICES


def test_every_control_is_enforced_or_says_why_not() -> None:
    silent = [control for _, control, _, verdict in COVERAGE.rows() if not verdict]
    assert not silent, f"FSBP controls with no policy and no reason: {silent}"


def test_a_reason_is_never_given_for_an_enforced_control() -> None:
    cited = COVERAGE.citing_policies()
    stale = [
        control_id
        for controls in COVERAGE.load()["services"].values()
        for control_id, control in (controls or {}).items()
        if control_id in cited and "none" in control
    ]
    assert not stale, f"controls a policy cites but the data file says none enforces: {stale}"


def test_control_ids_name_their_service_prefix() -> None:
    prefixes = {"API Gateway": "APIGateway", "EC2/VPC": "EC2", "Step Functions": "StepFunctions"}
    wrong = [
        control_id
        for service, controls in COVERAGE.load()["services"].items()
        for control_id in controls or {}
        if control_id.split(".")[0] != prefixes.get(service, service)
    ]
    assert not wrong, f"controls filed under the wrong service: {wrong}"
