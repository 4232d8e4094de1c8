"""One model project's SageMaker model build pipeline in EXP, its retraining schedule and failure alert.

Per project, :class:`ModelBuildPipeline` declares:

* the seed scripts (and, without the DATA account, the sample data) as KMS-encrypted objects of the
  project bucket under content-hashed keys (``mlops_pipelines.package_seed_code``): a changed script
  gets a new key, hence a new definition, hence a pipeline update; an unchanged one changes nothing;
* an inline policy on the project role with what the pipeline needs beyond the workspace's project
  policy: pulling exactly the images its definition names (AWS-owned scikit-learn and Model Monitor
  images are in AWS accounts, so the account's own ECR permissions do not cover them);
* the ``aws.sagemaker.Pipeline`` whose definition ``mlops_pipelines`` builds offline (cached by its
  inputs, so the plan stays fast), running as the project role;
* optionally an EventBridge Scheduler schedule (``retrainSchedule``) with its own role, which may
  only start this pipeline;
* an EventBridge rule that sends failed executions to the account's alerts topic.

The pure helpers (spec, policies, event pattern, query) are tested without Pulumi.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from mlops_pipelines import AthenaSource, CodeObject, PipelineSpec, SeedCode, cached_pipeline_definition
from mlops_core import naming
from mlops_core.config import OrganizationConfig

#: Detail type SageMaker sends to the default event bus when an execution changes status.
EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
FAILED_STATUSES = ["Failed"]
#: Schedules live in the account's default group (one schedule per project, named after its pipeline).
SCHEDULE_GROUP = "default"
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
_IMAGE_KEYS = ("Image", "ImageUri", "TrainingImage")
_IMAGE_URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repository>[a-z0-9._/-]+?)(:[\w.-]+|@sha256:[0-9a-f]{64})?$")


@dataclass
class ModelBuildPipelineArgs:
    """Inputs of :class:`ModelBuildPipeline`."""

    project: str
    """The model project (``modelProjects[].name``); tags every resource as ``mlops:project``."""
    pipeline_name: str
    """SageMaker pipeline name (``naming.model_build_pipeline_name``); also names the schedule, its role and the rule."""
    account_id: str
    region: str
    role_arn: pulumi.Input[str]
    """The project role: the pipeline and every job it starts run as it."""
    role_name: pulumi.Input[str]
    """Name of the same role, to attach the pipeline's own inline policy (the role belongs to the workspace)."""
    bucket_name: pulumi.Input[str]
    """The project's artifacts bucket: code, sample data and every execution's outputs."""
    kms_key_arn: pulumi.Input[str]
    """The project key: code objects, job volumes, job outputs, Athena results."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private EXP subnets every job runs in."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The project's job security group(s)."""
    model_package_group_name: str
    seed_code: SeedCode
    """The scripts (``package_seed_code(key_prefix=f"code/<project>")``)."""
    alerts_topic_arn: pulumi.Input[str]
    """The account's alerts topic (accepts events from EventBridge)."""
    sample_data: CodeObject | None = None
    """Sample CSV uploaded to the bucket and read by the pipeline; exactly one of this and ``athena``."""
    athena: AthenaSource | None = None
    """The curated data set through the project's Athena workgroup (DATA account present)."""
    metric_threshold: float = 0.5
    """Minimum test PR-AUC for registration (``modelProjects[].metricThreshold``)."""
    retrain_schedule: str | None = None
    """Scheduler expression (``rate(...)``/``cron(...)``) that starts the pipeline; None: no schedule."""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    definition_cache_dir: Path | None = None
    """Where built definitions are cached (None: ``mlops_pipelines``' default, ``.plan-cache/`` in a checkout)."""

    def __post_init__(self) -> None:
        if (self.sample_data is None) == (self.athena is None):
            raise ValueError(f"{self.project}: give exactly one of sample_data and athena as the pipeline's input")


# ---- pure helpers ------------------------------------------------------------------------------------


