"""Which VPC endpoints each account role needs (pure data; tested without Pulumi).

The workload VPCs have no internet path, so every AWS API a workload calls must be reachable
through an interface endpoint (private DNS on) or the S3 gateway endpoint. The lists follow
§5 of guardrails.md; each entry says why it is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_core.roles import STAGES


@dataclass(frozen=True)
class InterfaceEndpoint:
    service: str
    """Short service name, e.g. ``sagemaker.api``."""
    reason: str
    supports_policy: bool = True
    """Whether the endpoint service accepts an endpoint policy (a few, like Studio, do not)."""
    prefix: str = "com.amazonaws"

    def service_name(self, region: str) -> str:
        if self.prefix == "aws.sagemaker":
            return f"aws.sagemaker.{region}.{self.service}"
        return f"{self.prefix}.{region}.{self.service}"


def _ep(service: str, reason: str, *, supports_policy: bool = True, prefix: str = "com.amazonaws") -> InterfaceEndpoint:
    return InterfaceEndpoint(service, reason, supports_policy, prefix)


#: Every account: credentials, logs, keys, metrics.
BASELINE = [
    _ep("sts", "role assumption and SDK credentials inside the VPC"),
    _ep("logs", "CloudWatch Logs from VPC-attached compute"),
    _ep("kms", "KMS calls from the VPC (client-side encryption, SDK decrypt)"),
    _ep("monitoring", "CloudWatch metrics and alarms"),
]

_SAGEMAKER_API = _ep("sagemaker.api", "SageMaker API, SDK and pipeline calls, CreatePresignedDomainUrl")
_SAGEMAKER_RUNTIME = _ep("sagemaker.runtime", "InvokeEndpoint from notebooks and the inference API Lambda")
_ECR = [
    _ep("ecr.api", "image metadata for custom containers"),
    _ep("ecr.dkr", "image pulls for custom containers"),
]

ROLE_ENDPOINTS: dict[str, list[InterfaceEndpoint]] = {
    "data": [
        _ep("glue", "Glue catalog, crawlers and jobs"),
        _ep("lakeformation", "Lake Formation credential vending for governed reads", supports_policy=False),
        _ep("secretsmanager", "the ETL reads its HMAC pseudonymisation key"),
        _ep("athena", "queries over the curated data sets"),
    ],
    "exp": [
        _SAGEMAKER_API,
        _SAGEMAKER_RUNTIME,
        _ep("studio", "Studio UI from the corporate network", supports_policy=False, prefix="aws.sagemaker"),
        _ep("sagemaker.metrics", "training and experiment metrics"),
        _ep("servicecatalog", "SageMaker Projects (Model Building product)"),
        *_ECR,
        _ep("codeartifact.api", "CodeArtifact authorisation tokens"),
        _ep("codeartifact.repositories", "pip through the CodeArtifact PyPI proxy"),
        _ep("codeconnections.api", "git from Studio and CodeBuild without internet", supports_policy=False),
        _ep("events", "PutEvents towards the RES event bus"),
        _ep("glue", "Glue catalog of the shared data sets"),
        _ep("athena", "Athena queries over the shared data sets"),
        _ep("lakeformation", "Lake Formation credential vending", supports_policy=False),
        _ep("codebuild", "the Model Building product's builds report status from the VPC"),
    ],
    "res": [
        _SAGEMAKER_API,
        *_ECR,
        _ep("application-autoscaling", "deploys register endpoint scaling targets"),
        _ep("sns", "deploys manage alarm topics"),
        _ep("events", "the central event bus and deploy-created rules"),
        _ep("scheduler", "deploys manage batch-inference schedules", supports_policy=False),
        _ep("states", "deploys manage batch-inference state machines"),
        _ep("lambda", "deploys manage the inference API Lambda"),
        _ep("codepipeline", "deploy actions report to CodePipeline"),
        _ep("apigateway", "deploys manage the private REST APIs (control plane)", supports_policy=False),
        _ep("codebuild", "release and image builds in the VPC report to CodeBuild"),
        _SAGEMAKER_RUNTIME,
    ],
    # DEV / INT / PROD: endpoints run here; execute-api and sagemaker.runtime serve the private API.
    "stage": [
        _SAGEMAKER_API,
        _SAGEMAKER_RUNTIME,
        *_ECR,
        _ep("execute-api", "private REST API in front of the endpoints (one per VPC with private DNS)"),
    ],
}


KNOWN_ENDPOINTS: dict[str, InterfaceEndpoint] = {
    e.service: e for e in [*BASELINE, *(e for endpoints in ROLE_ENDPOINTS.values() for e in endpoints)]
}


def interface_endpoints(role: str, extra: tuple[str, ...] = ()) -> list[InterfaceEndpoint]:
    """The interface endpoints a VPC of this account role gets (baseline first, no duplicates).

    ``extra`` adds known services by short name (e.g. ``secretsmanager`` when a stack needs it).
    """
    key = "stage" if role in STAGES else role
    if key not in ROLE_ENDPOINTS:
        raise ValueError(f"unknown account role {role!r}")
    unknown = [name for name in extra if name not in KNOWN_ENDPOINTS]
    if unknown:
        raise ValueError(f"unknown endpoint services: {', '.join(unknown)}")
    chosen: dict[str, InterfaceEndpoint] = {}
    for endpoint in [*BASELINE, *ROLE_ENDPOINTS[key], *(KNOWN_ENDPOINTS[name] for name in extra)]:
        chosen.setdefault(endpoint.service, endpoint)
    return list(chosen.values())


def aws_owned_bucket_arns(region: str) -> list[str]:
    """AWS-owned buckets that isolated workloads read through the S3 gateway endpoint.

    A tight endpoint policy silently breaks image pulls and package installs without these:
    ECR stores image layers in ``prod-<region>-starport-layer-bucket``; CodeArtifact serves package
    assets from ``assets-<account>-<region>`` (the account is AWS's, per region); SageMaker
    JumpStart and built-in algorithms read ``jumpstart-cache-prod-<region>``.
    """
    return [
        f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
        f"arn:aws:s3:::assets-*-{region}/*",
        f"arn:aws:s3:::jumpstart-cache-prod-{region}/*",
    ]
