"""The offline gate `mlops-platform check`: inputs, policy config per stack, outputs, exit codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_guard.normalize import SECRET_SIG, UNKNOWN
from mlops_platform.cli import app

from .conftest import GOLDEN

RUNNER = CliRunner()
ENDPOINT = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
KEY = "aws:kms/key:Key"


def _urn(stack: str, type_token: str, name: str, project: str = "mlops-platform") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def _step(op: str, stack: str, type_token: str, name: str, inputs: dict, project: str = "mlops-platform") -> dict:
    urn = _urn(stack, type_token, name, project)
    return {"op": op, "urn": urn, "newState": {"type": type_token, "urn": urn, "inputs": inputs, "custom": True}}


def _preview(tmp_path: Path, steps: list[dict], name: str = "preview.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"steps": steps}), encoding="utf-8")
    return path


def _run(*args: str):
    return RUNNER.invoke(app, ["check", *args])


def _json(result) -> dict:
    return json.loads(result.stdout)


def test_clean_preview_exits_zero(tmp_path: Path) -> None:
    path = _preview(tmp_path, [_step("create", "prod", KEY, "key", GOLDEN[KEY])])
    result = _run("--preview-json", str(path))
    assert result.exit_code == 0, result.output


def test_mandatory_violation_exits_one_with_the_json_shape(tmp_path: Path) -> None:
    bad = {**GOLDEN[KEY], "enableKeyRotation": False}
    path = _preview(tmp_path, [_step("update", "prod", KEY, "key", bad)])
    result = _run("--preview-json", str(path), "--format", "json")
    assert result.exit_code == 1, result.output
    report = _json(result)
    violation = next(v for v in report["violations"] if v["policy"] == "kms-key-rotation-enabled")
    assert violation == {
        "policy": "kms-key-rotation-enabled",
        "urn": _urn("prod", KEY, "key"),
        "resourceType": KEY,
        "enforcementLevel": "mandatory",
        "severity": "medium",
        "message": "key: key rotation (enableKeyRotation) is not enabled (found False)",
    }
    assert set(report["summary"]) == {"resourcesEvaluated", "policiesApplied", "notEvaluated", "mandatory", "advisory"}
    assert report["summary"]["resourcesEvaluated"] == 1 and report["summary"]["mandatory"] == 1


@pytest.mark.parametrize("op", ["create", "update", "replace", "create-replacement", "same", "import"])
def test_evaluated_ops(tmp_path: Path, op: str) -> None:
    bad = {**GOLDEN[KEY], "enableKeyRotation": False}
    result = _run("--preview-json", str(_preview(tmp_path, [_step(op, "prod", KEY, "key", bad)])))
    assert result.exit_code == 1, f"op {op} must be evaluated"


def test_deletes_reads_and_refreshes_are_ignored(tmp_path: Path) -> None:
    bad = {**GOLDEN[KEY], "enableKeyRotation": False}
    steps = [_step(op, "prod", KEY, f"key-{op}", bad) for op in ("delete", "read", "refresh", "discard", "delete-replaced")]
    steps.append(_step("create", "prod", KEY, "good", GOLDEN[KEY]))
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    assert result.exit_code == 0, result.output
    assert _json(result)["summary"]["resourcesEvaluated"] == 1


def test_unknown_value_is_listed_as_not_evaluated(tmp_path: Path) -> None:
    steps = [_step("create", "prod", KEY, "key", {**GOLDEN[KEY], "enableKeyRotation": UNKNOWN})]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    assert result.exit_code == 0, result.output
    not_evaluated = _json(result)["summary"]["notEvaluated"]
    assert {"policy", "urn", "reason"} == set(not_evaluated[0])
    assert any(n["policy"] == "kms-key-rotation-enabled" for n in not_evaluated)


def test_secret_objects_are_opened_and_blinded_secrets_are_unknown(tmp_path: Path) -> None:
    opened = {**GOLDEN[KEY], "enableKeyRotation": {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": False}}
    blinded = {**GOLDEN[KEY], "enableKeyRotation": "[secret]"}
    steps = [_step("create", "prod", KEY, "opened", opened), _step("create", "prod", KEY, "blinded", blinded)]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    report = _json(result)
    assert [v["urn"] for v in report["violations"]] == [_urn("prod", KEY, "opened")]
    assert any(n["urn"] == _urn("prod", KEY, "blinded") for n in report["summary"]["notEvaluated"])


def _endpoint_without_capture() -> dict:
    props = copy.deepcopy(GOLDEN[ENDPOINT])
    del props["dataCaptureConfig"]
    return props


def test_the_stack_in_the_urn_selects_its_role_config(tmp_path: Path) -> None:
    steps = [_step("create", "dev", ENDPOINT, "ep", _endpoint_without_capture())]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    levels = {v["policy"]: v["enforcementLevel"] for v in _json(result)["violations"]}
    assert levels["sagemaker-endpoint-data-capture"] == "advisory", "dev uses policies/config/dev.json"
    assert result.exit_code == 0


def test_prod_keeps_data_capture_mandatory(tmp_path: Path) -> None:
    steps = [_step("create", "prod", ENDPOINT, "ep", _endpoint_without_capture())]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    assert result.exit_code == 1
    assert {v["enforcementLevel"] for v in _json(result)["violations"]} == {"mandatory"}


def test_a_serving_stack_uses_its_stage_config(tmp_path: Path) -> None:
    steps = [_step("create", "churn-int", ENDPOINT, "ep", _endpoint_without_capture(), project="mlops-serving")]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    assert {v["enforcementLevel"] for v in _json(result)["violations"]} == {"advisory"}


def test_an_unknown_stack_uses_the_pack_defaults(tmp_path: Path) -> None:
    steps = [_step("create", "sandbox", ENDPOINT, "ep", _endpoint_without_capture())]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    assert result.exit_code == 1 and {v["enforcementLevel"] for v in _json(result)["violations"]} == {"mandatory"}


def test_policy_config_option_overrides_the_role_file(tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"all": "advisory"}), encoding="utf-8")
    steps = [_step("create", "prod", KEY, "key", {**GOLDEN[KEY], "enableKeyRotation": False})]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--policy-config", str(config))
    assert result.exit_code == 0, result.output


def test_stack_export_is_evaluated(tmp_path: Path) -> None:
    urn = _urn("prod", KEY, "key")
    document = {
        "version": 3,
        "deployment": {
            "manifest": {},
            "resources": [
                {"urn": _urn("prod", "pulumi:pulumi:Stack", "mlops-platform-prod"), "type": "pulumi:pulumi:Stack", "custom": False},
                {"urn": urn, "type": KEY, "custom": True, "id": "k-1", "inputs": {**GOLDEN[KEY], "deletionWindowInDays": 7}, "outputs": {}},
            ],
        },
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = _run("--stack-export", str(path), "--format", "json")
    assert result.exit_code == 1
    assert [v["policy"] for v in _json(result)["violations"]] == ["kms-key-deletion-window"]
    assert _json(result)["summary"]["resourcesEvaluated"] == 1


def test_stack_level_violation_is_located_at_the_resource_it_is_about(tmp_path: Path) -> None:
    steps = [_step("create", "prod", "aws:s3/bucket:Bucket", "data", {"bucket": "data"})]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "json")
    found = [v for v in _json(result)["violations"] if v["policy"] == "s3-bucket-encrypted-with-kms"]
    assert found and found[0]["urn"] == _urn("prod", "aws:s3/bucket:Bucket", "data"), found
    assert found[0]["resourceType"] == "aws:s3/bucket:Bucket", found


def test_sarif_output(tmp_path: Path) -> None:
    steps = [_step("create", "prod", KEY, "key", {**GOLDEN[KEY], "enableKeyRotation": False})]
    path = _preview(tmp_path, steps)
    out = tmp_path / "report.sarif"
    result = _run("--preview-json", str(path), "--format", "sarif", "--out", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    sarif = json.loads(out.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    finding = sarif["runs"][0]["results"][0]
    assert finding["ruleId"] == "kms-key-rotation-enabled" and finding["level"] == "error"
    assert finding["partialFingerprints"]
    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(path)


def test_sarif_marks_advisory_as_warning(tmp_path: Path) -> None:
    steps = [_step("create", "dev", ENDPOINT, "ep", _endpoint_without_capture())]
    result = _run("--preview-json", str(_preview(tmp_path, steps)), "--format", "sarif")
    levels = {r["ruleId"]: r["level"] for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert levels["sagemaker-endpoint-data-capture"] == "warning"


def test_sarif_points_at_the_declaring_source_line() -> None:
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import evaluate_stack
    from mlops_guard.model import Resource
    from mlops_guard.report import to_sarif

    res = Resource(KEY, "key", _urn("dev", KEY, "key"), {**GOLDEN[KEY], "enableKeyRotation": False}, source=("components/encryption.py", 42))
    sarif = to_sarif(evaluate_stack([res], PackConfig(), stack="dev", project="mlops-platform"), default_location="Pulumi.dev.yaml")
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "components/encryption.py" and location["region"]["startLine"] == 42


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"steps": {}}', "no 'steps' list"),
        ('{"steps": [{"op": "create"}]}', "has no 'newState'"),
        ('{"steps": [{"op": "create", "newState": {"type": "x", "urn": "nope"}}]}', "not a Pulumi URN"),
    ],
)
def test_malformed_preview_is_one_line_and_exit_two(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = _run("--preview-json", str(path))
    assert result.exit_code == 2
    assert expected in result.stderr and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_file_is_exit_two(tmp_path: Path) -> None:
    result = _run("--stack-export", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_nothing_to_evaluate_is_exit_two(tmp_path: Path) -> None:
    steps = [_step("delete", "prod", KEY, "key", GOLDEN[KEY])]
    result = _run("--preview-json", str(_preview(tmp_path, steps)))
    assert result.exit_code == 2 and "no resources" in result.stderr


def test_bad_policy_config_is_exit_two(tmp_path: Path) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"kms-key-deletion-window": {"minimumDeletionWindowInDays": 3}}), encoding="utf-8")
    result = _run("--preview-json", str(_preview(tmp_path, [_step("create", "prod", KEY, "key", GOLDEN[KEY])])), "--policy-config", str(config))
    assert result.exit_code == 2 and "minimumDeletionWindowInDays" in result.stderr


def test_unknown_own_stack_is_exit_two() -> None:
    result = _run("--stack", "nope")
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_serving_stack_roles_are_looked_up_in_the_platform_stack() -> None:
    """A serving stack's model uses a role its platform stack declares: the guardrail check follows it."""
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import evaluate_stack

    from .conftest import stack_resources

    golden = stack_resources()
    serving = [r for r in golden if r.name == "model"]
    platform = [r for r in golden if r.name != "model"]
    result = evaluate_stack(serving, PackConfig(), stack="churn-prod", project="mlops-serving", context=platform)
    assert not [v for v in result.violations if v.policy == "sagemaker-roles-carry-deny-guardrails"]
    assert not result.not_evaluated, result.not_evaluated


