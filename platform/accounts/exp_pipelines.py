"""EXP: a config-driven project's SageMaker model build pipeline and its retraining schedule.

In the project's stack, one :class:`ModelBuildPipeline` on the project's resources (role, artifacts
bucket, key, model package group, job security group) in the EXP subnets. Input:
the curated data set through Athena when the DATA account exists and the project was given data,
else the seed project's sample data uploaded to the project bucket. Failures alert the account's
alerts topic.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.build_pipeline import (
    ModelBuildPipeline,
    ModelBuildPipelineArgs,
    missing_input_columns,
    project_athena_source,
    seed_input_columns,
)
from mlops_pipelines import package_seed_code, sample_data_object
from mlops_pipelines.sourcedir import PREPROCESS_SCRIPT, SEED_CODE_DIR
from mlops_core import naming
from mlops_core.config import StackSettings


@dataclass
class PipelineInputs:
    """What a project's pipeline runs on: its stack's resources and the EXP account's network."""

    role_arn: str
    role_name: str
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: pulumi.Input[list[str]]
    alerts_topic_arn: pulumi.Input[str]


def build_project(settings: StackSettings, project: str, inputs: PipelineInputs, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """Declare one project's pipeline; returns its ARN."""
    org = settings.org
    config = org.project(project)
    athena = project_athena_source(org, project)
    if athena is not None:
        missing = missing_input_columns(athena, seed_input_columns(SEED_CODE_DIR / PREPROCESS_SCRIPT))
        if missing:
            # Not an error: the project may replace the seed scripts with its own.
            pulumi.log.warn(
                f"model project {project}: its data access does not grant {', '.join(missing)}, "
                "which the seed preprocessing needs; its pipeline fails until the grant or the scripts change"
            )
    pipeline = ModelBuildPipeline(
        f"exp-{project}-build",
        ModelBuildPipelineArgs(
            project=project,
            pipeline_name=naming.model_build_pipeline_name(org, project),
            account_id=settings.account_id,
            region=org.region,
            role_arn=inputs.role_arn,
            role_name=inputs.role_name,
            bucket_name=inputs.bucket_name,
            kms_key_arn=inputs.kms_key_arn,
            subnet_ids=inputs.subnet_ids,
            security_group_ids=inputs.security_group_ids,
            model_package_group_name=naming.model_package_group_name(project),
            seed_code=package_seed_code(key_prefix=f"code/{project}"),
            sample_data=sample_data_object(key_prefix=f"data/{project}") if athena is None else None,
            athena=athena,
            metric_threshold=config.metric_threshold,
            retrain_schedule=config.retrain_schedule,
            description=config.description,
            tags={naming.PROJECT_TAG_KEY: project},
            alerts_topic_arn=inputs.alerts_topic_arn,
        ),
        opts=opts,
    )
    return pipeline.pipeline_arn
