"""EXP: each config-driven project's SageMaker model build pipeline and its retraining schedule.

Per ``modelProjects`` entry one :class:`ModelBuildPipeline` on the workspace's project resources
(role, artifacts bucket, key, model package group, job security group) in the EXP subnets. Input:
the curated data set through Athena when the DATA account exists and the project was given data,
else the seed project's sample data uploaded to the project bucket. Failures alert the account's
alerts topic.
"""

from __future__ import annotations

import pulumi

from accounts.common import AccountContext
from accounts.exp_workspace import ExpWorkspace
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


def build(context: AccountContext, workspace: ExpWorkspace) -> None:
    """Declare the pipelines (the workspace provides roles, buckets, keys and security groups)."""
    org = context.settings.org
    pipelines: dict[str, pulumi.Output[str]] = {}
    for project in org.model_projects:
        own = workspace.projects.get(project.name)
        if own is None:
            raise pulumi.RunError(f"exp_pipelines: the EXP workspace declares no resources for model project {project.name!r}")
        athena = project_athena_source(org, project.name)
        if athena is not None:
            missing = missing_input_columns(athena, seed_input_columns(SEED_CODE_DIR / PREPROCESS_SCRIPT))
            if missing:
                # Not an error: the project may replace the seed scripts with its own.
                pulumi.log.warn(
                    f"model project {project.name}: its data access does not grant {', '.join(missing)}, "
                    "which the seed preprocessing needs; its pipeline fails until the grant or the scripts change"
                )
        pipeline = ModelBuildPipeline(
            f"exp-{project.name}-build",
            ModelBuildPipelineArgs(
                project=project.name,
                pipeline_name=naming.model_build_pipeline_name(org, project.name),
                account_id=context.settings.account_id,
                region=org.region,
                role_arn=own.role_arn,
                role_name=own.role.id,
                bucket_name=own.bucket.name,
                kms_key_arn=own.key_arn,
                subnet_ids=workspace.subnet_ids,
                security_group_ids=own.security_group_ids,
                model_package_group_name=own.model_package_group,
                seed_code=package_seed_code(key_prefix=f"code/{project.name}"),
                sample_data=sample_data_object(key_prefix=f"data/{project.name}") if athena is None else None,
                athena=athena,
                metric_threshold=project.metric_threshold,
                retrain_schedule=project.retrain_schedule,
                description=project.description,
                tags=dict(own.tags),
                alerts_topic_arn=context.baseline.alerts_topic_arn,
            ),
            opts=context.opts,
        )
        pipelines[project.name] = pipeline.pipeline_arn
    context.exports["modelBuildPipelines"] = pipelines