def test_serving_stack_role_without_guardrails_in_the_platform_stack_is_a_violation() -> None:
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import evaluate_stack

    from .conftest import stack_resources

    golden = stack_resources({"remove": ["model-role-deny-network"]})
    serving = [r for r in golden if r.name == "model"]
    platform = [r for r in golden if r.name != "model"]
    result = evaluate_stack(serving, PackConfig(), stack="churn-prod", project="mlops-serving", context=platform)
    found = [v for v in result.violations if v.policy == "sagemaker-roles-carry-deny-guardrails"]
    assert found and "sagemaker-deny-network" in found[0].message


def test_context_resources_are_never_judged() -> None:
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import evaluate_stack

    from .conftest import stack_resources

    platform = stack_resources({"remove": ["data-sse"]})  # a platform bucket without encryption
    result = evaluate_stack([], PackConfig(), stack="churn-prod", project="mlops-serving", context=platform)
    assert not result.violations and result.resources_evaluated == 0


def test_serving_option_checks_a_serving_stack() -> None:
    result = _run("--serving", "weld-gun-pm-dev", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    report = _json(result)
    assert report["summary"]["resourcesEvaluated"] > 0
    assert all("::mlops-serving::" in v["urn"] for v in report["violations"])


def test_bad_serving_name_is_exit_two() -> None:
    result = _run("--serving", "nope")
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_stack_level_findings_of_own_stacks_point_at_the_stack_file() -> None:
    from mlops_platform.commands.check import _stack_file

    assert _stack_file("dev") == "Pulumi.dev.yaml"
    assert _stack_file("weld-gun-pm-prod") == "serving/Pulumi.yaml"


def test_unknown_format_is_one_line_and_exit_two() -> None:
    result = _run("--format", "xml")
    assert result.exit_code == 2 and result.stderr == "error: --format must be one of text, json, sarif (got 'xml')\n"