def default_dataset_version(args: ModelBuildPipelineArgs) -> str:
    """The ``DatasetVersion`` parameter's default: the sample's content hash, or the Athena database."""
    if args.sample_data is not None:
        return f"sample-{args.sample_data.sha256[:16]}"
    return f"athena-{args.athena.database}"


def pipeline_spec(
    args: ModelBuildPipelineArgs,
    *,
    role_arn: str,
    bucket: str,
    kms_key_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
) -> PipelineSpec:
    """The definition's inputs once the resources' IDs are known (raises ``PipelineSpecError``)."""
    return PipelineSpec(
        pipeline_name=args.pipeline_name,
        region=args.region,
        role_arn=role_arn,
        bucket=bucket,
        kms_key_arn=kms_key_arn,
        subnet_ids=tuple(subnet_ids),
        security_group_ids=tuple(security_group_ids),
        model_package_group_name=args.model_package_group_name,
        input_data_uri=args.sample_data.uri(bucket) if args.sample_data is not None else None,
        athena=args.athena,
        metric_threshold=float(args.metric_threshold),
        default_dataset_version=default_dataset_version(args),
        tags=dict(args.tags),
        **args.seed_code.spec_uris(bucket),
    )


def _values(node: Any, keys: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in keys:
                yield value
            yield from _values(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item, keys)


def image_repository_arns(definition_json: str) -> list[str]:
    """ECR repository ARNs of every image the definition names (steps nested in conditions too)."""
    arns = set()
    for value in _values(json.loads(definition_json), _IMAGE_KEYS):
        match = _IMAGE_URI.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"pipeline definition names an image that is not an ECR image URI: {value!r}")
        arns.add(f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}")
    return sorted(arns)


def pipeline_role_policy(definition_json: str) -> dict[str, Any]:
    """What the project role needs for this pipeline beyond the workspace's project policy.

    Jobs, PassRole, the bucket, the key, model packages, logs and network interfaces are granted by
    the workspace (``exp_policies.project_role_policy``), Athena by the data-access module. Images are
    pulled with the role's credentials; only the repositories the definition uses are named.
    """
    return policy_document(
        [
            statement("PullPipelineImages", ECR_PULL_ACTIONS, image_repository_arns(definition_json)),
            # GetAuthorizationToken has no resource type.
            statement("EcrAuthorization", ["ecr:GetAuthorizationToken"], "*"),
        ]
    )


def schedule_name(pipeline_name: str) -> str:
    return f"{pipeline_name}-retrain"[:64]


def schedule_trust_policy(account_id: str, region: str, name: str) -> dict[str, Any]:
    """EventBridge Scheduler of this account, for this one schedule only (confused-deputy conditions)."""
    return service_trust_policy(
        "scheduler.amazonaws.com", account_id, f"arn:aws:scheduler:{region}:{account_id}:schedule/{SCHEDULE_GROUP}/{name}"
    )


def start_pipeline_policy(pipeline_arn: str) -> dict[str, Any]:
    """The schedule role may start this pipeline and nothing else."""
    return policy_document([statement("StartThisPipeline", ["sagemaker:StartPipelineExecution"], pipeline_arn)])


