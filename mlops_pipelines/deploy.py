"""Create or update the SageMaker pipeline from a built definition and start an execution.

For paths without Pulumi: the "Model Building" product's CodeBuild job runs
`python -m mlops_pipelines upsert ...`, which builds the definition offline first and only then
calls SageMaker with the job's own credentials. The Pulumi path uses `aws.sagemaker.Pipeline`
instead and never calls these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from mlops_pipelines.definition import PARAMETER_DATASET_VERSION, PARAMETER_GIT_COMMIT
from mlops_pipelines.spec import PipelineSpec


def upsert_pipeline(
    sagemaker_client: Any,
    spec: PipelineSpec,
    definition: str,
    description: str = "Model build pipeline (mlops_pipelines)",
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create the pipeline `spec.pipeline_name`, or update its definition and role; return its ARN.

    Tags are set only on creation (UpdatePipeline does not take tags); the spec's job tags are
    used when `tags` is None.
    """
    try:
        sagemaker_client.describe_pipeline(PipelineName=spec.pipeline_name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFound":
            raise
        pipeline_tags = dict(spec.tags) if tags is None else dict(tags)
        response = sagemaker_client.create_pipeline(
            PipelineName=spec.pipeline_name,
            PipelineDefinition=definition,
            PipelineDescription=description,
            RoleArn=spec.role_arn,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(pipeline_tags.items())],
        )
        return response["PipelineArn"]
    response = sagemaker_client.update_pipeline(
        PipelineName=spec.pipeline_name,
        PipelineDefinition=definition,
        PipelineDescription=description,
        RoleArn=spec.role_arn,
    )
    return response["PipelineArn"]


def start_pipeline(
    sagemaker_client: Any,
    pipeline_name: str,
    git_commit: str,
    dataset_version: str | None = None,
    client_request_token: str | None = None,
) -> str:
    """Start an execution with the lineage parameters; return the execution ARN.

    `dataset_version` None keeps the definition's default. A repeated `client_request_token`
    returns the earlier execution instead of starting a second one (retries of one build).
    """
    parameters = [{"Name": PARAMETER_GIT_COMMIT, "Value": git_commit}]
    if dataset_version is not None:
        parameters.append({"Name": PARAMETER_DATASET_VERSION, "Value": dataset_version})
    request: dict[str, Any] = {"PipelineName": pipeline_name, "PipelineParameters": parameters}
    if client_request_token is not None:
        request["ClientRequestToken"] = client_request_token
    return sagemaker_client.start_pipeline_execution(**request)["PipelineExecutionArn"]
