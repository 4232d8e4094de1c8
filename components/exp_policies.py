"""IAM documents of the EXP account's people, projects and Studio (pure functions, no Pulumi).

Who may do what is the persona x action matrix :data:`PERSONA_MATRIX` (also the table in
``docs/exp.md``, which a test compares with these builders). Principles:

* No AWS full-access policies: every statement names its resources (account, region, domain,
  project bucket/key/group) or is a List/Describe action that only accepts ``*``.
* ``iam:PassRole`` only to the platform's own roles (the user's own execution role, the project
  roles of the user's projects) and only to ``sagemaker.amazonaws.com`` (``iam:PassedToService``).
* Studio sign-in: ``sagemaker:CreatePresignedDomainUrl`` only on
  ``user-profile/<domain>/${aws:PrincipalTag/<userNameTag>}`` and only through the ``sagemaker.api``
  VPC endpoint, so a scientist cannot open a lead's profile (and inherit its rights).
* Approval: only leads may set ``sagemaker:ModelApprovalStatus`` (``UpdateModelPackage``); others may
  register versions only as ``PendingManualApproval`` and are explicitly denied approving.
* Project isolation: every project role and resource carries ``mlops:project``. Identity policies
  name only the caller's projects' bucket, key and model package group and require
  ``aws:ResourceTag/mlops:project`` to be one of them (KMS, model package groups); each project bucket
  denies object access to principals of the EXP account whose ``aws:PrincipalTag/mlops:project`` does
  not list the project (:func:`project_bucket_isolation_statement`). A principal working on several
  projects carries them space-separated (``"spot-weld-qa weld-gun-pm"``, :func:`project_tags`), in
  continuation keys ``mlops:project-2`` ... when the list passes a tag value's 256 characters.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

from components.iam_documents import policy_document, statement
from mlops_core.naming import PROJECT_TAG_KEY
from mlops_core.roles import OPERATOR_PERSONAS
from mlops_core.roles import SCIENTIST_PERSONAS as DATA_PERSONAS
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
APPROVAL_STATUSES = ["Approved", "Rejected"]
PENDING = "PendingManualApproval"
KMS_DATA_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
S3_OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
S3_BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
JOB_KINDS = ["training-job", "processing-job", "transform-job", "hyper-parameter-tuning-job", "model", "endpoint-config", "experiment", "experiment-trial", "experiment-trial-component"]
JOB_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
]
#: List/Search actions that accept only ``*`` as resource.
SAGEMAKER_LIST_ACTIONS = [
    "sagemaker:GetSearchSuggestions",
    "sagemaker:ListApps",
    "sagemaker:ListDomains",
    "sagemaker:ListModelMetadata",
    "sagemaker:ListModelPackageGroups",
    "sagemaker:ListPipelines",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListSpaces",
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListUserProfiles",
    "sagemaker:Search",
]
PIPELINE_ACTIONS = [
    "sagemaker:DescribePipeline",
    "sagemaker:DescribePipelineExecution",
    "sagemaker:ListPipelineExecutionSteps",
    "sagemaker:ListPipelineExecutions",
    "sagemaker:RetryPipelineExecution",
    "sagemaker:StartPipelineExecution",
    "sagemaker:StopPipelineExecution",
]


@dataclass(frozen=True)
class ProjectQuery:
    """What querying a project's shared data sets through its Athena workgroup touches (plain strings)."""

    project: str
    workgroup_arn: str
    results_bucket_arn: str
    """Results live under ``<project>/`` of this bucket, encrypted with the project key."""
    catalog_resources: tuple[str, ...]
    """Glue catalog ARNs of the resource links in EXP and their target databases in DATA."""
    data_key_arns: str
    """``arn:aws:kms:<region>:<data>:key/*``: the DATA catalog key, narrowed by its alias."""
    data_key_alias: str


@dataclass(frozen=True)
class ProjectResources:
    """The resources of one model project that policies name (plain strings, known at apply)."""

    name: str
    bucket_arn: str
    key_arn: str
    model_package_group: str
    role_arn: str
    """The project role (pipeline and jobs)."""
    query: ProjectQuery | None = None
    """Its shared data, when the project was given any (members query it from notebooks)."""