def failure_event_pattern(pipeline_arn: str) -> dict[str, Any]:
    """Failed executions of this pipeline, as SageMaker reports them on the default bus."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": [EXECUTION_STATUS_CHANGE],
        "detail": {"pipelineArn": [pipeline_arn], "currentPipelineExecutionStatus": FAILED_STATUSES},
    }


def curated_data_query(table: str, columns: Sequence[str]) -> str:
    """SELECT of the granted columns of a curated table (Lake Formation applies the row filter)."""
    if not columns:
        raise ValueError(f"{table}: no columns to select")
    quoted = ", ".join(f'"{column}"' for column in columns)
    return f'SELECT {quoted} FROM "{table}"'


# ---- the component ---------------------------------------------------------------------------------


class ModelBuildPipeline(pulumi.ComponentResource):
    """The model build pipeline of one project, its code objects, schedule and failure alert."""

    code_objects: list[aws.s3.BucketObjectv2]
    sample_data_object: aws.s3.BucketObjectv2 | None
    pipeline: aws.sagemaker.Pipeline
    pipeline_arn: pulumi.Output[str]
    definition: pulumi.Output[str]
    schedule: aws.scheduler.Schedule | None
    failure_rule: aws.cloudwatch.EventRule

    def __init__(self, name: str, args: ModelBuildPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:pipelines:ModelBuildPipeline", name, None, opts)
        tags = dict(args.tags)
        here = pulumi.ResourceOptions(parent=self)

        def upload(resource_name: str, obj: CodeObject, content_type: str) -> aws.s3.BucketObjectv2:
            return aws.s3.BucketObjectv2(
                resource_name,
                aws.s3.BucketObjectv2Args(
                    bucket=args.bucket_name,
                    key=obj.key,
                    content_base64=obj.content_base64,
                    content_type=content_type,
                    server_side_encryption="aws:kms",
                    kms_key_id=args.kms_key_arn,
                    bucket_key_enabled=True,
                    tags=tags,
                ),
                # Keys are content-hashed: a replaced object stays for retries and lineage of past executions.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )

        seed = args.seed_code
        self.code_objects = [
            upload(f"{name}-preprocess-code", seed.preprocess, "text/x-python"),
            upload(f"{name}-evaluate-code", seed.evaluate, "text/x-python"),
            upload(f"{name}-sourcedir", seed.sourcedir, "application/gzip"),
        ]
        self.sample_data_object = (
            upload(f"{name}-sample-data", args.sample_data, "text/csv") if args.sample_data is not None else None
        )

        # Built inside apply, once IDs are known; the cache makes an unchanged spec cost milliseconds.
        self.definition = pulumi.Output.all(
            args.role_arn,
            args.bucket_name,
            args.kms_key_arn,
            pulumi.Output.from_input(args.subnet_ids),  # a list, or another stack's output of one
            pulumi.Output.from_input(args.security_group_ids),
        ).apply(
            lambda values: cached_pipeline_definition(
                pipeline_spec(
                    args,
                    role_arn=values[0],
                    bucket=values[1],
                    kms_key_arn=values[2],
                    subnet_ids=values[3],
                    security_group_ids=values[4],
                ),
                args.definition_cache_dir,
            )
        )

        role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            aws.iam.RolePolicyArgs(
                role=args.role_name,
                name="model-build-pipeline",
                policy=self.definition.apply(lambda definition: json.dumps(pipeline_role_policy(definition))),
            ),
            opts=here,
        )

        self.pipeline = aws.sagemaker.Pipeline(
            f"{name}-pipeline",
            aws.sagemaker.PipelineArgs(
                pipeline_name=args.pipeline_name,
                pipeline_display_name=args.pipeline_name,
                pipeline_description=(args.description or f"Model build pipeline of project {args.project}")[:3072],
                pipeline_definition=self.definition,
                role_arn=args.role_arn,
                tags=tags,
            ),
            # The definition names the code objects; executions need the image policy.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*self.code_objects, *([self.sample_data_object] if self.sample_data_object else []), role_policy],
            ),
        )
        self.pipeline_arn = self.pipeline.arn

        self.schedule = None
        if args.retrain_schedule is not None:
            self.schedule = self._schedule(name, args, tags)

        self.failure_rule = aws.cloudwatch.EventRule(
            f"{name}-failed",
            aws.cloudwatch.EventRuleArgs(
                name=f"{args.pipeline_name}-failed"[:64],
                description=f"Failed executions of {args.pipeline_name} -> alerts topic",
                event_pattern=self.pipeline.arn.apply(lambda arn: json.dumps(failure_event_pattern(arn))),
                tags=tags,
            ),
            opts=here,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-failed-alert",
            aws.cloudwatch.EventTargetArgs(
                rule=self.failure_rule.name,
                arn=args.alerts_topic_arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths={"execution": "$.detail.pipelineExecutionArn", "status": "$.detail.currentPipelineExecutionStatus"},
                    input_template=json.dumps(
                        f"Model build pipeline {args.pipeline_name} (project {args.project}): execution <execution> is <status>."
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self.failure_rule),
        )

        self.register_outputs(
            {
                "pipelineArn": self.pipeline.arn,
                "pipelineName": self.pipeline.pipeline_name,
                "scheduleArn": self.schedule.arn if self.schedule is not None else None,
                "failureRuleArn": self.failure_rule.arn,
            }
        )

    def _schedule(self, name: str, args: ModelBuildPipelineArgs, tags: dict[str, str]) -> aws.scheduler.Schedule:
        """A schedule that starts the pipeline, through a role allowed to start only this pipeline."""
        schedule = schedule_name(args.pipeline_name)
        scheduler = role_with_policy(
            f"{name}-schedule-role",
            role_name=schedule,
            description=f"EventBridge Scheduler starts the model build pipeline of project {args.project}",
            trust_policy=schedule_trust_policy(args.account_id, args.region, schedule),
            tags=tags,
            policy_name="start-pipeline",
            policy=self.pipeline.arn.apply(start_pipeline_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.scheduler.Schedule(
            f"{name}-schedule",
            aws.scheduler.ScheduleArgs(
                name=schedule,
                group_name=SCHEDULE_GROUP,
                description=f"Retrain project {args.project}: start {args.pipeline_name}",
                schedule_expression=args.retrain_schedule,
                schedule_expression_timezone="UTC",
                state="ENABLED",
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=self.pipeline.arn,
                    role_arn=scheduler.role.arn,
                    # Few retries: a duplicate start is a second (costly) training run.
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=2, maximum_event_age_in_seconds=3600),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler.policy]),
        )


# ---- wiring helpers for the EXP stack (pure) ----------------------------------------------------------


def project_athena_source(org: OrganizationConfig, project: str) -> AthenaSource | None:
    """The project's curated data set through Athena, or None (no DATA account, or no data access).

    Reads the first data set the project was given, through its resource link in EXP and the
    project's own workgroup, selecting exactly the granted columns (all non-PII ones when the grant
    names none); the names are the data-access module's (``naming``).
    """
    model_project = org.project(project)
    if not org.has_data_account or not model_project.data_access:
        return None
    access = model_project.data_access[0]
    data_set = next(d for d in org.data_sets if d.name == access.data_set)
    columns = access.columns or [column.name for column in data_set.columns if not column.pii]
    return AthenaSource(
        database=naming.shared_database_link_name(org, data_set.name),
        query=curated_data_query(naming.curated_table_name(data_set.name), columns),
        work_group=naming.athena_workgroup_name(org, project),
    )


def seed_input_columns(preprocess_script: Path) -> tuple[str, ...]:
    """The columns the seed preprocessing requires: its ``LABEL_COLUMN`` and ``FEATURE_COLUMNS`` literals.

    Read from the script's source (no import: it needs pandas, and the plan must stay fast).
    """
    values: dict[str, Any] = {}
    for node in ast.parse(preprocess_script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("LABEL_COLUMN", "FEATURE_COLUMNS"):
                values[node.targets[0].id] = ast.literal_eval(node.value)
    if set(values) != {"LABEL_COLUMN", "FEATURE_COLUMNS"}:
        raise ValueError(f"{preprocess_script}: no LABEL_COLUMN/FEATURE_COLUMNS literals")
    return (values["LABEL_COLUMN"], *values["FEATURE_COLUMNS"])


def missing_input_columns(source: AthenaSource, required: Sequence[str]) -> list[str]:
    """Required columns the Athena query does not select (the preprocessing step would fail on them)."""
    selected = set(re.findall(r'"([^"]+)"', source.query.split(" FROM ")[0]))
    return [column for column in required if column not in selected]
