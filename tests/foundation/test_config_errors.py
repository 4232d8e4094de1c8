"""Config that used to be accepted and silently wrong, and how problems are reported: every problem
of a run at once, sorted by file and key, each one line; YAML errors with line, column and reason;
no raw regular expressions; the duplicate named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlops_core.config import (
    PATTERN_DESCRIPTIONS,
    ConfigError,
    OrganizationConfig,
    StackConfig,
    az_id_prefix,
    load_organization,
    load_settings,
    validate_stacks,
)
from mlops_platform.cli import app


def _edit(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _problems(call) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        call()
    return str(caught.value).splitlines()


def test_az_ids_of_another_region_are_rejected(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d.update(region="us-east-1"))
    lines = _problems(lambda: load_settings("exp", repo_copy))
    assert any("mlops:azIds" in l and "euc1-az1" in l and "us-east-1" in l and "use1-az" in l for l in lines), lines


def test_az_ids_of_the_region_pass(repo_copy: Path) -> None:
    assert load_settings("exp", repo_copy).config.az_ids == ["euc1-az1", "euc1-az2"]


@pytest.mark.parametrize(
    "region, prefix",
    [("eu-central-1", "euc1"), ("us-east-1", "use1"), ("ap-southeast-2", "apse2"), ("us-gov-west-1", "usgw1"),
     ("eu-north-1", "eun1"), ("ca-central-1", "cac1")],
)
def test_az_id_prefix_of_a_region(region: str, prefix: str) -> None:
    assert az_id_prefix(region) == prefix, f"{region}: AZ IDs start with {prefix}-"


def test_a_duplicated_yaml_key_is_an_error_naming_both_lines(repo_copy: Path) -> None:
    path = repo_copy / "organization.yaml"
    path.write_text(path.read_text().replace("region: eu-central-1\n", "region: eu-central-1\nregion: us-east-1\n", 1))
    lines = _problems(lambda: load_organization(repo_copy))
    assert len(lines) == 1 and lines[0].startswith("organization.yaml: region: duplicate key"), lines
    assert re.search(r"line \d+ repeats line \d+", lines[0]), lines


def test_a_duplicated_key_deep_in_a_stack_file_names_its_path(repo_copy: Path) -> None:
    path = repo_copy / "Pulumi.exp.yaml"
    path.write_text(path.read_text().replace("    cloudTrail: true\n", "    cloudTrail: true\n    cloudTrail: false\n", 1))
    lines = _problems(lambda: load_settings("exp", repo_copy))
    assert lines[0].startswith("Pulumi.exp.yaml: mlops:baseline.cloudTrail: duplicate key"), lines


def test_a_yaml_syntax_error_has_line_column_and_reason(repo_copy: Path) -> None:
    path = repo_copy / "organization.yaml"
    path.write_text(path.read_text().replace("platformName: mlops", "platformName: [mlops", 1))
    (line,) = _problems(lambda: load_organization(repo_copy))
    assert re.match(r"organization\.yaml: line \d+, column \d+: not valid YAML: \S", line), line


def test_aws_region_in_a_stack_file_is_rejected(repo_copy: Path) -> None:
    _edit(repo_copy / "Pulumi.exp.yaml", lambda d: d["config"].update({"aws:region": "us-east-1"}))
    (line,) = _problems(lambda: load_settings("exp", repo_copy))
    assert line.startswith("Pulumi.exp.yaml: aws:region: is ignored") and "organization.yaml" in line, line


def test_a_key_in_the_project_namespace_is_rejected_with_the_right_one(repo_copy: Path) -> None:
    """`pulumi config set vpcCidr ...` writes mlops-platform:vpcCidr, which the program never reads."""
    _edit(repo_copy / "Pulumi.exp.yaml", lambda d: d["config"].update({"mlops-platform:vpcCidr": "10.99.0.0/20"}))
    (line,) = _problems(lambda: load_settings("exp", repo_copy))
    assert line.startswith("Pulumi.exp.yaml: mlops-platform:vpcCidr: is ignored") and "mlops:vpcCidr" in line, line


def test_engine_keys_stay_allowed(repo_copy: Path) -> None:
    _edit(repo_copy / "Pulumi.exp.yaml", lambda d: d["config"].update({"pulumi:disable-default-providers": ["*"]}))
    assert load_settings("exp", repo_copy).role == "exp"


def test_every_problem_of_a_run_is_reported_at_once_sorted(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d.update(platformName="Bad_Name"))
    _edit(repo_copy / "Pulumi.exp.yaml", lambda d: d["config"].update({"mlops:vpcCidr": "8.8.0.0/16"}))
    _edit(repo_copy / "Pulumi.dev.yaml", lambda d: d["config"].pop("mlops:azIds"))
    lines = _problems(lambda: validate_stacks(["exp", "dev"], repo_copy))
    assert [l.split(":")[0] for l in lines] == sorted(l.split(":")[0] for l in lines), f"not sorted by file: {lines}"
    for fragment in ("Pulumi.dev.yaml: mlops:azIds: required", "Pulumi.exp.yaml: mlops:vpcCidr", "organization.yaml: platformName"):
        assert any(l.startswith(fragment) for l in lines), f"{fragment!r} missing from {lines}"


def test_a_stack_missing_two_keys_names_both(repo_copy: Path) -> None:
    _edit(repo_copy / "Pulumi.dev.yaml", lambda d: [d["config"].pop(k) for k in ("mlops:vpcCidr", "mlops:azIds")])
    lines = _problems(lambda: load_settings("dev", repo_copy))
    assert lines == ["Pulumi.dev.yaml: mlops:azIds: required key is missing", "Pulumi.dev.yaml: mlops:vpcCidr: required key is missing"], lines


def test_the_plan_prints_every_problem_as_its_own_error_line(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d.update(platformName="Bad_Name", region="Frankfurt"))
    result = CliRunner().invoke(app, ["-C", str(repo_copy), "plan"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) >= 2, result.output
    assert all(l.startswith("error: organization.yaml: ") for l in lines), lines


def test_messages_hold_no_raw_regular_expression(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d.update(platformName="MLOps_Platform"))
    (line,) = _problems(lambda: load_organization(repo_copy))
    assert "^" not in line and "$" not in line and "[a-z" not in line, f"raw pattern in {line!r}"
    assert "lower-case letters" in line, line


def _patterns(schema: object) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found.add(schema["pattern"])
        for value in schema.values():
            found |= _patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _patterns(value)
    return found


def test_every_pattern_in_the_schemas_is_described() -> None:
    patterns = _patterns(OrganizationConfig.model_json_schema()) | _patterns(StackConfig.model_json_schema())
    assert patterns, "the schemas have no pattern: the scan found nothing"
    undescribed = sorted(patterns - set(PATTERN_DESCRIPTIONS))
    assert not undescribed, f"patterns a user would see raw (wrap them in described()): {undescribed}"


def test_uniqueness_errors_name_the_duplicate(repo_copy: Path) -> None:
    def twice(document: dict) -> None:
        document["modelProjects"].append(dict(document["modelProjects"][0]))
        document["operators"].append(dict(document["operators"][0]))

    _edit(repo_copy / "organization.yaml", twice)
    lines = _problems(lambda: load_organization(repo_copy))
    assert any("'weld-gun-pm'" in l and "more than once" in l for l in lines), lines
    assert any("'erin'" in l and "more than once" in l for l in lines), lines


def test_a_duplicate_data_set_is_rejected(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d["dataSets"].append(dict(d["dataSets"][0])))
    lines = _problems(lambda: load_organization(repo_copy))
    assert any(l.startswith("organization.yaml: dataSets: data set name 'welding_sensors'") for l in lines), lines


def test_a_duplicate_column_is_named(repo_copy: Path) -> None:
    _edit(repo_copy / "organization.yaml", lambda d: d["dataSets"][0]["columns"].append(dict(d["dataSets"][0]["columns"][0])))
    lines = _problems(lambda: load_organization(repo_copy))
    assert any("dataSets[0].columns" in l and "'robot_id'" in l for l in lines), lines
