"""IAM documents of the serving roles (pure; tested without Pulumi).

The platform stage stack creates one role per model project and purpose (IAM has no VPC endpoint
outside us-east-1, so the isolated serving deploy cannot create roles). The serving stack only
passes them. Every statement names its resources; actions that accept only ``*`` are listed on
their own with a comment saying why.

Purposes (``naming.serving_role_name(org, project, purpose)``):

============== ========================= =======================================================
purpose        assumed by                does
============== ========================= =======================================================
model          sagemaker.amazonaws.com   runs the Model (endpoint and batch transform): pulls the
                                         image from RES ECR, reads and decrypts the artifacts in
                                         EXP, writes captured data
monitor        sagemaker.amazonaws.com   runs the hourly data-quality job: reads capture and the
                                         baseline, writes reports
batch          states.amazonaws.com      the batch state machine: CreateTransformJob ``.sync``
batch-schedule scheduler.amazonaws.com   the EventBridge Scheduler schedule: StartExecution
api            lambda.amazonaws.com      the inference API Lambda: InvokeEndpoint
============== ========================= =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.iam_documents import policy_document, statement
from mlops_core.config import OrganizationConfig
from mlops_core.naming import (
    bucket_name,
    endpoint_name,
    kms_alias,
    project_bucket_purpose,
    serving_role_name,
)

SERVING_PURPOSES: tuple[str, ...] = ("model", "monitor", "batch", "batch-schedule", "api")
MAX_ROLE_NAME = 64
#: Roles SageMaker assumes: these carry the deny guardrails.
SAGEMAKER_PURPOSES: tuple[str, ...] = ("model", "monitor")
#: The rule Step Functions manages for ``.sync`` on SageMaker transform jobs (fixed name, per account).
SYNC_RULE_NAME = "StepFunctionsGetEventsForSageMakerTransformJobsRule"
SYNC_RULE_ACTIONS = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
#: Suffixes of the serving buckets' purposes (see :func:`serving_bucket_names`).
BUCKET_SUFFIXES = {"capture": "cap", "batch_input": "bin", "batch_output": "bout"}
#: Prefixes inside the capture bucket.
CAPTURE_PREFIX = "capture"
MONITORING_PREFIX = "monitoring"


@dataclass(frozen=True)
class ServingScope:
    """What the documents of one project's serving roles in one stage account are scoped to
    (:func:`serving_scope` derives it from the organisation by the naming conventions)."""

    project: str
    region: str
    account_id: str
    """The stage account."""
    vpc_id: str
    """The stage VPC (ENIs only there)."""
    platform_key_arn: str
    """The stage account's platform key (volumes, buckets, Lambda environment, state machine)."""
    endpoint_name: str
    """The project's endpoint in this stage (``naming.endpoint_name``)."""
    buckets: dict[str, str]
    """The project's serving buckets in this account (:func:`serving_bucket_names`)."""
    model_role_arn: str
    """The project's model execution role here (the batch state machine passes it to SageMaker)."""
    platform_name: str
    """Prefix of the platform's image repositories in RES."""
    res_account_id: str
    """Where the platform images are (ECR)."""
    exp_account_id: str
    """Where the model artifacts and baselines are."""
    exp_artifacts_bucket: str
    """The project's artifacts bucket in EXP (:func:`exp_artifacts_bucket`)."""
    exp_key_alias: str
    """Alias of the project's key in EXP (:func:`exp_project_key_alias`)."""

    @property
    def transform_job_prefix(self) -> str:
        return transform_job_prefix(self.project)


def serving_scope(
    org: OrganizationConfig, project: str, stage: str, account_id: str, vpc_id: str, platform_key_arn: str
) -> ServingScope:
    """The scope of ``project``'s serving roles in the ``stage`` account (names by convention)."""
    return ServingScope(
        project=project,
        region=org.region,
        account_id=account_id,
        vpc_id=vpc_id,
        platform_key_arn=platform_key_arn,
        endpoint_name=endpoint_name(org, project, stage),
        buckets=serving_bucket_names(org, account_id, project),
        model_role_arn=f"arn:aws:iam::{account_id}:role/{serving_role_name(org, project, 'model')}",
        platform_name=org.platform_name,
        res_account_id=org.accounts.res,
        exp_account_id=org.accounts.exp,
        exp_artifacts_bucket=exp_artifacts_bucket(org, project),
        exp_key_alias=exp_project_key_alias(org, project),
    )


def serving_bucket_names(org: OrganizationConfig, account_id: str, project: str) -> dict[str, str]:
    """Bucket names of a project's serving stack in one stage account (by naming convention)."""
    return {key: bucket_name(org, account_id, f"{project}-{suffix}") for key, suffix in BUCKET_SUFFIXES.items()}