def query_statements(queries: list[ProjectQuery]) -> list[dict[str, Any]]:
    """Query some projects' shared data through their workgroups. Lake Formation decides which columns
    and rows; IAM only opens the doors: the workgroups, the catalog objects of the links and their
    targets, credential vending, the projects' result prefixes, decrypting the DATA catalog (by alias).
    The results' key is the project key, which the project statements grant."""
    if not queries:
        return []
    buckets = sorted({q.results_bucket_arn for q in queries})
    return [
        statement(
            "QueryInOwnWorkgroup",
            ["athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup", "athena:StartQueryExecution",
             "athena:StopQueryExecution"],
            sorted(q.workgroup_arn for q in queries),
        ),
        statement(
            "ReadSharedCatalog",
            ["glue:GetDatabase", "glue:GetDatabases", "glue:GetPartitions", "glue:GetTable", "glue:GetTables"],
            sorted({arn for q in queries for arn in q.catalog_resources}),
        ),
        # Lake Formation vends S3 credentials for the granted columns; the action has no resource type.
        statement("LakeFormationCredentials", ["lakeformation:GetDataAccess"], "*"),
        statement("LocateResultsBucket", ["s3:GetBucketLocation"], buckets),
        statement("ListOwnResults", ["s3:ListBucket"], buckets,
                  condition={"StringLike": {"s3:prefix": sorted(f"{q.project}/*" for q in queries)}}),
        statement("ReadWriteOwnResults", ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                  sorted(f"{q.results_bucket_arn}/{q.project}/*" for q in queries)),
        statement("DecryptDataCatalog", ["kms:Decrypt"], sorted({q.data_key_arns for q in queries}),
                  condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted({q.data_key_alias for q in queries})}}),
    ]


@dataclass(frozen=True)
class ExpPolicyContext:
    """Everything the EXP builders need, as plain strings."""

    platform_name: str
    account_id: str
    region: str
    domain_id: str
    sagemaker_api_endpoint_id: str
    user_name_tag: str
    codeartifact_domain: str
    codeartifact_repository: str
    projects: dict[str, ProjectResources] = field(default_factory=dict)
    product_ids: list[str] = field(default_factory=list)
    """Service Catalog products leads may launch (``prod-...``)."""
    connection_arns: list[str] = field(default_factory=list)
    """CodeConnections the platform admin may complete the handshake for."""
    domain_key_arn: str = ""
    """The Studio domain's KMS key (EFS home and space EBS volumes)."""

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


# ---- tags and isolation -------------------------------------------------------------------------


#: AWS's limit for a tag value (IAM, SageMaker, EC2: 256 characters).
MAX_TAG_VALUE = 256
#: Where a principal's projects are listed: the first key, then continuation keys when the list
#: passes :data:`MAX_TAG_VALUE` (a lead in twenty projects needs more than one).
PROJECT_TAG_KEYS: tuple[str, ...] = (PROJECT_TAG_KEY, *(f"{PROJECT_TAG_KEY}-{n}" for n in range(2, 5)))


def project_tag_value(projects: list[str]) -> str:
    """The ``mlops:project`` tag of a principal or resource: its project(s), sorted, space-separated."""
    if not projects:
        raise ValueError("a project tag needs at least one project")
    return " ".join(sorted(set(projects)))


def project_tags(projects: list[str]) -> dict[str, str]:
    """A principal's project tags: the sorted projects space-separated under :data:`PROJECT_TAG_KEYS`,
    each value at most :data:`MAX_TAG_VALUE` characters (a project never split across two)."""
    values: list[list[str]] = []
    for project in sorted(set(projects)) or [None]:
        if project is None:
            raise ValueError("a project tag needs at least one project")
        if values and len(" ".join([*values[-1], project])) <= MAX_TAG_VALUE:
            values[-1].append(project)
        else:
            values.append([project])
    if len(values) > len(PROJECT_TAG_KEYS):
        raise ValueError(
            f"{len(set(projects))} projects need {len(values)} tags of {MAX_TAG_VALUE} characters; "
            f"the platform checks {len(PROJECT_TAG_KEYS)} ({', '.join(PROJECT_TAG_KEYS)})"
        )
    return {key: " ".join(names) for key, names in zip(PROJECT_TAG_KEYS, values)}


