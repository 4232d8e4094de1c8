"""Who may do what on the release path: people's access to the stage accounts, the release approvers
in RES, and the permission matrix that docs/res.md shows (a test compares the two).

People (persona switch, see :mod:`components.people`):

* DEV: data scientists (lead, scientist, ml_engineer) and DevOps *troubleshoot*: read the serving
  resources, their metrics and logs, and invoke the DEV endpoints.
* INT and PROD: everyone *reads*: serving resources, metrics and alarms; no logs, no invocations.
* RES: leads (*product launcher*) and DevOps (*release operator*) launch the "Model Deployment"
  product (a project's promotion pipeline, still gated by the approvals). Release approvers answer
  the manual approval of their stage only (``PutApprovalResult`` on
  ``<pipeline>/<ApproveStage>/Approve``): leads and ML engineers promote to INT, DevOps to PROD (a
  lead has already approved the package in the EXP registry, which the deployer requires for PROD).

All documents are pure functions of the organisation config.
"""

from __future__ import annotations

from typing import Any

from components.iam_documents import policy_document, statement
from components.promotion_pipeline import APPROVAL_ACTION, APPROVAL_STAGES
from mlops_core import naming
from mlops_core.config import OrganizationConfig

TROUBLESHOOT = "troubleshoot"
READ_ONLY = "read-only"
#: Stage account -> persona -> access level (personas not listed get no role there).
STAGE_ACCESS: dict[str, dict[str, str]] = {
    "dev": {
        "lead": TROUBLESHOOT,
        "scientist": TROUBLESHOOT,
        "ml_engineer": TROUBLESHOOT,
        "devops": TROUBLESHOOT,
        "auditor": READ_ONLY,
    },
    "int": {p: READ_ONLY for p in ("lead", "scientist", "ml_engineer", "devops", "auditor")},
    "prod": {p: READ_ONLY for p in ("lead", "scientist", "ml_engineer", "devops", "auditor")},
}
#: Stage promoted into -> personas that may approve it.
RELEASE_APPROVERS: dict[str, tuple[str, ...]] = {"int": ("lead", "ml_engineer"), "prod": ("devops",)}
RELEASE_OPERATOR = "release operator"
PLATFORM_ADMIN = "platform administrator"
#: Sign-in roles in RES itself (besides the approver roles): persona -> access level.
PRODUCT_LAUNCHER = "product launcher"
RES_ACCESS: dict[str, str] = {
    "lead": PRODUCT_LAUNCHER, "devops": RELEASE_OPERATOR, "auditor": READ_ONLY, "platform_admin": PLATFORM_ADMIN,
}
#: Levels whose role may launch the "Model Deployment" product (and is associated with its portfolio).
LAUNCHES_DEPLOYMENT_PRODUCT = (PRODUCT_LAUNCHER, RELEASE_OPERATOR)


#: Machine roles of the release path: (account, role name rule, what it may do there). Documented in
#: docs/res.md's matrix together with STAGE_ACCESS and RELEASE_APPROVERS.
PIPELINE_ROLES: tuple[tuple[str, str, str], ...] = (
    ("res", "model trigger (`<p>-model-trigger`)", "start `<p>-deploy-*` pipelines"),
    ("res", "release pipeline (`<p>-release-pipeline`)", "start the platform's CodeBuild projects, notify approvers"),
    ("res", "serving deployer (`<p>-serving-deployer`)", "assume `<p>-serving-deploy` in DEV, INT and PROD"),
    ("dev/int/prod", "stage deployment (`<p>-serving-deploy`)", "manage serving resources; pass the project's serving roles"),
    ("res", "image builder (`<p>-image-builder`)", "push platform images (quarantine, then release)"),
)


