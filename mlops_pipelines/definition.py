"""The model build pipeline definition, built with the sagemaker Python SDK v3.

    preprocess -> train -> evaluate -> data-quality baseline -> condition
                                                                 |- true:  register (PendingManualApproval)
                                                                 '- false: fail

* Every job (processing, training, evaluation, baseline) runs in the spec's subnets and security
  groups with network isolation and inter-container traffic encryption, KMS volume and output
  keys, and the pipeline role. Isolated containers cannot pip install or reach S3 themselves:
  SageMaker stages code and data through inputs, and the seed scripts use only what the
  scikit-learn image ships.
* Input: the S3 sample data, or the curated data set through an Athena `DatasetDefinition`
  (SageMaker runs the query; Lake Formation governs it; the container stays isolated).
* The condition compares literal thresholds from the spec, so an execution cannot lower them;
  the approval status is a literal too, so no execution can register an approved model.
* Lineage: `CustomerMetadataProperties` take the `GitCommit` and `DatasetVersion` execution
  parameters, so the definition does not change with every commit.
* Outputs go to `s3://<bucket>/<prefix>/executions/<execution id>/<step>/...`.

The SDK is imported lazily (about 2.5 s) inside `build_pipeline_definition`, within
`offline_session.offline_sdk`, which guarantees no AWS call and the same JSON for the same spec.
"""

from __future__ import annotations

import functools
from typing import Any

from mlops_pipelines.offline_session import offline_sdk, pipeline_session
from mlops_pipelines.spec import PipelineSpec

STEP_PREPROCESS = "PreprocessSensorData"
STEP_TRAIN = "TrainFaultModel"
STEP_EVALUATE = "EvaluateFaultModel"
STEP_BASELINE = "DataQualityBaseline"
STEP_CONDITION = "CheckModelQuality"
STEP_REGISTER = "RegisterFaultModel"
STEP_FAIL = "ModelQualityBelowThreshold"

PARAMETER_GIT_COMMIT = "GitCommit"
PARAMETER_DATASET_VERSION = "DatasetVersion"

APPROVAL_STATUS = "PendingManualApproval"
EVALUATION_REPORT = "EvaluationReport"
EVALUATION_FILE = "evaluation.json"
PR_AUC_PATH = "binary_classification_metrics.pr_auc.value"
PR_AUC_MARGIN_PATH = "margin_over_baseline.pr_auc"

# Container paths the seed scripts use as their defaults.
_PROCESSING = "/opt/ml/processing"
RAW_DATA_INPUT = "data"
RAW_DATA_PATH = f"{_PROCESSING}/input/data"
PREPROCESS_OUTPUTS = ("train", "validation", "test", "baseline")
# Script mode under network isolation: SageMaker stages the code channel, the training toolkit
# unpacks the archive from this local path instead of downloading it from S3.
SUBMIT_DIRECTORY = "/opt/ml/input/data/code/sourcedir.tar.gz"
# The serving container loads inference.py from the model archive (train.py puts it there).
SERVING_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def build_pipeline_definition(spec: PipelineSpec) -> str:
    """Return the pipeline definition JSON (`2020-12-01` format) for `spec`, without any AWS call."""
    if not isinstance(spec, PipelineSpec):
        raise TypeError(f"expected a PipelineSpec, got {type(spec).__name__}")
    with offline_sdk(spec.region):
        return _build(spec).definition()