def project_tag_patterns(project: str) -> list[str]:
    """StringLike patterns matching a ``mlops:project`` tag value that lists ``project``."""
    return [project, f"{project} *", f"* {project}", f"* {project} *"]


def project_bucket_isolation_statement(project: str, bucket_arn: str, account_id: str, exempt_principal_arns: list[str]) -> dict[str, Any]:
    """Bucket-policy Deny: principals of the EXP account not tagged with the project get no objects.

    ``exempt_principal_arns``: the platform's deploy role and the project's build role (they carry no
    person's tags); other accounts are governed by their own Allow statements.
    """
    return statement(
        "DenyPrincipalsOutsideTheProject",
        [*S3_OBJECT_ACTIONS, "s3:ListBucket"],
        [bucket_arn, f"{bucket_arn}/*"],
        effect="Deny",
        principal={"AWS": "*"},
        condition={
            "StringEquals": {"aws:PrincipalAccount": account_id},
            # Keys in one operator all must hold: denied only when no project tag lists the project
            # (an absent continuation key holds, as negated operators do for missing keys).
            "StringNotLike": {f"aws:PrincipalTag/{key}": project_tag_patterns(project) for key in PROJECT_TAG_KEYS},
            "ArnNotLike": {"aws:PrincipalArn": sorted(exempt_principal_arns)},
        },
    )


