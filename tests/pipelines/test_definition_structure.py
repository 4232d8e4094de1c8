"""The structure of the built pipeline definition (SDK `2020-12-01` format).

Expected values come from the spec in pipeline_helpers (deliberately non-default thresholds) and
from the SageMaker API's field names, never from the builder's own constants, except the step names
used to find steps.
"""

from __future__ import annotations

import json
import re

import pytest
from pipeline_helpers import (
    ATHENA,
    BUCKET,
    KMS_KEY,
    MARGIN,
    METRIC_THRESHOLD,
    ROLE,
    SECURITY_GROUPS,
    SUBNETS,
    all_steps,
    step_named,
)

from mlops_pipelines.definition import (
    STEP_BASELINE,
    STEP_CONDITION,
    STEP_EVALUATE,
    STEP_FAIL,
    STEP_PREPROCESS,
    STEP_REGISTER,
    STEP_TRAIN,
)

JOB_STEPS = (STEP_PREPROCESS, STEP_TRAIN, STEP_EVALUATE, STEP_BASELINE)
MODEL_ARTIFACTS = {"Get": f"Steps.{STEP_TRAIN}.ModelArtifacts.S3ModelArtifacts"}


def get(step: str, path: str) -> dict:
    return {"Get": f"Steps.{step}.{path}"}


def job_network(step: dict) -> tuple[dict, bool, bool]:
    """(VpcConfig, isolation, inter-container encryption) of a Training or Processing-shaped step."""
    arguments = step["Arguments"]
    if step["Type"] == "Training":
        return arguments.get("VpcConfig", {}), arguments.get("EnableNetworkIsolation"), arguments.get("EnableInterContainerTrafficEncryption")
    network = arguments.get("NetworkConfig", {})
    return network.get("VpcConfig", {}), network.get("EnableNetworkIsolation"), network.get("EnableInterContainerTrafficEncryption")


def job_keys(step: dict) -> tuple[str | None, str | None]:
    """(volume key, output key) of a Training or Processing-shaped step."""
    arguments = step["Arguments"]
    if step["Type"] == "Training":
        return arguments["ResourceConfig"].get("VolumeKmsKeyId"), arguments["OutputDataConfig"].get("KmsKeyId")
    return arguments["ProcessingResources"]["ClusterConfig"].get("VolumeKmsKeyId"), arguments["ProcessingOutputConfig"].get("KmsKeyId")


def test_definition_uses_the_2020_12_01_schema_version(definition: dict):
    assert definition["Version"] == "2020-12-01"


def test_top_level_steps_and_their_order(definition: dict):
    assert [(step["Name"], step["Type"]) for step in definition["Steps"]] == [
        (STEP_PREPROCESS, "Processing"),
        (STEP_TRAIN, "Training"),
        (STEP_EVALUATE, "Processing"),
        (STEP_BASELINE, "QualityCheck"),
        (STEP_CONDITION, "Condition"),
    ]


def test_data_flows_preprocess_to_train_to_evaluate(definition: dict):
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in step_named(definition, STEP_TRAIN)["Arguments"]["InputDataConfig"]}
    assert channels["train"] == get(STEP_PREPROCESS, "ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")
    assert channels["validation"] == get(STEP_PREPROCESS, "ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri")
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in step_named(definition, STEP_EVALUATE)["Arguments"]["ProcessingInputs"]}
    assert inputs["model"] == MODEL_ARTIFACTS
    assert inputs["test"] == get(STEP_PREPROCESS, "ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri")


def test_condition_branches_register_or_fail(definition: dict):
    condition = step_named(definition, STEP_CONDITION)["Arguments"]
    assert [(s["Name"], s["Type"]) for s in condition["IfSteps"]] == [(STEP_REGISTER, "RegisterModel")]
    assert [(s["Name"], s["Type"]) for s in condition["ElseSteps"]] == [(STEP_FAIL, "Fail")]


def test_condition_thresholds_are_the_spec_values_as_literals(definition: dict):
    conditions = step_named(definition, STEP_CONDITION)["Arguments"]["Conditions"]
    found = {c["LeftValue"]["Std:JsonGet"]["Path"]: (c["Type"], c["RightValue"]) for c in conditions}
    assert found == {
        "binary_classification_metrics.pr_auc.value": ("GreaterThanOrEqualTo", METRIC_THRESHOLD),
        "margin_over_baseline.pr_auc": ("GreaterThanOrEqualTo", MARGIN),
    }
    for condition in conditions:
        assert condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] == get(STEP_EVALUATE, "PropertyFiles.EvaluationReport")