def _build(spec: PipelineSpec):
    # Lazy imports: the SDK costs seconds to import and must be imported inside offline_sdk
    # (importing sagemaker.train creates boto3 clients).
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.model_monitor.dataset_format import DatasetFormat
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output, StoppingCondition, Tag
    from sagemaker.core.training.configs import Compute, InputData, Networking, OutputDataConfig
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import ConditionStep, FailStep, ModelStep, Pipeline, ProcessingStep, TrainingStep
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer

    session = pipeline_session(spec.region, spec.bucket)
    images = _images(spec)
    tags = [{"Key": key, "Value": value} for key, value in spec.tags]

    def execution_uri(*parts: str):
        """s3://<bucket>/<prefix>/executions/<execution id>/<parts...>, resolved at run time."""
        return Join(on="/", values=[f"s3://{spec.bucket}/{spec.resolved_output_prefix}/executions", ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def network() -> NetworkConfig:
        return NetworkConfig(
            subnets=list(spec.subnet_ids),
            security_group_ids=list(spec.security_group_ids),
            enable_network_isolation=True,
            encrypt_inter_container_traffic=True,
        )

    def processor(base_job_name: str) -> ScriptProcessor:
        return ScriptProcessor(
            role=spec.role_arn,
            image_uri=images["processing"],
            command=["python3"],
            instance_count=1,
            instance_type=spec.processing_instance_type,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key=spec.kms_key_arn,
            output_kms_key=spec.kms_key_arn,
            max_runtime_in_seconds=spec.max_runtime_seconds,
            base_job_name=base_job_name,
            sagemaker_session=session,
            network_config=network(),
            tags=tags or None,
        )

    def output(name: str, local_path: str, step: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(s3_uri=execution_uri(step, name), local_path=local_path, s3_upload_mode="EndOfJob"),
        )

    git_commit = ParameterString(name=PARAMETER_GIT_COMMIT, default_value="unknown")
    dataset_version = ParameterString(name=PARAMETER_DATASET_VERSION, default_value=spec.default_dataset_version)

    # 1. Preprocess: validate and split the raw data.
    preprocess_args = processor("preprocess").run(
        code=spec.preprocess_code_uri,
        inputs=[_raw_data_input(spec)],
        outputs=[output(name, f"{_PROCESSING}/{name}", "preprocess") for name in PREPROCESS_OUTPUTS],
    )
    preprocess = _processing_step_class()(
        name=STEP_PREPROCESS,
        step_args=preprocess_args,
        dataset_definitions={} if spec.athena is None else {RAW_DATA_INPUT: _athena_dataset_definition(spec, execution_uri)},
    )
    split_uri = {name: preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri for name in PREPROCESS_OUTPUTS}

    # 2. Train in script mode from the content-hashed sourcedir (no source_code upload).
    trainer = ModelTrainer(
        sagemaker_session=session,
        role=spec.role_arn,
        training_image=images["training"],
        base_job_name="train",
        compute=Compute(
            instance_type=spec.training_instance_type,
            instance_count=1,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key_id=spec.kms_key_arn,
        ),
        networking=Networking(
            subnets=list(spec.subnet_ids),
            security_group_ids=list(spec.security_group_ids),
            enable_network_isolation=True,
            enable_inter_container_traffic_encryption=True,
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=spec.max_runtime_seconds),
        output_data_config=OutputDataConfig(s3_output_path=execution_uri("train"), kms_key_id=spec.kms_key_arn, compression_type="GZIP"),
        hyperparameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": SUBMIT_DIRECTORY,
            "min-precision": str(spec.min_precision),
        },
        tags=[Tag(key=key, value=value) for key, value in spec.tags] or None,
    )
    train_args = trainer.train(
        input_data_config=[
            InputData(channel_name="train", data_source=split_uri["train"], content_type="text/csv"),
            InputData(channel_name="validation", data_source=split_uri["validation"], content_type="text/csv"),
            InputData(channel_name="code", data_source=spec.sourcedir_uri),
        ]
    )
    train = TrainingStep(name=STEP_TRAIN, step_args=train_args)
    model_data_url = train.properties.ModelArtifacts.S3ModelArtifacts

    # 3. Evaluate on the held-out test split; the report is a property file for the condition.
    report = PropertyFile(name=EVALUATION_REPORT, output_name="evaluation", path=EVALUATION_FILE)
    evaluate_args = processor("evaluate").run(
        code=spec.evaluate_code_uri,
        inputs=[
            _s3_input("model", model_data_url, f"{_PROCESSING}/model"),
            _s3_input("test", split_uri["test"], f"{_PROCESSING}/test"),
        ],
        outputs=[output("evaluation", f"{_PROCESSING}/evaluation", "evaluate")],
        arguments=["--min-precision", str(spec.min_precision)],
    )
    evaluate = ProcessingStep(name=STEP_EVALUATE, step_args=evaluate_args, property_files=[report])
    evaluation_uri = Join(
        on="/", values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, EVALUATION_FILE]
    )

    # 4. Data-quality baseline of the training features (statistics + constraints for Model Monitor).
    # skip_check + register_new_baseline: always compute this model's own baseline and register it.
    baseline = _quality_check_step_class()(
        name=STEP_BASELINE,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=split_uri["baseline"],
            dataset_format=DatasetFormat.csv(header=True),
            output_s3_uri=execution_uri("data-quality-baseline"),
        ),
        check_job_config=CheckJobConfig(
            role=spec.role_arn,
            instance_count=1,
            instance_type=spec.baseline_instance_type,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key=spec.kms_key_arn,
            output_kms_key=spec.kms_key_arn,
            max_runtime_in_seconds=spec.max_runtime_seconds,
            base_job_name="data-quality-baseline",
            sagemaker_session=session,
            tags=tags or None,
            network_config=network(),
        ),
        skip_check=True,
        register_new_baseline=True,
        model_package_group_name=spec.model_package_group_name,
    )

    # 5a. Register the model (PendingManualApproval) with its metrics, drift baselines and lineage.
    def json_source(uri) -> MetricsSource:
        return MetricsSource(s3_uri=uri, content_type="application/json")

    model = ModelBuilder(
        image_uri=images["inference"],
        s3_model_data_url=model_data_url,
        role_arn=spec.role_arn,
        sagemaker_session=session,
        env_vars=dict(SERVING_ENVIRONMENT),
        # The default ({"auto": True}) makes register() upload code to the default bucket.
        dependencies={},
    )
    register_args = model.register(
        model_package_group_name=spec.model_package_group_name,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=list(spec.inference_instance_types),
        transform_instances=list(spec.transform_instance_types),
        approval_status=APPROVAL_STATUS,
        model_metrics=ModelMetrics(
            model_statistics=json_source(evaluation_uri),
            model_data_statistics=json_source(baseline.properties.CalculatedBaselineStatistics),
            model_data_constraints=json_source(baseline.properties.CalculatedBaselineConstraints),
        ),
        drift_check_baselines=DriftCheckBaselines(
            model_data_statistics=json_source(baseline.properties.BaselineUsedForDriftCheckStatistics),
            model_data_constraints=json_source(baseline.properties.BaselineUsedForDriftCheckConstraints),
        ),
        customer_metadata_properties={"git_commit": git_commit, "dataset_version": dataset_version},
    )
    register = ModelStep(name=STEP_REGISTER, step_args=register_args)

    # 5b. Otherwise fail the execution, naming the bar it missed. A plain string: the report
    # itself is the evaluation step's output of this execution.
    fail = FailStep(
        name=STEP_FAIL,
        error_message=(
            f"Model not registered: test PR-AUC must be >= {spec.metric_threshold} and exceed the trivial "
            f"baseline (the fault rate) by >= {spec.min_margin_over_baseline}; see {EVALUATION_FILE} of step {STEP_EVALUATE}."
        ),
    )
    condition = ConditionStep(
        name=STEP_CONDITION,
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name=STEP_EVALUATE, property_file=report, json_path=PR_AUC_PATH),
                right=float(spec.metric_threshold),
            ),
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name=STEP_EVALUATE, property_file=report, json_path=PR_AUC_MARGIN_PATH),
                right=float(spec.min_margin_over_baseline),
            ),
        ],
        if_steps=[register],
        else_steps=[fail],
    )

    return Pipeline(
        name=spec.pipeline_name,
        parameters=[git_commit, dataset_version],
        steps=[preprocess, train, evaluate, baseline, condition],
        sagemaker_session=session,
        # No per-execution SageMaker Experiments trial: it needs extra permissions and adds nothing here.
        pipeline_experiment_config=None,
    )