def stage_read_statements(bucket_arn: str, reader_accounts: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Bucket-policy Allow: named roles of RES/DEV/INT/PROD read model artifacts.

    ``reader_accounts``: account ID -> role ARN patterns (account root + ``aws:PrincipalArn``).
    """
    statements = []
    for account, patterns in sorted(reader_accounts.items()):
        condition = {"ArnLike": {"aws:PrincipalArn": sorted(patterns)}}
        principal = {"AWS": f"arn:aws:iam::{account}:root"}
        statements.append(statement(f"ReadArtifacts{account}", ["s3:GetObject", "s3:GetObjectVersion"], f"{bucket_arn}/*", principal=principal, condition=condition))
        statements.append(statement(f"ListArtifacts{account}", ["s3:GetBucketLocation", "s3:ListBucket"], bucket_arn, principal=principal, condition=condition))
    return statements


def model_package_group_policy(group_arn: str, group_name: str, account_id: str, region: str, res_account: str, stage_accounts: list[str]) -> dict[str, Any]:
    """Resource policy of a project's model package group (cross-account model registry).

    Actions follow AWS's "Cross-account discoverability" / "Deploy a model version from a different
    account" guide: RES reads the group and its versions (``DescribeModelPackageGroup``,
    ``DescribeModelPackage``, ``ListModelPackages``); DEV/INT/PROD additionally ``CreateModel`` from
    its versions. Nobody outside EXP may ``UpdateModelPackage``: approval stays with EXP's leads.
    """
    packages = f"arn:aws:sagemaker:{region}:{account_id}:model-package/{group_name}/*"
    statements = [
        statement("ResReadsGroup", ["sagemaker:DescribeModelPackageGroup"], group_arn, principal={"AWS": f"arn:aws:iam::{res_account}:root"}),
        statement("ResReadsVersions", ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"], packages, principal={"AWS": f"arn:aws:iam::{res_account}:root"}),
    ]
    if stage_accounts:
        stages = {"AWS": sorted(f"arn:aws:iam::{a}:root" for a in stage_accounts)}
        statements.append(statement("StagesReadGroup", ["sagemaker:DescribeModelPackageGroup"], group_arn, principal=stages))
        statements.append(
            statement("StagesCreateModels", ["sagemaker:CreateModel", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"], packages, principal=stages)
        )
    return policy_document(statements)


# ---- persona sign-in roles (EXP) ----------------------------------------------------------------


def _own_profile_url(ctx: ExpPolicyContext) -> dict[str, Any]:
    return statement(
        "OpenOwnStudioProfileThroughVpce",
        ["sagemaker:CreatePresignedDomainUrl"],
        ctx.arn("sagemaker", f"user-profile/{ctx.domain_id}/${{aws:PrincipalTag/{ctx.user_name_tag}}}"),
        condition={"StringEquals": {"aws:SourceVpce": ctx.sagemaker_api_endpoint_id}},
    )


def _studio_read(ctx: ExpPolicyContext) -> list[dict[str, Any]]:
    return [
        statement(
            "DescribeStudio",
            ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile", "sagemaker:DescribeSpace", "sagemaker:DescribeApp"],
            [ctx.arn("sagemaker", f"domain/{ctx.domain_id}"), ctx.arn("sagemaker", f"user-profile/{ctx.domain_id}/*"), ctx.arn("sagemaker", f"space/{ctx.domain_id}/*"), ctx.arn("sagemaker", f"app/{ctx.domain_id}/*")],
        ),
        statement("ListStudio", SAGEMAKER_LIST_ACTIONS, "*"),
    ]


def _launch_products(ctx: ExpPolicyContext) -> list[dict[str, Any]]:
    if not ctx.product_ids:
        return []
    products = [ctx.arn("catalog", f"product/{p}") for p in ctx.product_ids]
    return [
        statement(
            "LaunchModelBuildingProduct",
            ["servicecatalog:DescribeProduct", "servicecatalog:DescribeProvisioningParameters", "servicecatalog:ListLaunchPaths", "servicecatalog:ProvisionProduct"],
            products,
        ),
        statement("FindProducts", ["servicecatalog:DescribeRecord", "servicecatalog:SearchProducts", "servicecatalog:SearchProvisionedProducts"], "*"),
        statement(
            "StudioProjects",
            ["sagemaker:CreateProject", "sagemaker:DeleteProject", "sagemaker:DescribeProject", "sagemaker:UpdateProject"],
            ctx.arn("sagemaker", "project/*"),
        ),
        statement("ListStudioProjects", ["sagemaker:ListProjects"], "*"),
    ]


def persona_sign_in_policy(persona: str, ctx: ExpPolicyContext) -> dict[str, Any]:
    """The EXP sign-in role of a persona (console/CLI with the per-user session tag)."""
    statements: list[dict[str, Any]] = []
    if persona in DATA_PERSONAS:
        statements += [_own_profile_url(ctx), *_studio_read(ctx)]
        if persona == "lead":
            statements += _launch_products(ctx)
    elif persona == "devops":
        statements += _studio_read(ctx)
        statements.append(
            statement(
                "OperateBuilds",
                ["codebuild:BatchGetBuilds", "codebuild:BatchGetProjects", "codebuild:RetryBuild", "codebuild:StartBuild", "codebuild:StopBuild"],
                ctx.arn("codebuild", f"project/{ctx.platform_name}-*"),
            )
        )
        statements.append(statement("OperatePipelines", PIPELINE_ACTIONS, ctx.arn("sagemaker", "pipeline/*")))
        statements.append(
            statement("ReadBuildLogs", ["logs:FilterLogEvents", "logs:GetLogEvents"], [ctx.arn("logs", "log-group:/aws/codebuild/*"), ctx.arn("logs", "log-group:/aws/sagemaker/*")])
        )
    elif persona == "platform_admin":
        statements += _studio_read(ctx)
        statements.append(
            statement(
                "ManageStudioApps",
                ["sagemaker:DeleteApp", "sagemaker:DeleteSpace"],
                [ctx.arn("sagemaker", f"app/{ctx.domain_id}/*"), ctx.arn("sagemaker", f"space/{ctx.domain_id}/*")],
            )
        )
        if ctx.connection_arns:
            statements.append(
                statement(
                    "CompleteConnectionHandshake",
                    ["codeconnections:GetConnection", "codeconnections:ListConnections", "codeconnections:UpdateConnectionInstallation"],
                    sorted(ctx.connection_arns),
                )
            )
            statements.append(
                statement(
                    "ConnectionInstallation",
                    ["codeconnections:GetIndividualAccessToken", "codeconnections:GetInstallationUrl", "codeconnections:ListInstallationTargets", "codeconnections:StartOAuthHandshake"],
                    "*",
                )
            )
    elif persona == "auditor":
        statements += _studio_read(ctx)
        statements.append(statement("ReadTrail", ["cloudtrail:LookupEvents"], "*"))
    else:
        raise ValueError(f"unknown persona {persona!r}")
    return policy_document(statements)


#: AWS managed policy the auditor gets in addition (metadata only, no data reads).
AUDITOR_MANAGED_POLICY = "arn:aws:iam::aws:policy/SecurityAudit"


# ---- Studio execution role per data scientist ------------------------------------------------------


def _project_statements(projects: list[ProjectResources], ctx: ExpPolicyContext) -> list[dict[str, Any]]:
    names = sorted(p.name for p in projects)
    groups = [ctx.arn("sagemaker", f"model-package-group/{p.model_package_group}") for p in projects]
    packages = [ctx.arn("sagemaker", f"model-package/{p.model_package_group}/*") for p in projects]
    return [
        statement("ProjectArtifactsObjects", S3_OBJECT_ACTIONS, [f"{p.bucket_arn}/*" for p in projects]),
        statement("ProjectArtifactsBuckets", S3_BUCKET_ACTIONS, [p.bucket_arn for p in projects]),
        statement(
            "ProjectKeys",
            KMS_DATA_ACTIONS,
            sorted({p.key_arn for p in projects}),  # one key/* when named by convention
            condition={"StringEquals": {f"aws:ResourceTag/{PROJECT_TAG_KEY}": names}},
        ),
        statement(
            "ProjectKeyGrantsForSageMaker",
            ["kms:CreateGrant"],
            sorted({p.key_arn for p in projects}),
            condition={"StringEquals": {f"aws:ResourceTag/{PROJECT_TAG_KEY}": names}, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        statement(
            "ProjectModelPackageGroups",
            ["sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
            groups,
            condition={"StringEquals": {f"aws:ResourceTag/{PROJECT_TAG_KEY}": names}},
        ),
        statement("ProjectModelPackagesRead", ["sagemaker:DescribeModelPackage"], packages),
        statement(
            "RegisterPendingVersions",
            ["sagemaker:CreateModelPackage"],
            [*groups, *packages],
            condition={"StringEquals": {"sagemaker:ModelApprovalStatus": PENDING}},
        ),
        statement(
            "ProjectPipelines",
            PIPELINE_ACTIONS,
            sorted(
                {ctx.arn("sagemaker", f"pipeline/{n}*") for n in names}
                | {ctx.arn("sagemaker", f"pipeline/{ctx.platform_name}-{n}*") for n in names}
            ),
        ),
    ]


def _domain_key_statements(ctx: ExpPolicyContext) -> list[dict[str, Any]]:
    """The domain key, as Studio uses it under the user's role: volume keys for spaces, and a grant
    for SageMaker (the key policy delegates to IAM, so without these no app or space starts)."""
    if not ctx.domain_key_arn:
        return []
    return [
        statement("StudioDomainKey", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext"], ctx.domain_key_arn),
        statement(
            "StudioDomainKeyGrantsForSageMaker",
            ["kms:CreateGrant"],
            ctx.domain_key_arn,
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


#: IAM's limit for a customer managed policy (characters, whitespace not counted), from the IAM
#: quotas page ("Managed policy size: 6,144 characters").
MAX_MANAGED_POLICY_CHARS = 6144


def execution_role_base_policy(persona: str, user: str, execution_role_arn: str, ctx: ExpPolicyContext) -> dict[str, Any]:
    """The part of a data scientist's execution role that names none of their projects (inline):
    Studio, jobs, CodeArtifact, logs; approval denied to non-leads, the product for leads."""
    if persona not in DATA_PERSONAS:
        raise ValueError(f"{persona!r} has no Studio execution role")
    own_profile = ctx.arn("sagemaker", f"user-profile/{ctx.domain_id}/{user}")
    statements = [
        statement(
            "OwnStudioSpacesAndApps",
            ["sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:DeleteApp", "sagemaker:DeleteSpace", "sagemaker:UpdateSpace"],
            [ctx.arn("sagemaker", f"app/{ctx.domain_id}/*"), ctx.arn("sagemaker", f"space/{ctx.domain_id}/*")],
            condition={"ArnEquals": {"sagemaker:OwnerUserProfileArn": own_profile}},
        ),
        # Studio tags what it creates (tag propagation): only as part of creating a space or app.
        statement(
            "TagNewSpacesAndApps",
            ["sagemaker:AddTags"],
            [ctx.arn("sagemaker", f"app/{ctx.domain_id}/*"), ctx.arn("sagemaker", f"space/{ctx.domain_id}/*")],
            condition={"StringEquals": {"sagemaker:TaggingAction": ["CreateApp", "CreateSpace"]}},
        ),
        *_domain_key_statements(ctx),
        *_studio_read(ctx),
        # The start script reads the user's projects from their own profile's tags.
        statement("ReadOwnProfileTags", ["sagemaker:ListTags"], own_profile),
        statement("SageMakerJobs", JOB_ACTIONS, [ctx.arn("sagemaker", f"{kind}/*") for kind in JOB_KINDS]),
        statement(
            "PassOwnRoleToSageMaker",
            ["iam:PassRole"],
            execution_role_arn,
            condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        ),
        statement(
            "PipThroughCodeArtifact",
            ["codeartifact:GetAuthorizationToken"],
            ctx.arn("codeartifact", f"domain/{ctx.codeartifact_domain}"),
        ),
        statement(
            "ReadTeamRepository",
            ["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
            ctx.arn("codeartifact", f"repository/{ctx.codeartifact_domain}/{ctx.codeartifact_repository}"),
        ),
        statement(
            "CodeArtifactBearerToken",
            ["sts:GetServiceBearerToken"],
            "*",
            condition={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
        ),
        statement(
            "ReadJobLogs",
            ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"],
            ctx.arn("logs", "log-group:/aws/sagemaker/*"),
        ),
        statement("DescribeNetworkForSdk", ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"], "*"),
    ]
    if persona == "lead":
        statements += _launch_products(ctx)
    else:
        statements.append(
            statement(
                "DenyApprovalToNonLeads",
                ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
                "*",
                effect="Deny",
                condition={"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVAL_STATUSES}},
            )
        )
    return policy_document(statements)


def project_access_policy(persona: str, projects: list[ProjectResources], ctx: ExpPolicyContext) -> dict[str, Any]:
    """What a data scientist may do in some of their projects: artifacts, keys, registry, pipelines,
    their shared data through the projects' workgroups, passing the project roles; approving
    versions for leads."""
    if persona not in DATA_PERSONAS:
        raise ValueError(f"{persona!r} has no Studio execution role")
    if not projects:
        raise ValueError("project access needs at least one project")
    statements = [
        statement(
            "PassProjectRolesToSageMaker",
            ["iam:PassRole"],
            sorted(p.role_arn for p in projects),
            condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        ),
        *_project_statements(projects, ctx),
        *query_statements([p.query for p in projects if p.query is not None]),
    ]
    if persona == "lead":
        statements.append(
            statement(
                "ApproveModelPackages",
                ["sagemaker:UpdateModelPackage"],
                [ctx.arn("sagemaker", f"model-package/{p.model_package_group}/*") for p in projects],
                condition={"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVAL_STATUSES}},
            )
        )
    return policy_document(statements)


def project_access_documents(
    persona: str, projects: list[ProjectResources], ctx: ExpPolicyContext, limit: int = MAX_MANAGED_POLICY_CHARS
) -> list[dict[str, Any]]:
    """:func:`project_access_policy` of all the user's projects, packed into documents of at most
    ``limit`` characters each (one managed policy each). Statements go in order; one that does not fit
    the room left is split over its resources (or its one multi-valued condition): the part that fits
    stays, the rest opens the next document. The parts allow together what the statement allowed, and
    each project costs its ARNs only, not a copy of every action list: a lead in forty projects fits
    in eight managed policies."""
    documents: list[list[dict[str, Any]]] = [[]]
    for whole in project_access_policy(persona, projects, ctx)["Statement"]:
        rest: dict[str, Any] | None = whole
        part = 0
        while rest is not None:
            if _size(policy_document([*documents[-1], rest])) <= limit:
                documents[-1].append(_named(rest, whole, part + 1))
                break
            head, rest = _split_to_fit(rest, documents[-1], limit)
            if head is None:
                if not documents[-1]:
                    raise ValueError(f"statement {whole['Sid']}: one of its values alone exceeds {limit} characters")
                documents.append([])
                continue
            part += 1
            documents[-1].append(_named(head, whole, part))
            documents.append([])
    return [policy_document(statements) for statements in documents if statements]


def _named(piece: dict[str, Any], whole: dict[str, Any], part: int) -> dict[str, Any]:
    """A part of a split statement gets its own Sid (Sids are unique within a document)."""
    return piece if piece is whole else {**piece, "Sid": f"{whole['Sid']}{part}"}


def _split_to_fit(whole: dict[str, Any], room: list[dict[str, Any]], limit: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The largest leading part of ``whole`` that fits beside ``room``, and the rest (None: nothing fits)."""
    key, values = _splittable(whole)
    if whole["Effect"] != "Allow" or key is None:
        if not room:
            raise ValueError(f"statement {whole['Sid']} alone exceeds {limit} characters")
        return None, whole
    fits = 0
    low, high = 1, len(values) - 1
    while low <= high:  # the most values whose part still fits
        middle = (low + high) // 2
        if _size(policy_document([*room, _with_values(whole, key, values[:middle])])) <= limit:
            fits, low = middle, middle + 1
        else:
            high = middle - 1
    if fits == 0:
        return None, whole
    return _with_values(whole, key, values[:fits]), _with_values(whole, key, values[fits:])