def _arn(region: str, account: str, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def read_only_statements(org: OrganizationConfig, account: str) -> list[dict[str, Any]]:
    """Read serving resources, metrics and alarms of one stage account (pure)."""
    p, region = org.platform_name, org.region
    return [
        statement(
            "DescribeServing",
            [
                "sagemaker:DescribeDataQualityJobDefinition", "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel", "sagemaker:DescribeMonitoringSchedule",
                "sagemaker:ListTags",
            ],
            [
                _arn(region, account, "sagemaker", f"{kind}/{p}-*")
                for kind in ("data-quality-job-definition", "endpoint", "endpoint-config", "model", "monitoring-schedule")
            ],
        ),
        # List and metric reads have no resource-level permissions.
        statement(
            "ListServingAndMetrics",
            [
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingActivities",
                "application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarms",
                "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics",
                "sagemaker:ListEndpointConfigs", "sagemaker:ListEndpoints", "sagemaker:ListModels",
                "sagemaker:ListMonitoringExecutions", "sagemaker:ListMonitoringSchedules", "states:ListStateMachines",
            ],
            "*",
        ),
        statement(
            "DescribeBatch",
            ["states:DescribeExecution", "states:DescribeStateMachine", "states:ListExecutions"],
            [_arn(region, account, "states", f"stateMachine:{p}-*"), _arn(region, account, "states", f"execution:{p}-*:*")],
        ),
    ]


def troubleshoot_statements(org: OrganizationConfig, account: str) -> list[dict[str, Any]]:
    """DEV: read-only plus the serving logs and invoking the DEV endpoints (pure)."""
    p, region = org.platform_name, org.region
    groups = [
        _arn(region, account, "logs", f"log-group:{group}*")
        for group in (f"/aws/sagemaker/Endpoints/{p}-", f"/aws/lambda/{p}-", f"/aws/apigateway/{p}-",
                      f"/aws/vendedlogs/states/{p}-")
    ]
    return [
        *read_only_statements(org, account),
        statement(
            "ReadServingLogs",
            ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery"],
            groups,
        ),
        # Logs Insights results and the log group list are not resource-scoped.
        statement("QueryResults", ["logs:DescribeLogGroups", "logs:GetQueryResults", "logs:StopQuery"], "*"),
        statement("InvokeDevEndpoints", ["sagemaker:InvokeEndpoint"], _arn(region, account, "sagemaker", f"endpoint/{p}-*")),
    ]


def stage_persona_policy(org: OrganizationConfig, stage: str, persona: str, account: str) -> dict[str, Any] | None:
    """The sign-in policy of ``persona`` in a stage account, or None if the persona has no access (pure)."""
    level = STAGE_ACCESS.get(stage, {}).get(persona)
    if level is None:
        return None
    if level == TROUBLESHOOT:
        return policy_document(troubleshoot_statements(org, account))
    return policy_document(read_only_statements(org, account))


def approver_policy(org: OrganizationConfig, stage: str) -> dict[str, Any]:
    """A release approver of ``stage``: answer that stage's approvals of every deploy pipeline (pure).

    The pipeline part is a wildcard so pipelines made by the "Model Deployment" product (same naming
    rule) are covered; the stage and action part is exact.
    """
    region, res = org.region, org.accounts.res
    pipelines = naming.deploy_pipeline_name(org, "*")
    return policy_document(
        [
            statement(
                "ApproveOwnStage",
                ["codepipeline:PutApprovalResult"],
                _arn(region, res, "codepipeline", f"{pipelines}/{APPROVAL_STAGES[stage]}/{APPROVAL_ACTION}"),
            ),
            statement(
                "ViewDeployPipelines",
                ["codepipeline:GetPipeline", "codepipeline:GetPipelineExecution", "codepipeline:GetPipelineState",
                 "codepipeline:ListActionExecutions", "codepipeline:ListPipelineExecutions"],
                _arn(region, res, "codepipeline", pipelines),
            ),
            statement("ListPipelines", ["codepipeline:ListPipelines"], "*"),
        ]
    )


def _pipelines(org: OrganizationConfig) -> list[str]:
    region, res, p = org.region, org.accounts.res, org.platform_name
    return [_arn(region, res, "codepipeline", naming.deploy_pipeline_name(org, "*")),
            _arn(region, res, "codepipeline", f"{p}-images")]


def res_read_only_statements(org: OrganizationConfig) -> list[dict[str, Any]]:
    """RES: read the release pipelines, their builds and the platform images (pure)."""
    region, res, p = org.region, org.accounts.res, org.platform_name
    return [
        statement(
            "ViewReleasePipelines",
            ["codepipeline:GetPipeline", "codepipeline:GetPipelineExecution", "codepipeline:GetPipelineState",
             "codepipeline:ListActionExecutions", "codepipeline:ListPipelineExecutions"],
            _pipelines(org),
        ),
        statement("ViewReleaseBuilds", ["codebuild:BatchGetBuilds", "codebuild:BatchGetProjects"],
                  _arn(region, res, "codebuild", f"project/{p}-*")),
        statement("ViewPlatformImages",
                  ["ecr:DescribeImageScanFindings", "ecr:DescribeImages", "ecr:DescribeRepositories"],
                  _arn(region, res, "ecr", f"repository/{p}/*")),
        # Listing pipelines has no resource-level permission.
        statement("ListPipelines", ["codepipeline:ListPipelines"], "*"),
    ]


def product_launch_statements(org: OrganizationConfig) -> list[dict[str, Any]]:
    """Launch the "Model Deployment" product and follow its stack (pure). Service Catalog end-user
    actions (what AWSServiceCatalogEndUserFullAccess grants); provisioning itself runs as the
    product's launch role, so these carry no infrastructure rights."""
    region, res = org.region, org.accounts.res
    return [
        statement(
            "LaunchDeploymentProducts",
            ["servicecatalog:DescribeProduct", "servicecatalog:DescribeProductView",
             "servicecatalog:DescribeProvisionedProduct", "servicecatalog:DescribeProvisioningParameters",
             "servicecatalog:DescribeRecord", "servicecatalog:ListLaunchPaths",
             "servicecatalog:ListProvisioningArtifacts", "servicecatalog:ListRecordHistory",
             "servicecatalog:ProvisionProduct", "servicecatalog:ScanProvisionedProducts",
             "servicecatalog:SearchProducts", "servicecatalog:SearchProvisionedProducts",
             "servicecatalog:TerminateProvisionedProduct", "servicecatalog:UpdateProvisionedProduct"],
            "*",
        ),
        statement("ProductStacks", ["cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks"],
                  _arn(region, res, "cloudformation", "stack/SC-*")),
        statement("TemplateSummaries", ["cloudformation:GetTemplateSummary"], "*"),
    ]


def res_operator_statements(org: OrganizationConfig) -> list[dict[str, Any]]:
    """RES DevOps: launch the "Model Deployment" product, retry failed release stages, rebuild images,
    read the release build logs (pure)."""
    region, res, p = org.region, org.accounts.res, org.platform_name
    return [
        *res_read_only_statements(org),
        *product_launch_statements(org),
        statement("RetryReleaseStages", ["codepipeline:RetryStageExecution"], _pipelines(org)),
        statement("RebuildImages", ["codepipeline:StartPipelineExecution"], _arn(region, res, "codepipeline", f"{p}-images")),
        statement("ReadReleaseBuildLogs", ["logs:FilterLogEvents", "logs:GetLogEvents"],
                  _arn(region, res, "logs", f"log-group:/aws/codebuild/{p}-*")),
    ]


def platform_admin_statements(org: OrganizationConfig) -> list[dict[str, Any]]:
    """RES platform administrators: run ``pulumi up`` themselves (pure).

    They assume the bootstrap's ``<p>-deploy`` role in each account (whose trust also demands MFA)
    and use the Pulumi state in the RES state bucket; no other right.
    """
    region, res = org.region, org.accounts.res
    accounts = sorted(set(org.accounts.by_role().values()) | ({org.identity.management_account} - {None}))
    state_bucket = naming.bucket_name(org, res, naming.STATE_PURPOSE)
    return [
        statement(
            "AssumeDeployRoles",
            ["sts:AssumeRole"],
            [naming.role_arn(account, naming.deploy_role_name(org)) for account in accounts],
        ),
        statement("ListStateBucket", ["s3:ListBucket"], f"arn:aws:s3:::{state_bucket}"),
        statement(
            "ReadWriteState",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            f"arn:aws:s3:::{state_bucket}/*",
        ),
        statement(
            "UseStateKey",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            f"arn:aws:kms:{region}:{res}:key/*",
            condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": naming.kms_alias(org, naming.STATE_PURPOSE)}},
        ),
    ]


def res_persona_policy(org: OrganizationConfig, persona: str) -> dict[str, Any] | None:
    """The RES sign-in policy of ``persona`` (None: no RES role besides approving) (pure)."""
    level = RES_ACCESS.get(persona)
    if level == PLATFORM_ADMIN:
        return policy_document(platform_admin_statements(org))
    if level == RELEASE_OPERATOR:
        return policy_document(res_operator_statements(org))
    if level == PRODUCT_LAUNCHER:
        return policy_document(product_launch_statements(org))
    if level == READ_ONLY:
        return policy_document(res_read_only_statements(org))
    return None


def approval_resources(document: dict[str, Any]) -> list[str]:
    """Resources a document allows ``codepipeline:PutApprovalResult`` on (for tests and the docs)."""
    found: list[str] = []
    for item in document["Statement"]:
        actions = item.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if item.get("Effect") == "Allow" and "codepipeline:PutApprovalResult" in actions:
            resources = item.get("Resource", [])
            found += [resources] if isinstance(resources, str) else resources
    return found