def _images(spec: PipelineSpec) -> dict[str, str]:
    """Image URIs from the spec, else SageMaker's scikit-learn image (looked up in the SDK's bundled table)."""
    from sagemaker.core import image_uris

    def sklearn(scope: str) -> str:
        return image_uris.retrieve(
            "sklearn", region=spec.region, version=spec.sklearn_version, image_scope=scope, instance_type="ml.m5.large"
        )

    return {
        "processing": spec.processing_image_uri or sklearn("training"),
        "training": spec.training_image_uri or sklearn("training"),
        "inference": spec.inference_image_uri or sklearn("inference"),
    }


def _s3_input(name: str, s3_uri: Any, local_path: str):
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=s3_uri,
            local_path=local_path,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def _raw_data_input(spec: PipelineSpec):
    """The raw data input: S3 sample data, or a placeholder for the Athena data set (see below)."""
    from sagemaker.core.shapes import AthenaDatasetDefinition, DatasetDefinition, ProcessingInput

    if spec.athena is None:
        return _s3_input(RAW_DATA_INPUT, spec.input_data_uri, RAW_DATA_PATH)
    # The SDK shape keeps the input in place; its content is replaced by `_athena_dataset_definition`.
    return ProcessingInput(
        input_name=RAW_DATA_INPUT,
        dataset_definition=DatasetDefinition(
            athena_dataset_definition=AthenaDatasetDefinition(
                catalog=spec.athena.catalog,
                database=spec.athena.database,
                query_string=spec.athena.query,
                output_s3_uri=f"s3://{spec.bucket}/{spec.resolved_output_prefix}/athena",
                output_format="JSON",
            ),
            local_path=RAW_DATA_PATH,
        ),
    )