def _with_values(whole: dict[str, Any], key: Any, values: list[str]) -> dict[str, Any]:
    piece = copy.deepcopy(whole)
    if key == "Resource":
        piece["Resource"] = list(values)
    else:
        operator, condition_key = key
        piece["Condition"][operator][condition_key] = list(values)
    return piece


def _splittable(whole: dict[str, Any]) -> tuple[Any, list[str]]:
    """What a statement can be split over: its resources, else its one multi-valued condition."""
    resources = whole.get("Resource")
    if isinstance(resources, list) and len(resources) > 1:
        return "Resource", resources
    lists = [((op, k), v) for op, block in (whole.get("Condition") or {}).items() for k, v in block.items()
             if isinstance(v, list) and len(v) > 1]
    return lists[0] if len(lists) == 1 else (None, [])


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def execution_role_policy(persona: str, user: str, execution_role_arn: str, projects: list[ProjectResources], ctx: ExpPolicyContext) -> dict[str, Any]:
    """Everything a data scientist's execution role may do, as one document (the base policy and
    the project access of all their projects; the stack splits it, :func:`project_access_documents`)."""
    if persona not in DATA_PERSONAS:
        raise ValueError(f"{persona!r} has no Studio execution role")
    if not projects:
        raise ValueError(f"{user}: a Studio user needs at least one project")
    base = execution_role_base_policy(persona, user, execution_role_arn, ctx)
    access = project_access_policy(persona, projects, ctx)
    return policy_document([*base["Statement"], *access["Statement"]])