def transform_job_prefix(project: str) -> str:
    """Transform jobs of a project's batch state machine are named ``<project>-<uuid>`` (<= 63 chars)."""
    return f"{project}-"


def exp_artifacts_bucket(org: OrganizationConfig, project: str) -> str:
    """The project's artifacts bucket in EXP (model data and Model Monitor baselines)."""
    return bucket_name(org, org.accounts.exp, project_bucket_purpose(project))


def exp_project_key_alias(org: OrganizationConfig, project: str) -> str:
    """Alias of the project's KMS key in EXP (artifacts bucket and registry artifacts)."""
    return kms_alias(org, f"project-{project}")


# ---- trust ---------------------------------------------------------------------------------------


def serving_trust_policy(scope: ServingScope, purpose: str) -> dict[str, Any]:
    """Trust of a serving role: its one service, held to this account and its own resources."""
    region, account = scope.region, scope.account_id
    sources = {
        "model": ("sagemaker.amazonaws.com", f"arn:aws:sagemaker:{region}:{account}:*"),
        "monitor": ("sagemaker.amazonaws.com", f"arn:aws:sagemaker:{region}:{account}:*"),
        "batch": ("states.amazonaws.com", f"arn:aws:states:{region}:{account}:stateMachine:*"),
        "batch-schedule": ("scheduler.amazonaws.com", f"arn:aws:scheduler:{region}:{account}:schedule/*"),
        "api": ("lambda.amazonaws.com", None),
    }
    if purpose not in sources:
        raise ValueError(f"unknown serving role purpose {purpose!r} (known: {', '.join(SERVING_PURPOSES)})")
    service, source_arn = sources[purpose]
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy_document(
        [statement("ServiceAssumeRole", ["sts:AssumeRole"], None, principal={"Service": service}, condition=condition)]
    )


# ---- shared statements ---------------------------------------------------------------------------


def _vpc_network_interface_statements(scope: ServingScope) -> list[dict[str, Any]]:
    """ENIs in the stage VPC only (SageMaker and Lambda attach to the VPC through them)."""
    region, account = scope.region, scope.account_id
    vpc_arn = f"arn:aws:ec2:{region}:{account}:vpc/{scope.vpc_id}"
    return [
        statement(
            "NetworkInterfacesInStageVpc",
            ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
             "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission", "ec2:UnassignPrivateIpAddresses"],
            [f"arn:aws:ec2:{region}:{account}:{kind}/*" for kind in ("network-interface", "security-group", "subnet")],
            condition={"ArnEquals": {"ec2:Vpc": vpc_arn}},
        ),
        # EC2 Describe* calls support no resource-level permissions: "*" is the only valid resource.
        statement(
            "DescribeNetwork",
            ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
             "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
            "*",
        ),
    ]


def _stage_key_statement(scope: ServingScope, sid: str, via: list[str]) -> dict[str, Any]:
    """Use of the stage platform key, only through the named services of this region."""
    return statement(
        sid,
        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
        scope.platform_key_arn,
        condition={"StringEquals": {"kms:ViaService": sorted(f"{s}.{scope.region}.amazonaws.com" for s in via)}},
    )


def _exp_key_statement(scope: ServingScope) -> dict[str, Any]:
    """Decrypt EXP objects: the project's key in EXP, named by its alias (key IDs are not known here)."""
    return statement(
        "DecryptExpArtifacts",
        ["kms:Decrypt", "kms:DescribeKey"],
        f"arn:aws:kms:{scope.region}:{scope.exp_account_id}:key/*",
        condition={
            "StringEquals": {"kms:ViaService": f"s3.{scope.region}.amazonaws.com"},
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": scope.exp_key_alias},
        },
    )


def _log_statement(scope: ServingScope, sid: str, group_patterns: list[str]) -> dict[str, Any]:
    arns = [f"arn:aws:logs:{scope.region}:{scope.account_id}:log-group:{p}" for p in group_patterns]
    return statement(sid, ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                     [*arns, *(f"{a}:log-stream:*" for a in arns)])


def _metrics_statement(sid: str, namespaces: list[str]) -> dict[str, Any]:
    # PutMetricData has no resource-level permissions; the namespace condition scopes it.
    return statement(sid, ["cloudwatch:PutMetricData"], "*",
                     condition={"StringLike": {"cloudwatch:namespace": sorted(namespaces)}})


def _ecr_token_statement() -> dict[str, Any]:
    # GetAuthorizationToken accepts only "*"; the image pulls below are scoped to repositories.
    return statement("EcrAuthorizationToken", ["ecr:GetAuthorizationToken"], "*")


ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


