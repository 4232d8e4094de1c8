"""Pure helpers of components/build_pipeline.py: spec, seed changes, images, query, trust, inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from components.build_pipeline import (
    ModelBuildPipelineArgs,
    curated_data_query,
    image_repository_arns,
    missing_input_columns,
    pipeline_role_policy,
    pipeline_spec,
    project_athena_source,
    schedule_trust_policy,
    seed_input_columns,
)
from mlops_pipelines import AthenaSource, build_pipeline_definition, package_seed_code, sample_data_object
from mlops_pipelines.sourcedir import SEED_CODE_DIR
from mlops_core.config import load_organization

ACCOUNT, REGION = "222222222222", "eu-central-1"
BUCKET = "mlops-weld-gun-pm-art-222222222222-eu-central-1"
IDS = {
    "role_arn": f"arn:aws:iam::{ACCOUNT}:role/mlops-project-weld-gun-pm",
    "bucket": BUCKET,
    "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
    "security_group_ids": ["sg-0123456789abcdef0"],
}
SKLEARN = f"492215442770.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
MONITOR = f"048819808253.dkr.ecr.{REGION}.amazonaws.com/sagemaker-model-monitor-analyzer"


def make_args(seed_dir: Path = SEED_CODE_DIR, **overrides) -> ModelBuildPipelineArgs:
    fields = {
        "project": "weld-gun-pm",
        "pipeline_name": "mlops-weld-gun-pm-build",
        "account_id": ACCOUNT,
        "region": REGION,
        "role_arn": IDS["role_arn"],
        "role_name": "mlops-project-weld-gun-pm",
        "bucket_name": BUCKET,
        "kms_key_arn": IDS["kms_key_arn"],
        "subnet_ids": IDS["subnet_ids"],
        "security_group_ids": IDS["security_group_ids"],
        "model_package_group_name": "weld-gun-pm",
        "seed_code": package_seed_code(seed_dir, key_prefix="code/weld-gun-pm"),
        "alerts_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-alerts",
        "sample_data": sample_data_object(seed_dir, key_prefix="data/weld-gun-pm"),
        "metric_threshold": 0.55,
        "tags": {"mlops:project": "weld-gun-pm"},
    }
    fields.update(overrides)
    return ModelBuildPipelineArgs(**fields)


# ---- inputs and spec -------------------------------------------------------------------------------


def test_args_refuse_both_inputs() -> None:
    with pytest.raises(ValueError, match="weld-gun-pm: give exactly one of sample_data and athena"):
        make_args(athena=AthenaSource(database="db", query="SELECT 1", work_group="wg"))


def test_args_refuse_no_input() -> None:
    with pytest.raises(ValueError, match="weld-gun-pm: give exactly one of sample_data and athena"):
        make_args(sample_data=None)


def test_spec_reads_the_uploaded_sample() -> None:
    args = make_args()
    spec = pipeline_spec(args, **IDS)
    assert spec.input_data_uri == f"s3://{BUCKET}/{args.sample_data.key}", spec.input_data_uri


def test_spec_carries_the_projects_threshold() -> None:
    assert pipeline_spec(make_args(metric_threshold=0.55), **IDS).metric_threshold == 0.55


def test_dataset_version_default_names_the_samples_content() -> None:
    args = make_args()
    version = pipeline_spec(args, **IDS).default_dataset_version
    assert version == f"sample-{args.sample_data.sha256[:16]}", version


# ---- a changed seed script changes the definition; an unchanged one does not ---------------------------------


@pytest.fixture(scope="module")
def seed_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    unchanged = tmp_path_factory.mktemp("seed-unchanged") / "seed"
    changed = tmp_path_factory.mktemp("seed-changed") / "seed"
    shutil.copytree(SEED_CODE_DIR, unchanged)
    shutil.copytree(SEED_CODE_DIR, changed)
    train = changed / "train.py"
    train.write_text(train.read_text() + "\n# tuned\n")
    return {"unchanged": unchanged, "changed": changed}


@pytest.fixture(scope="module")
def definitions(seed_copies: dict[str, Path]) -> dict[str, str]:
    return {
        "original": build_pipeline_definition(pipeline_spec(make_args(), **IDS)),
        "unchanged": build_pipeline_definition(pipeline_spec(make_args(seed_copies["unchanged"]), **IDS)),
        "changed": build_pipeline_definition(pipeline_spec(make_args(seed_copies["changed"]), **IDS)),
    }


def test_an_unchanged_seed_copy_gives_the_same_spec(seed_copies: dict[str, Path]) -> None:
    # Same spec, same cache key: the plan does not even rebuild.
    assert pipeline_spec(make_args(seed_copies["unchanged"]), **IDS) == pipeline_spec(make_args(), **IDS)


def test_an_unchanged_seed_copy_gives_a_byte_identical_definition(definitions: dict[str, str]) -> None:
    assert definitions["unchanged"] == definitions["original"]


def test_a_changed_training_script_changes_the_definition(definitions: dict[str, str]) -> None:
    assert definitions["changed"] != definitions["original"]


def test_a_changed_training_script_moves_only_the_sourcedir(seed_copies: dict[str, Path], definitions: dict[str, str]) -> None:
    before, after = make_args(), make_args(seed_copies["changed"])
    old, new = before.seed_code.sourcedir.uri(BUCKET), after.seed_code.sourcedir.uri(BUCKET)
    assert old != new, "the sourcedir key did not change with train.py"
    assert definitions["changed"] == definitions["original"].replace(old, new)


# ---- images and the role policy -------------------------------------------------------------------------------


NESTED_DEFINITION = {
    "Version": "2020-12-01",
    "Steps": [
        {"Name": "P", "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": SKLEARN}}},
        {
            "Name": "C",
            "Type": "Condition",
            "Arguments": {
                "IfSteps": [{"Name": "R", "Type": "RegisterModel", "Arguments": {"InferenceSpecification": {"Containers": [{"Image": MONITOR}]}}}],
                "ElseSteps": [],
            },
        },
    ],
}


def test_image_repositories_include_steps_nested_in_the_condition() -> None:
    assert image_repository_arns(json.dumps(NESTED_DEFINITION)) == [
        f"arn:aws:ecr:{REGION}:048819808253:repository/sagemaker-model-monitor-analyzer",
        f"arn:aws:ecr:{REGION}:492215442770:repository/sagemaker-scikit-learn",
    ]


def test_a_non_ecr_image_is_refused() -> None:
    definition = {"Steps": [{"Name": "P", "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": "docker.io/library/python:3"}}}]}
    with pytest.raises(ValueError, match="not an ECR image URI: 'docker.io/library/python:3'"):
        image_repository_arns(json.dumps(definition))


def test_role_policy_pulls_only_the_definitions_repositories() -> None:
    (pull,) = [s for s in pipeline_role_policy(json.dumps(NESTED_DEFINITION))["Statement"] if s["Sid"] == "PullPipelineImages"]
    assert pull["Resource"] == image_repository_arns(json.dumps(NESTED_DEFINITION)) and "*" not in pull["Resource"], pull


# ---- schedule trust ----------------------------------------------------------------------------------------------


def test_schedule_trust_names_this_schedule_only() -> None:
    (trust,) = schedule_trust_policy(ACCOUNT, REGION, "mlops-weld-gun-pm-build-retrain")["Statement"]
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/mlops-weld-gun-pm-build-retrain", trust


# ---- Athena source -------------------------------------------------------------------------------------------------


def test_query_quotes_every_column_and_the_table() -> None:
    assert curated_data_query("t_curated", ["a", "fault"]) == 'SELECT "a", "fault" FROM "t_curated"'


def test_query_needs_columns() -> None:
    with pytest.raises(ValueError, match="t_curated: no columns to select"):
        curated_data_query("t_curated", [])


def test_no_athena_source_without_the_data_account(no_data_root: Path) -> None:
    org = load_organization(no_data_root)
    sources = {p.name: project_athena_source(org, p.name) for p in org.model_projects}
    assert set(sources.values()) == {None}, sources


def test_athena_source_for_each_project_with_data_access() -> None:
    org = load_organization()
    for project in org.model_projects:
        source = project_athena_source(org, project.name)
        assert (source is not None) == bool(project.data_access), f"{project.name}: {source}"


# ---- granted columns against what the seed preprocessing needs ---------------------------------------------------


def test_seed_input_columns_are_the_label_and_the_features(tmp_path: Path) -> None:
    script = tmp_path / "preprocess.py"
    script.write_text('LABEL_COLUMN = "fault"\nFEATURE_COLUMNS = (\n    "a",\n    "b",\n)\nOTHER = 1\n')
    assert seed_input_columns(script) == ("fault", "a", "b")


def test_seed_input_columns_need_both_literals(tmp_path: Path) -> None:
    script = tmp_path / "preprocess.py"
    script.write_text('LABEL_COLUMN = "fault"\n')
    with pytest.raises(ValueError, match="no LABEL_COLUMN/FEATURE_COLUMNS literals"):
        seed_input_columns(script)


def test_the_real_seed_needs_the_label() -> None:
    assert seed_input_columns(SEED_CODE_DIR / "preprocess.py")[0] == "fault"


def test_missing_input_columns_names_the_ungranted_ones() -> None:
    source = AthenaSource(database="db", query=curated_data_query("t", ["fault", "a"]), work_group="wg")
    assert missing_input_columns(source, ("fault", "a", "b", "c")) == ["b", "c"]


def test_a_project_granted_every_seed_column_misses_none() -> None:
    org = load_organization()
    source = project_athena_source(org, "weld-gun-pm")
    assert missing_input_columns(source, seed_input_columns(SEED_CODE_DIR / "preprocess.py")) == []