def default_execution_role_policy(ctx: ExpPolicyContext) -> dict[str, Any]:
    """The domain's default execution role (required by the API; every real user has their own)."""
    return policy_document(_studio_read(ctx))


# ---- project role (pipeline and jobs) ------------------------------------------------------------


def vpc_interface_statements(account_id: str, region: str) -> list[dict[str, Any]]:
    """What SageMaker/CodeBuild need to attach jobs to the VPC: ENIs in this account only."""
    ec2 = f"arn:aws:ec2:{region}:{account_id}"
    return [
        statement(
            "VpcNetworkInterfaces",
            ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
            [f"{ec2}:network-interface/*", f"{ec2}:security-group/*", f"{ec2}:subnet/*"],
        ),
        statement(
            "DescribeVpc",
            ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
            "*",
        ),
    ]



def project_role_policy(project: ProjectResources, ctx: ExpPolicyContext) -> dict[str, Any]:
    """The project role: runs the project's pipeline steps and jobs, registers pending versions."""
    statements = [
        statement("SageMakerJobs", JOB_ACTIONS, [ctx.arn("sagemaker", f"{kind}/*") for kind in JOB_KINDS]),
        statement(
            "PassItselfToSageMaker",
            ["iam:PassRole"],
            project.role_arn,
            condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        ),
        *[s for s in _project_statements([project], ctx) if s["Sid"] != "ProjectPipelines"],
        statement(
            "JobLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [ctx.arn("logs", "log-group:/aws/sagemaker/*"), ctx.arn("logs", "log-group:/aws/sagemaker/*:log-stream:*")],
        ),
        statement(
            "JobMetrics",
            ["cloudwatch:PutMetricData"],
            "*",
            condition={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*", "sagemaker/*"]}},
        ),
        *vpc_interface_statements(ctx.account_id, ctx.region),
    ]
    return policy_document(statements)


# ---- the persona x action matrix -----------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """One row of the matrix: a probe (action on a resource) that decides whether a persona can."""

    key: str
    description: str
    action: str
    resource: str
    """Resource template; ``{domain}``, ``{user}``, ``{group}``, ``{bucket}``, ``{product}`` are filled in."""
    personas: frozenset[str]


def _cap(key: str, description: str, action: str, resource: str, personas: set[str]) -> Capability:
    return Capability(key, description, action, resource, frozenset(personas))


#: Persona x action: the single source for docs/exp.md's table (a test compares both).
PERSONA_MATRIX: list[Capability] = [
    _cap("open-own-studio", "Open one's own Studio profile (presigned URL via the VPC endpoint)", "sagemaker:CreatePresignedDomainUrl", "user-profile/{domain}/${{aws:PrincipalTag/{tag}}}", {"lead", "scientist", "ml_engineer"}),
    _cap("run-jobs", "Run training/processing jobs in own projects", "sagemaker:CreateTrainingJob", "training-job/example", {"lead", "scientist", "ml_engineer"}),
    _cap("read-artifacts", "Read and write own projects' artifacts", "s3:GetObject", "{bucket}/example", {"lead", "scientist", "ml_engineer"}),
    _cap("register-pending", "Register model versions as PendingManualApproval", "sagemaker:CreateModelPackage", "model-package/{group}/1", {"lead", "scientist", "ml_engineer"}),
    _cap("approve-models", "Approve or reject model versions", "sagemaker:UpdateModelPackage", "model-package/{group}/1", {"lead"}),
    _cap("launch-products", "Launch the Model Building product", "servicecatalog:ProvisionProduct", "product/{product}", {"lead"}),
    _cap("operate-builds", "Start and retry platform builds and pipelines", "codebuild:StartBuild", "project/{platform}-example", {"devops"}),
    _cap("manage-studio-apps", "Delete Studio spaces and apps (data personas only their own)", "sagemaker:DeleteSpace", "space/{domain}/example", {"platform_admin", "lead", "scientist", "ml_engineer"}),
    _cap("complete-handshake", "Complete the CodeConnections handshake", "codeconnections:UpdateConnectionInstallation", "{connection}", {"platform_admin"}),
    _cap("read-trail", "Read CloudTrail events", "cloudtrail:LookupEvents", "*", {"auditor"}),
]


def _matches(patterns: Any, value: str) -> bool:
    items = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in items)


def _tags_match(condition: dict[str, Any], resource_tags: dict[str, str]) -> bool:
    """Whether the resource's tags satisfy every ``StringEquals`` ``aws:ResourceTag/<key>`` of a condition."""
    for key, values in (condition.get("StringEquals") or {}).items():
        if key.startswith("aws:ResourceTag/"):
            wanted = values if isinstance(values, list) else [values]
            if resource_tags.get(key.removeprefix("aws:ResourceTag/")) not in wanted:
                return False
    return True


def allows(document: dict[str, Any], action: str, resource: str, resource_tags: dict[str, str] | None = None) -> bool:
    """Whether some Allow statement covers ``action`` on ``resource`` and no unconditional Deny does.

    Conditions are not evaluated (they only narrow an Allow), except, when ``resource_tags`` is given,
    ``StringEquals`` on ``aws:ResourceTag/<key>``; a Deny counts only without conditions.
    Policy variables in resources are compared literally.
    """
    allowed = False
    for stmt in document["Statement"]:
        if not (_matches(stmt.get("Action", []), action) and _matches(stmt.get("Resource", []), resource)):
            continue
        if stmt["Effect"] == "Deny" and not stmt.get("Condition"):
            return False
        if stmt["Effect"] == "Allow" and (resource_tags is None or _tags_match(stmt.get("Condition") or {}, resource_tags)):
            allowed = True
    return allowed