# ---- per purpose ---------------------------------------------------------------------------------


def model_role_policy(scope: ServingScope) -> dict[str, Any]:
    """Model execution role: the endpoint's and the batch transform's containers."""
    region = scope.region
    artifacts = scope.exp_artifacts_bucket
    buckets = scope.buckets
    return policy_document(
        [
            _ecr_token_statement(),
            # The released (scanned) inference image only: naming.image_repository_name(org, "inference").
            statement("PullPlatformImages", ECR_PULL_ACTIONS,
                      f"arn:aws:ecr:{region}:{scope.res_account_id}:repository/{scope.platform_name}/inference"),
            # The build pipeline's default inference image: SageMaker's scikit-learn image (AWS-owned account).
            statement("PullSageMakerScikitLearnImage", ECR_PULL_ACTIONS,
                      f"arn:aws:ecr:{region}:*:repository/sagemaker-scikit-learn"),
            statement("ListExpArtifacts", ["s3:ListBucket"], f"arn:aws:s3:::{artifacts}"),
            statement("ReadExpArtifacts", ["s3:GetObject", "s3:GetObjectVersion"], f"arn:aws:s3:::{artifacts}/*"),
            _exp_key_statement(scope),
            statement("WriteCapturedData", ["s3:PutObject"], f"arn:aws:s3:::{buckets['capture']}/{CAPTURE_PREFIX}/*"),
            statement("ListBatchBuckets", ["s3:GetBucketLocation", "s3:ListBucket"],
                      [f"arn:aws:s3:::{buckets['batch_input']}", f"arn:aws:s3:::{buckets['batch_output']}"]),
            statement("ReadBatchInput", ["s3:GetObject"], f"arn:aws:s3:::{buckets['batch_input']}/*"),
            statement("WriteBatchOutput", ["s3:AbortMultipartUpload", "s3:PutObject"],
                      f"arn:aws:s3:::{buckets['batch_output']}/*"),
            _stage_key_statement(scope, "UseStageKeyForS3", ["s3"]),
            statement("StageKeyGrantsForVolumes", ["kms:CreateGrant"], scope.platform_key_arn,
                      condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
            *_vpc_network_interface_statements(scope),
            _log_statement(scope, "WriteContainerLogs",
                           [f"/aws/sagemaker/Endpoints/{scope.endpoint_name}", "/aws/sagemaker/TransformJobs"]),
            _metrics_statement("PublishModelMetrics", ["/aws/sagemaker/*", "AWS/SageMaker"]),
        ]
    )


def monitor_role_policy(scope: ServingScope) -> dict[str, Any]:
    """Model Monitor role: hourly data-quality job over the captured data."""
    region = scope.region
    capture = scope.buckets["capture"]
    artifacts = scope.exp_artifacts_bucket
    return policy_document(
        [
            _ecr_token_statement(),
            # The analyzer image lives in an AWS-owned account per region.
            statement("PullModelMonitorImage", ECR_PULL_ACTIONS,
                      f"arn:aws:ecr:{region}:*:repository/sagemaker-model-monitor-analyzer"),
            statement("ListCapture", ["s3:GetBucketLocation", "s3:ListBucket"], f"arn:aws:s3:::{capture}"),
            statement("ReadCapture", ["s3:GetObject"], f"arn:aws:s3:::{capture}/{CAPTURE_PREFIX}/*"),
            statement("WriteReports", ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                      f"arn:aws:s3:::{capture}/{MONITORING_PREFIX}/*"),
            statement("ListBaseline", ["s3:ListBucket"], f"arn:aws:s3:::{artifacts}"),
            statement("ReadBaseline", ["s3:GetObject"], f"arn:aws:s3:::{artifacts}/*"),
            _exp_key_statement(scope),
            _stage_key_statement(scope, "UseStageKeyForS3", ["s3"]),
            statement("StageKeyGrantsForVolumes", ["kms:CreateGrant"], scope.platform_key_arn,
                      condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
            *_vpc_network_interface_statements(scope),
            _log_statement(scope, "WriteJobLogs", ["/aws/sagemaker/ProcessingJobs"]),
            _metrics_statement("PublishDriftMetrics", ["aws/sagemaker/Endpoints/data-metrics", "/aws/sagemaker/*"]),
        ]
    )


def batch_role_policy(scope: ServingScope) -> dict[str, Any]:
    """Batch state machine role: run transform jobs with ``.sync``, log, trace, use its key."""
    region, account = scope.region, scope.account_id
    jobs = f"arn:aws:sagemaker:{region}:{account}:transform-job/{scope.transform_job_prefix}*"
    return policy_document(
        [
            statement("RunTransformJobs",
                      ["sagemaker:AddTags", "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob",
                       "sagemaker:StopTransformJob"],
                      jobs),
            # .sync on SageMaker: Step Functions manages this one EventBridge rule to learn of job completion.
            statement("SyncIntegrationRule", SYNC_RULE_ACTIONS,
                      f"arn:aws:events:{region}:{account}:rule/{SYNC_RULE_NAME}"),
            statement("PassModelRoleToSageMaker", ["iam:PassRole"], scope.model_role_arn,
                      condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
            # Log delivery and X-Ray APIs accept only "*" (Step Functions documents these actions).
            statement("StateMachineLogDelivery",
                      ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                       "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                       "logs:PutResourcePolicy", "logs:UpdateLogDelivery"],
                      "*"),
            statement("Tracing", ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                                  "xray:PutTraceSegments"], "*"),
            statement("StateMachineKey", ["kms:Decrypt", "kms:GenerateDataKey"], scope.platform_key_arn,
                      condition={"StringLike": {
                          "kms:EncryptionContext:aws:states:stateMachineArn":
                              f"arn:aws:states:{region}:{account}:stateMachine:*"}}),
        ]
    )


def batch_schedule_role_policy(scope: ServingScope) -> dict[str, Any]:
    """Scheduler role: start the project's batch state machine, nothing else."""
    region, account = scope.region, scope.account_id
    machine = batch_state_machine_name(scope.endpoint_name)
    return policy_document(
        [
            statement("StartBatchExecutions", ["states:StartExecution"],
                      f"arn:aws:states:{region}:{account}:stateMachine:{machine}"),
            # The state machine encrypts its executions' input with the stage key.
            statement("StateMachineKey", ["kms:Decrypt", "kms:GenerateDataKey"], scope.platform_key_arn,
                      condition={"StringLike": {
                          "kms:EncryptionContext:aws:states:stateMachineArn":
                              f"arn:aws:states:{region}:{account}:stateMachine:{machine}"}}),
            # The schedule itself is encrypted with the stage key; the execution role decrypts it.
            statement("ScheduleKey", ["kms:Decrypt"], scope.platform_key_arn,
                      condition={"StringLike": {
                          "kms:EncryptionContext:aws:scheduler:schedule-arn":
                              f"arn:aws:scheduler:{region}:{account}:schedule/default/{machine}"}}),
        ]
    )


def api_role_policy(scope: ServingScope) -> dict[str, Any]:
    """Inference API Lambda role: invoke the project's endpoint of this stage."""
    region, account = scope.region, scope.account_id
    function = api_function_name(scope.endpoint_name)
    return policy_document(
        [
            # SageMaker writes endpoint ARNs in lower case.
            statement("InvokeProjectEndpoint", ["sagemaker:InvokeEndpoint"],
                      f"arn:aws:sagemaker:{region}:{account}:endpoint/{scope.endpoint_name.lower()}"),
            *_vpc_network_interface_statements(scope),
            _log_statement(scope, "WriteFunctionLogs", [f"/aws/lambda/{function}"]),
            statement("DecryptEnvironment", ["kms:Decrypt"], scope.platform_key_arn,
                      condition={"StringEquals": {"kms:EncryptionContext:LambdaFunctionName": function}}),
            statement("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
        ]
    )


ROLE_POLICIES = {
    "model": model_role_policy,
    "monitor": monitor_role_policy,
    "batch": batch_role_policy,
    "batch-schedule": batch_schedule_role_policy,
    "api": api_role_policy,
}


def serving_role_policy(scope: ServingScope, purpose: str) -> dict[str, Any]:
    if purpose not in ROLE_POLICIES:
        raise ValueError(f"unknown serving role purpose {purpose!r} (known: {', '.join(SERVING_PURPOSES)})")
    return ROLE_POLICIES[purpose](scope)


def serving_role_name_problems(org: OrganizationConfig) -> list[str]:
    """Serving role names over IAM's 64 characters (long platform and project names), one line each."""
    return [
        f"role name {name!r} ({len(name)} characters) exceeds IAM's 64; shorten platformName or the project name"
        for project in org.model_projects
        for purpose in SERVING_PURPOSES
        if len(name := serving_role_name(org, project.name, purpose)) > MAX_ROLE_NAME
    ]


# ---- names shared with the serving stack ---------------------------------------------------------


def batch_state_machine_name(endpoint: str) -> str:
    """Name of the batch state machine and of its schedule (<= 64 characters, the schedule's limit)."""
    return f"{endpoint[:58]}-batch"


def api_function_name(endpoint: str) -> str:
    """The inference API Lambda's name (<= 64 characters, endpoint names are <= 63)."""
    return f"{endpoint[:59]}-api"
