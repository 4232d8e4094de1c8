"""`mlops-platform check` output: what could not be evaluated, per pass and why, in one line unless
--verbose; remediation and references in text and JSON; SARIF without duplicates; long lists cut."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_guard.engine import GateResult, NotEvaluated, Violation
from mlops_guard.normalize import UNKNOWN
from mlops_guard.registry import BY_NAME
from mlops_guard.report import reason_kind, shorten, to_sarif, to_text
from mlops_platform.cli import app

RUNNER = CliRunner()
KEY = "aws:kms/key:Key"
GOLDEN_KEY = {"description": "k", "enableKeyRotation": True, "deletionWindowInDays": 30, "keyUsage": "ENCRYPT_DECRYPT",
              "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "policy": json.dumps({"Version": "2012-10-17", "Statement": []})}


def _urn(name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::mlops-platform::{KEY}::{name}"


def _preview(tmp_path: Path, keys: dict[str, dict]) -> Path:
    steps = [{"op": "create", "urn": _urn(n), "newState": {"type": KEY, "urn": _urn(n), "inputs": i, "custom": True}}
             for n, i in keys.items()]
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"steps": steps}))
    return path


@pytest.fixture(scope="module")
def own_stacks(platform_plans, preview_plans) -> str:
    result = RUNNER.invoke(app, ["check", "-s", "exp"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_each_pass_is_one_line_about_what_it_could_not_evaluate(own_stacks: str) -> None:
    passes = [line for line in own_stacks.splitlines() if line.startswith("pass '")]
    assert len(passes) == 2, passes
    assert "every applicable check evaluated" in passes[0], f"the known-outputs pass: {passes[0]}"
    assert "unknown until apply" in passes[1] and "all evaluated in another pass" in passes[1], passes[1]
    assert len(own_stacks.splitlines()) < 10, f"without --verbose the not-evaluated list is summarised:\n{own_stacks}"


def test_verbose_lists_each_check(platform_plans, preview_plans) -> None:
    result = RUNNER.invoke(app, ["check", "-s", "exp", "--verbose"])
    listed = [line for line in result.stdout.splitlines() if line.startswith("  [preview] ")]
    assert len(listed) > 50, f"--verbose lists {len(listed)} checks"


def test_the_summary_counts_only_what_no_pass_evaluated(own_stacks: str) -> None:
    assert own_stacks.strip().splitlines()[-1].endswith("0 not evaluated in any pass"), own_stacks.splitlines()[-1]


def test_a_role_outside_the_stack_is_not_called_known_at_apply_time() -> None:
    reason = "exp-training: role arn:aws:iam::222222222222:role/x at roleArn is not declared in this stack"
    assert reason_kind(reason).startswith("declared outside the stack"), reason_kind(reason)
    result = GateResult(stacks=["exp"], not_evaluated=[NotEvaluated("sagemaker-role-has-guardrails", "urn:pulumi:exp::p::t::n", reason)])
    text = to_text(result)
    assert "declared outside the stack" in text and "until apply" not in text, text


def test_text_and_json_carry_remediation_and_references(tmp_path: Path) -> None:
    path = _preview(tmp_path, {"key": {**GOLDEN_KEY, "enableKeyRotation": False}})
    policy = BY_NAME["kms-key-rotation-enabled"]
    text = RUNNER.invoke(app, ["check", "--preview-json", str(path)]).stdout
    assert f"remediation: {policy.remediation}" in text and "securityhub:KMS.4" in text, text
    document = json.loads(RUNNER.invoke(app, ["check", "--preview-json", str(path), "--format", "json"]).stdout)
    entry = document["policies"]["kms-key-rotation-enabled"]
    assert entry["remediation"] == policy.remediation and "securityhub:KMS.4" in entry["references"], entry


def test_sarif_holds_each_finding_once() -> None:
    violation = Violation("kms-key-rotation-enabled", _urn("key"), KEY, "mandatory", "medium", "key: not rotated", "prod")
    twice = GateResult(violations=[violation, dataclasses.replace(violation, source=("components/encryption.py", 40))], stacks=["prod"])
    results = to_sarif(twice, default_location="Pulumi.prod.yaml")["runs"][0]["results"]
    assert len(results) == 1, f"the same finding from two passes is {len(results)} SARIF results"


def test_a_long_list_is_cut_to_the_first_few_with_a_count() -> None:
    paths = ", ".join(f"Method{i}" for i in range(60))
    message = f"role-policy: policy allows privilege escalation ({paths})"
    short = shorten(message)
    assert "Method0, Method1, Method2, Method3, Method4, ... (60 in all)" in short and "Method59" not in short, short
    assert shorten("key: key rotation (enableKeyRotation) is not enabled (found False)") == \
        "key: key rotation (enableKeyRotation) is not enabled (found False)", "short messages stay as they are"


def test_the_preview_pass_of_a_file_reports_unknowns(tmp_path: Path) -> None:
    path = _preview(tmp_path, {"key": {**GOLDEN_KEY, "enableKeyRotation": UNKNOWN}})
    text = RUNNER.invoke(app, ["check", "--preview-json", str(path)]).stdout
    (line,) = [l for l in text.splitlines() if l.startswith("pass '--preview-json")]
    assert "not evaluated" in line and "unknown until apply" in line, line
    assert text.strip().splitlines()[-1].endswith("1 not evaluated in any pass"), text


def test_list_policies_formats(platform_plans) -> None:
    text = RUNNER.invoke(app, ["check", "--list-policies"])
    assert text.exit_code == 0 and f"{len(BY_NAME)} policies in mlops-guardrails" in text.stdout
    document = json.loads(RUNNER.invoke(app, ["check", "--list-policies", "--format", "json"]).stdout)
    entry = next(p for p in document["policies"] if p["name"] == "sagemaker-endpoint-data-capture")
    assert entry["enforcement"]["dev"] == "advisory" and entry["enforcement"]["prod"] == "mandatory", entry["enforcement"]
    assert entry["remediation"] and entry["references"] is not None


def test_list_policies_rejects_sarif() -> None:
    result = RUNNER.invoke(app, ["check", "--list-policies", "--format", "sarif"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --format must be one of text, json, markdown"), result.stderr


def test_the_committed_catalogue_is_current_and_linked() -> None:
    from mlops_core.paths import REPO_ROOT
    from mlops_platform.catalogue import CATALOGUE_DOC, REGENERATE

    result = RUNNER.invoke(app, ["check", "--list-policies", "--format", "markdown"])
    committed = (REPO_ROOT / CATALOGUE_DOC).read_text()
    assert committed == result.stdout, f"{CATALOGUE_DOC} is stale: run `{REGENERATE}`"
    readme = (REPO_ROOT / "README.md").read_text()
    guardrails = readme.split("## Guardrails", 1)[1].split("\n## ", 1)[0]
    assert "(docs/policies.md)" in guardrails, "the README's guardrail section must link docs/policies.md"


def test_a_stack_level_finding_points_sarif_at_the_resource_s_line() -> None:
    """A stack policy reports `<name>: ...` on the stack; SARIF must point at where that resource is declared."""
    from mlops_guard.config import PackConfig
    from mlops_guard.model import Resource
    from mlops_platform.commands.check import _evaluate

    bucket = Resource("aws:s3/bucket:Bucket", "data-raw", _urn("data-raw").replace(KEY, "aws:s3/bucket:Bucket"),
                      {"bucket": "data-raw"}, source=("components/secure_bucket.py", 70))
    result = _evaluate([bucket], PackConfig(), stack="prod", project="mlops-platform", location="Pulumi.prod.yaml")
    found = [v for v in result.violations if v.policy == "s3-bucket-encrypted-with-kms"]
    assert found and found[0].urn == bucket.urn, found
    location = to_sarif(result, default_location="Pulumi.prod.yaml")["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "components/secure_bucket.py", location