def test_condition_reads_the_report_evaluate_py_writes(definition: dict):
    evaluate = step_named(definition, STEP_EVALUATE)
    (property_file,) = evaluate["PropertyFiles"]
    outputs = {o["OutputName"]: o["S3Output"]["LocalPath"] for o in evaluate["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
    # evaluate.py writes <--output-dir, default /opt/ml/processing/evaluation>/evaluation.json
    assert property_file["FilePath"] == "evaluation.json"
    assert outputs[property_file["OutputName"]] == "/opt/ml/processing/evaluation"


def test_no_execution_parameter_can_change_the_thresholds_or_approval(definition: dict):
    assert {p["Name"] for p in definition["Parameters"]} == {"GitCommit", "DatasetVersion"}
    assert all(p["Type"] == "String" for p in definition["Parameters"])


def test_registration_model_data_url_is_the_training_artifacts_property(definition: dict):
    (container,) = step_named(definition, STEP_REGISTER)["Arguments"]["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == MODEL_ARTIFACTS


def test_registration_is_pending_manual_approval_in_the_spec_group(definition: dict):
    register = step_named(definition, STEP_REGISTER)["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == "pm-models"


def test_drift_check_baselines_are_the_quality_check_baseline(definition: dict):
    drift = step_named(definition, STEP_REGISTER)["Arguments"]["DriftCheckBaselines"]["ModelDataQuality"]
    assert drift["Statistics"]["S3Uri"] == get(STEP_BASELINE, "BaselineUsedForDriftCheckStatistics")
    assert drift["Constraints"]["S3Uri"] == get(STEP_BASELINE, "BaselineUsedForDriftCheckConstraints")


def test_model_metrics_point_at_the_evaluation_report_and_calculated_baseline(definition: dict):
    metrics = step_named(definition, STEP_REGISTER)["Arguments"]["ModelMetrics"]
    join = metrics["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]
    assert join["Values"] == [get(STEP_EVALUATE, "ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"), "evaluation.json"]
    assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"] == get(STEP_BASELINE, "CalculatedBaselineStatistics")


def test_lineage_comes_from_execution_parameters(definition: dict):
    properties = step_named(definition, STEP_REGISTER)["Arguments"]["CustomerMetadataProperties"]
    assert properties == {"git_commit": {"Get": "Parameters.GitCommit"}, "dataset_version": {"Get": "Parameters.DatasetVersion"}}


def test_registered_container_serves_from_the_model_archive(definition: dict):
    (container,) = step_named(definition, STEP_REGISTER)["Arguments"]["InferenceSpecification"]["Containers"]
    # train.py copies inference.py into <model>/code; isolated endpoints cannot fetch code from S3.
    assert container["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def test_quality_check_baselines_the_training_features_into_the_project_bucket(definition: dict):
    step = step_named(definition, STEP_BASELINE)
    assert step["CheckType"] == "DATA_QUALITY"
    (dataset,) = step["Arguments"]["ProcessingInputs"]
    assert dataset["S3Input"]["S3Uri"] == get(STEP_PREPROCESS, "ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri")
    (output,) = step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    values = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
    assert values[0].startswith(f"s3://{BUCKET}/"), f"baseline output {values[0]} is not in the project bucket"
    assert step["RegisterNewBaseline"] is True and step["SkipCheck"] is True


@pytest.mark.parametrize("name", JOB_STEPS)
def test_job_step_runs_in_the_vpc(definition: dict, name: str):
    vpc, _, _ = job_network(step_named(definition, name))
    assert vpc == {"SecurityGroupIds": list(SECURITY_GROUPS), "Subnets": list(SUBNETS)}, f"{name}: VpcConfig {vpc}"


@pytest.mark.parametrize("name", JOB_STEPS)
def test_job_step_is_network_isolated_with_encrypted_traffic(definition: dict, name: str):
    _, isolation, encryption = job_network(step_named(definition, name))
    assert isolation is True, f"{name}: network isolation is {isolation}"
    assert encryption is True, f"{name}: inter-container traffic encryption is {encryption}"


@pytest.mark.parametrize("name", JOB_STEPS)
def test_job_step_encrypts_volume_and_output_with_the_project_key(definition: dict, name: str):
    assert job_keys(step_named(definition, name)) == (KMS_KEY, KMS_KEY), f"{name}: volume/output keys"


@pytest.mark.parametrize("name", JOB_STEPS)
def test_job_step_runs_as_the_pipeline_role_with_the_project_tag(definition: dict, name: str):
    arguments = step_named(definition, name)["Arguments"]
    assert arguments["RoleArn"] == ROLE, f"{name}: role {arguments['RoleArn']}"
    assert {"Key": "mlops:project", "Value": "pm"} in arguments.get("Tags", []), f"{name}: no mlops:project tag"


def test_every_job_step_is_covered_by_the_checks_above(definition: dict):
    job_types = {"Processing", "Training", "QualityCheck", "ClarifyCheck", "Transform", "Tuning"}
    assert sorted(s["Name"] for s in all_steps(definition["Steps"]) if s["Type"] in job_types) == sorted(JOB_STEPS)


def test_processing_steps_run_the_content_hashed_scripts(definition: dict, spec):
    for name, uri, script in ((STEP_PREPROCESS, spec.preprocess_code_uri, "preprocess.py"), (STEP_EVALUATE, spec.evaluate_code_uri, "evaluate.py")):
        arguments = step_named(definition, name)["Arguments"]
        code = {i["InputName"]: i["S3Input"] for i in arguments["ProcessingInputs"]}["code"]
        assert code["S3Uri"] == uri, f"{name}: code from {code['S3Uri']}"
        assert arguments["AppSpecification"]["ContainerEntrypoint"] == ["python3", f"/opt/ml/processing/input/code/{script}"]


def test_training_uses_script_mode_from_the_staged_sourcedir(definition: dict, spec):
    arguments = step_named(definition, STEP_TRAIN)["Arguments"]
    hyperparameters = arguments["HyperParameters"]
    assert hyperparameters["sagemaker_program"] == "train.py"
    # Isolated: the code arrives as the "code" channel and the toolkit unpacks the local archive.
    assert hyperparameters["sagemaker_submit_directory"] == "/opt/ml/input/data/code/sourcedir.tar.gz"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments["InputDataConfig"]}
    assert channels["code"] == spec.sourcedir_uri
    assert "ContainerEntrypoint" not in arguments["AlgorithmSpecification"], "SDK driver scripts (source_code) leaked in"


def test_s3_sample_input_feeds_preprocessing(definition: dict, spec):
    inputs = {i["InputName"]: i for i in step_named(definition, STEP_PREPROCESS)["Arguments"]["ProcessingInputs"]}
    assert inputs["data"]["S3Input"]["S3Uri"] == spec.input_data_uri
    assert inputs["data"]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/data"


def test_athena_dataset_definition_feeds_preprocessing(athena_definition: dict):
    inputs = {i["InputName"]: i for i in step_named(athena_definition, STEP_PREPROCESS)["Arguments"]["ProcessingInputs"]}
    assert "S3Input" not in inputs["data"]
    dataset = inputs["data"]["DatasetDefinition"]
    athena = dataset["AthenaDatasetDefinition"]
    assert (athena["Database"], athena["QueryString"], athena["WorkGroup"]) == (ATHENA["database"], ATHENA["query"], ATHENA["work_group"])
    assert athena["KmsKeyId"] == KMS_KEY
    assert athena["OutputS3Uri"]["Std:Join"]["Values"][0].startswith(f"s3://{BUCKET}/")
    assert dataset["LocalPath"] == "/opt/ml/processing/input/data"


def test_athena_definition_keeps_every_job_isolated(athena_definition: dict):
    for name in JOB_STEPS:
        _, isolation, _ = job_network(step_named(athena_definition, name))
        assert isolation is True, f"{name}: network isolation is {isolation} with the Athena input"


def test_no_sdk_default_bucket_anywhere(definition_json: str):
    buckets = set(re.findall(r"s3://([a-z0-9.-]+)", definition_json))
    assert buckets == {BUCKET}, f"definition references buckets {sorted(buckets)}"
    assert "sagemaker-eu-central-1" not in definition_json


def test_definition_is_compact_enough_for_an_inline_pipeline_definition(definition_json: str):
    # CreatePipeline accepts PipelineDefinition up to 1 MB; the policy pack reads inline definitions only.
    assert len(definition_json.encode()) < 1_000_000
    assert json.loads(definition_json)


# The API request each step's Arguments must satisfy, with the name the pipeline service fills in.
_STEP_OPERATIONS = {
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "job"}),
    "QualityCheck": ("CreateProcessingJob", {"ProcessingJobName": "job"}),
    "Training": ("CreateTrainingJob", {"TrainingJobName": "job"}),
    "RegisterModel": ("CreateModelPackage", {}),
}


def _without_expressions(value):
    """Replace pipeline expressions (resolved at run time) with a string, as SageMaker does."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("Get", "Std:Join", "Std:JsonGet"):
            return "s3://resolved-at-run-time/value"
        return {key: _without_expressions(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_expressions(item) for item in value]
    return value


def api_shape_errors(step: dict) -> str:
    import botocore.session
    from botocore.validate import ParamValidator

    operation, names = _STEP_OPERATIONS[step["Type"]]
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(operation).input_shape
    report = ParamValidator().validate({**_without_expressions(step["Arguments"]), **names}, shape)
    return report.generate_report() if report.has_errors() else ""


@pytest.mark.parametrize("name", [*JOB_STEPS, STEP_REGISTER])
def test_step_arguments_are_a_valid_api_request(definition: dict, athena_definition: dict, name: str):
    for built in (definition, athena_definition):
        errors = api_shape_errors(step_named(built, name))
        assert not errors, f"{name}: {errors}"


def test_api_request_check_detects_a_malformed_step(definition: dict):
    step = json.loads(json.dumps(step_named(definition, STEP_TRAIN)))
    step["Arguments"]["ResourceConfig"]["VolumeSizeInGB"] = "30"
    assert "VolumeSizeInGB" in api_shape_errors(step)


def test_fail_step_names_the_thresholds_it_enforces(definition: dict):
    message = step_named(definition, STEP_FAIL)["Arguments"]["ErrorMessage"]
    assert str(METRIC_THRESHOLD) in message and str(MARGIN) in message, message