def _athena_dataset_definition(spec: PipelineSpec, execution_uri) -> dict[str, Any]:
    """`ProcessingInput.DatasetDefinition` for the curated data set, in the API's shape.

    SageMaker runs the query with the pipeline role (Lake Formation governs access) and hands the
    result files to the isolated container. JSON lines keep the column names; preprocess.py reads
    them and gzip natively. The results are encrypted with the project key.
    """
    return {
        "AthenaDatasetDefinition": {
            "Catalog": spec.athena.catalog,
            "Database": spec.athena.database,
            "QueryString": spec.athena.query,
            "WorkGroup": spec.athena.work_group,
            "OutputS3Uri": execution_uri("athena"),
            "KmsKeyId": spec.kms_key_arn,
            "OutputFormat": "JSON",
            "OutputCompression": "GZIP",
        },
        "LocalPath": RAW_DATA_PATH,
        "DataDistributionType": "FullyReplicated",
        "InputMode": "File",
    }


@functools.cache
def _processing_step_class():
    """`ProcessingStep` that can carry `DatasetDefinition` inputs.

    sagemaker 3.27.0's `_processing_input_to_request_dict` keeps only `S3Input`, so a
    `ProcessingInput(dataset_definition=...)` reaches the definition as a bare `InputName`. This
    subclass puts the API-shaped `DatasetDefinition` back into the named inputs.
    """
    from sagemaker.mlops.workflow import ProcessingStep

    class ProcessingStepWithDatasetDefinitions(ProcessingStep):
        def __init__(self, *args, dataset_definitions: dict[str, dict] | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.dataset_definitions = dict(dataset_definitions or {})

        @property
        def arguments(self):
            request = super().arguments
            for processing_input in request.get("ProcessingInputs", []):
                definition = self.dataset_definitions.get(processing_input.get("InputName"))
                if definition is not None:
                    processing_input.pop("S3Input", None)
                    processing_input["DatasetDefinition"] = definition
            return request

    return ProcessingStepWithDatasetDefinitions


@functools.cache
def _quality_check_step_class():
    """`QualityCheckStep` whose request carries the NetworkConfig as a dict.

    sagemaker 3.27.0's `_build_check_job_request` puts the `NetworkConfig` object itself into the
    request, which `Pipeline.definition()` cannot serialise; converting it here keeps the VPC,
    isolation and encryption settings on the baseline job.
    """
    from sagemaker.mlops.workflow.quality_check_step import QualityCheckStep

    class NetworkConfigSafeQualityCheckStep(QualityCheckStep):
        @property
        def arguments(self):
            request = super().arguments
            network_config = request.get("NetworkConfig")
            if network_config is not None and hasattr(network_config, "_to_request_dict"):
                request["NetworkConfig"] = network_config._to_request_dict()
            return request

    return NetworkConfigSafeQualityCheckStep
