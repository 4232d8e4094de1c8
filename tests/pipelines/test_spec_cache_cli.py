"""`PipelineSpec` validation, the definition cache and the CodeBuild command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_helpers import ATHENA, BUCKET, REPO_ROOT, make_spec, spec_fields

import mlops_pipelines.definition as definition_module
from mlops_pipelines import __main__ as cli
from mlops_pipelines.cache import CACHE_DIR_VARIABLE, cached_pipeline_definition, default_cache_dir, definition_cache_key
from mlops_pipelines.spec import AthenaSource, PipelineSpec, PipelineSpecError

# ---------------------------------------------------------------------------------------- spec


def test_spec_round_trips_through_json():
    spec = make_spec(input_data_uri=None, athena=ATHENA)
    assert PipelineSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_spec_normalises_lists_and_mappings():
    spec = make_spec(subnet_ids=["subnet-0a1b2c3d4e5f60718"], tags={"b": "2", "a": "1"})
    assert spec.subnet_ids == ("subnet-0a1b2c3d4e5f60718",)
    assert spec.tags == (("a", "1"), ("b", "2"))
    assert isinstance(make_spec(input_data_uri=None, athena=ATHENA).athena, AthenaSource)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role_arn": "pm-pipeline"}, "role_arn"),
        ({"kms_key_arn": "alias/aws/s3"}, "kms_key_arn"),
        ({"kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/abc-123"}, "kms_key_arn"),
        ({"subnet_ids": []}, "subnet_ids"),
        ({"subnet_ids": "subnet-0a1b2c3d4e5f60718"}, "subnet_ids"),
        ({"security_group_ids": ["default"]}, "security_group_ids"),
        ({"athena": ATHENA}, "input_data_uri"),
        ({"input_data_uri": None}, "input_data_uri"),
        ({"input_data_uri": None, "athena": {**ATHENA, "query": "DROP TABLE x"}}, "athena.query"),
        ({"metric_threshold": 1.5}, "metric_threshold"),
        ({"metric_threshold": True}, "metric_threshold"),
        ({"preprocess_code_uri": "/local/preprocess.py"}, "preprocess_code_uri"),
        ({"sourcedir_uri": f"s3://{BUCKET}/code/train.py"}, "sourcedir_uri"),
        ({"pipeline_name": "pm build"}, "pipeline_name"),
        ({"training_image_uri": "docker.io/library/python:3"}, "training_image_uri"),
        ({"tags": {"aws:cloudformation:stack": "x"}}, "tags"),
    ],
)
def test_invalid_spec_field_is_named_in_one_line(overrides: dict, field: str):
    with pytest.raises(PipelineSpecError) as raised:
        make_spec(**overrides)
    message = str(raised.value)
    assert message.startswith(f"{field}: ") and "\n" not in message, message


def test_unknown_and_missing_fields_are_named():
    with pytest.raises(PipelineSpecError, match=r"^role: unknown field"):
        PipelineSpec.from_dict({**make_spec().to_dict(), "role": "x"})
    data = make_spec().to_dict()
    del data["bucket"]
    with pytest.raises(PipelineSpecError, match=r"^bucket: required field missing"):
        PipelineSpec.from_dict(data)


def test_output_prefix_defaults_to_the_pipeline_name():
    assert make_spec().resolved_output_prefix == "pipelines/pm-model-build"
    assert make_spec(output_prefix="/custom/prefix/").resolved_output_prefix == "custom/prefix"


# --------------------------------------------------------------------------------------- cache


@pytest.fixture
def counting_builder(monkeypatch: pytest.MonkeyPatch) -> list:
    """Replace the real builder (seconds) with one that records its calls."""
    calls: list = []

    def build(spec):
        calls.append(spec)
        return json.dumps({"Version": "2020-12-01", "pipeline": spec.pipeline_name, "n": len(calls)})

    monkeypatch.setattr(definition_module, "build_pipeline_definition", build)
    return calls


def test_cache_serves_an_unchanged_spec_without_building(counting_builder: list, tmp_path: Path):
    spec = make_spec()
    first = cached_pipeline_definition(spec, tmp_path)
    second = cached_pipeline_definition(make_spec(), tmp_path)
    assert second == first
    assert len(counting_builder) == 1


def test_cache_builds_again_when_the_spec_changes(counting_builder: list, tmp_path: Path):
    cached_pipeline_definition(make_spec(), tmp_path)
    cached_pipeline_definition(make_spec(metric_threshold=0.7), tmp_path)
    assert len(counting_builder) == 2


def test_cache_key_covers_the_code_uris():
    assert definition_cache_key(make_spec()) != definition_cache_key(make_spec(sourcedir_uri=f"s3://{BUCKET}/code/0/sourcedir.tar.gz"))


def test_damaged_cache_entry_is_rebuilt(counting_builder: list, tmp_path: Path):
    spec = make_spec()
    cached_pipeline_definition(spec, tmp_path)
    (tmp_path / f"{definition_cache_key(spec)}.json").write_text("{truncated")
    assert json.loads(cached_pipeline_definition(spec, tmp_path))["n"] == 2


def test_cache_entry_is_the_real_definition(tmp_path: Path, definition_json: str, spec):
    assert cached_pipeline_definition(spec, tmp_path) == definition_json
    assert (tmp_path / f"{definition_cache_key(spec)}.json").read_text() == definition_json


def test_cache_directory_defaults_to_the_ignored_plan_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(CACHE_DIR_VARIABLE, raising=False)
    assert default_cache_dir() == REPO_ROOT / ".plan-cache" / "pipeline-definitions"
    assert ".plan-cache/" in (REPO_ROOT / ".gitignore").read_text().splitlines()
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    assert default_cache_dir() == tmp_path


# ----------------------------------------------------------------------------------------- CLI


def test_cli_package_code_writes_objects_under_their_keys(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert cli.main(["package-code", "--bucket", BUCKET, "--out-dir", str(tmp_path)]) == 0
    uris = json.loads(capsys.readouterr().out)
    for field in ("preprocess_code_uri", "evaluate_code_uri", "sourcedir_uri"):
        key = uris[field].removeprefix(f"s3://{BUCKET}/")
        assert (tmp_path / key).is_file(), f"{field}: {key} not written"
    assert uris == {k: v for k, v in spec_fields().items() if k.endswith("_uri") and k != "input_data_uri"}


def test_cli_definition_merges_code_uris_and_writes_the_definition(
    tmp_path: Path, definition_json: str, populated_cache: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(populated_cache))
    data = make_spec().to_dict()
    code_uris = {name: data.pop(name) for name in ("preprocess_code_uri", "evaluate_code_uri", "sourcedir_uri")}
    (tmp_path / "spec.json").write_text(json.dumps(data))
    (tmp_path / "uris.json").write_text(json.dumps(code_uris))
    out = tmp_path / "definition.json"
    assert cli.main(["definition", "--spec", str(tmp_path / "spec.json"), "--code-uris", str(tmp_path / "uris.json"), "--out", str(out)]) == 0
    assert out.read_text() == definition_json


@pytest.mark.parametrize(
    ("spec_text", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"pipeline_name": "x"}', "required field missing"),
    ],
)
def test_cli_bad_spec_gives_one_line_and_exit_code_2(tmp_path: Path, spec_text: str, expected: str):
    (tmp_path / "spec.json").write_text(spec_text)
    result = subprocess.run(
        [sys.executable, "-c", _CLI, str(REPO_ROOT), "definition", "--spec", str(tmp_path / "spec.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr


_CLI = (
    "import importlib.machinery, sys\n"
    "class F:\n"
    "    @staticmethod\n"
    "    def find_spec(n, p=None, t=None):\n"
    "        return importlib.machinery.PathFinder.find_spec(n, [sys.argv[1]] if '.' not in n else p) if n.partition('.')[0] == 'mlops_pipelines' else None\n"
    "sys.meta_path.append(F)\n"
    "from mlops_pipelines.__main__ import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)
