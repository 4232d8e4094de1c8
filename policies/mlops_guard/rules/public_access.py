"""Public access: S3, resource policies, Lambda and API Gateway (guardrails.md §2.6).

A statement is public when it Allows ``"Principal": "*"`` (or ``{"AWS": "*"}``) without a condition
that narrows the caller to the organisation, an account, a VPC endpoint or a source ARN. A Deny
with ``"Principal": "*"`` is a guardrail, never public.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_guard.allowlists import PLATFORM_ACCOUNT_IDS
from mlops_guard.checks import require
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import as_bool, as_list, is_present, is_unknown, lookup, parse_policy_document
from mlops_guard.rules.iam import _principal_account

NARROWING_KEYS = {
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:principalarn",
    "aws:sourceorgid",
    "kms:calleraccount",
    "kms:viaservice",
}


def check_resource_policy(res: Resource, report: Report, path: str, config: Mapping[str, Any]) -> None:
    """Public principals and foreign accounts in a resource policy at ``path``."""
    doc = parse_policy_document(lookup(res.props, path))
    if doc is None:
        return
    if doc.unknown and not doc.statements:
        report.unknown(f"{res.name}: {path} is not known until apply")
        return
    if doc.malformed:
        report.violation(f"{res.name}: {path} is {doc.malformed}")
        return
    platform = set(config.get("platformAccountIds", []))
    for index, stmt in enumerate(doc.statements):
        if not stmt.allows:
            continue
        if stmt.principal_is_public and not stmt.condition_keys() & NARROWING_KEYS:
            report.violation(f"{res.name}: {path} statement {index} allows any principal ('*') without an org/account condition")
        for principal in stmt.principals.get("AWS", ()):
            if is_unknown(principal):
                report.unknown(f"{res.name}: a principal in {path} is not known until apply")
                continue
            account = _principal_account(principal)
            if account is not None and platform and account not in platform:
                report.violation(f"{res.name}: {path} grants access to account {account}, not a platform account")


@resource_policy(
    name="s3-public-access-block",
    control="PUB-S3-BPA",
    description="Bucket and account public access blocks set all four switches.",
    severity="critical",
    types=("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"),
    refs=("SH:S3.1", "SH:S3.8", "CIS:2.1.4", "CKV:CKV_AWS_53", "CKV:CKV_AWS_54", "CKV:CKV_AWS_55", "CKV:CKV_AWS_56"),
    remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to True.",
)
def s3_public_access_block(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for switch in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        require(report, res, switch, lambda v: as_bool(v) is True, f"{switch} is not true")


@resource_policy(
    name="s3-bucket-owner-enforced",
    control="PUB-S3-ACL",
    description="Buckets disable ACLs (BucketOwnerEnforced) and grant nothing through ACLs.",
    severity="high",
    types=(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketAcl:BucketAcl",
        "aws:s3/bucketAclV2:BucketAclV2",
        "aws:s3/bucket:Bucket",
    ),
    refs=("SH:S3.12", "SH:S3.2", "SH:S3.3", "CKV:CKV2_AWS_65", "CKV:CKV_AWS_20", "CKV:CKV_AWS_57"),
    remediation="Declare BucketOwnershipControls with objectOwnership='BucketOwnerEnforced'; remove BucketAcl.",
)
def s3_bucket_owner_enforced(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
        require(report, res, "rule.objectOwnership", lambda v: v == "BucketOwnerEnforced", "objectOwnership must be BucketOwnerEnforced")
        return
    acl = lookup(res.props, "acl")
    if is_unknown(acl):
        report.unknown(f"{res.name}: acl is not known until apply")
    elif isinstance(acl, str) and acl != "private":
        report.violation(f"{res.name}: canned ACL {acl!r} grants access beyond the owner")
    if is_present(lookup(res.props, "grants")) or is_present(lookup(res.props, "accessControlPolicy.grants")):
        report.violation(f"{res.name}: ACL grants are set; use bucket policies with BucketOwnerEnforced")


@resource_policy(
    name="s3-bucket-policy-not-public",
    control="PUB-S3-POLICY",
    description="Bucket policies do not allow the public or foreign accounts.",
    severity="critical",
    types=("aws:s3/bucketPolicy:BucketPolicy",),
    refs=("SH:S3.6", "SH:S3.2", "SH:S3.3", "CKV:CKV_AWS_70"),
    remediation="Condition public-principal statements on aws:PrincipalOrgID/aws:SourceVpce, or name platform roles.",
    config=PLATFORM_ACCOUNT_IDS,
)
def s3_bucket_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "policy", config)


TLS_KEY = "aws:securetransport"


def denies_insecure_transport(value: Any) -> bool | None:
    """True if the document has Deny s3:* (or *) with Bool aws:SecureTransport=false; None if unknown."""
    doc = parse_policy_document(value)
    if doc is None or doc.malformed:
        return False
    if doc.unknown and not doc.statements:
        return None
    for stmt in doc.statements:
        if stmt.effect != "deny" or not any(a in ("s3:*", "*") for a in stmt.actions):
            continue
        for operator, block in stmt.condition.items():
            if operator.lower() == "bool" and isinstance(block, Mapping):
                for key, wanted in block.items():
                    if key.lower() == TLS_KEY and str(as_list(wanted)[0]).lower() == "false":
                        return True
    return False


@resource_policy(
    name="s3-bucket-policy-tls-only",
    control="ENC-S3-TLS",
    description="Bucket policies deny every request that does not use TLS.",
    severity="high",
    types=("aws:s3/bucketPolicy:BucketPolicy",),
    refs=("SH:S3.5", "CIS:2.1.1"),
    remediation="Add {Effect: Deny, Principal: '*', Action: 's3:*', Condition: {Bool: {aws:SecureTransport: 'false'}}}.",
)
def s3_bucket_policy_tls_only(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    tls = denies_insecure_transport(lookup(res.props, "policy"))
    if tls is None:
        report.unknown(f"{res.name}: the bucket policy is not known until apply")
    elif not tls:
        report.violation(f"{res.name}: the bucket policy does not deny aws:SecureTransport=false")


@resource_policy(
    name="kms-key-policy-not-public",
    control="PUB-KMS-POLICY",
    description="KMS key policies grant nothing to the public or foreign accounts and never bypass the lockout check.",
    severity="critical",
    types=("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"),
    refs=("SH:KMS.5", "CKV:CKV_AWS_33"),
    remediation="Name principals; scope cross-account use with kms:ViaService/kms:CallerAccount.",
    config=PLATFORM_ACCOUNT_IDS,
)
def kms_key_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "policy", config)
    require(
        report,
        res,
        "bypassPolicyLockoutSafetyCheck",
        lambda v: as_bool(v) is not True,
        "bypassPolicyLockoutSafetyCheck is true",
        missing_ok=True,
    )


@resource_policy(
    name="ecr-policy-not-public",
    control="PUB-ECR-POLICY",
    description="ECR repository and registry policies grant nothing to the public or foreign accounts.",
    severity="critical",
    types=("aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:ecr/registryPolicy:RegistryPolicy"),
    refs=("CKV:CKV_AWS_32",),
    remediation="Allow pulls only for platform account roles or with aws:PrincipalOrgID.",
    config=PLATFORM_ACCOUNT_IDS,
)
def ecr_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "policy", config)


@resource_policy(
    name="messaging-policy-not-public",
    control="PUB-RESOURCE-POLICIES",
    description="SNS topic and SQS queue policies grant nothing to the public or foreign accounts.",
    severity="critical",
    types=("aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"),
    refs=("SH:SNS.4", "SH:SQS.3", "CKV:CKV_AWS_169", "CKV:CKV_AWS_168"),
    remediation="Condition service principals on aws:SourceArn/aws:SourceAccount; name platform accounts only.",
    config=PLATFORM_ACCOUNT_IDS,
)
def messaging_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "policy", config)


@resource_policy(
    name="eventbridge-policy-not-public",
    control="PUB-RESOURCE-POLICIES",
    description="Event bus policies and permissions admit only platform accounts or the organisation.",
    severity="critical",
    types=("aws:cloudwatch/eventBusPolicy:EventBusPolicy", "aws:cloudwatch/eventPermission:EventPermission"),
    refs=("SH:EventBridge.3",),
    remediation="Name platform accounts, or use principal '*' with condition key aws:PrincipalOrgID.",
    config=PLATFORM_ACCOUNT_IDS,
)
def eventbridge_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:cloudwatch/eventBusPolicy:EventBusPolicy":
        check_resource_policy(res, report, "policy", config)
        return
    principal = lookup(res.props, "principal")
    if is_unknown(principal):
        report.unknown(f"{res.name}: principal is not known until apply")
    elif principal == "*":
        if lookup(res.props, "condition.key") != "aws:PrincipalOrgID":
            report.violation(f"{res.name}: principal '*' without an aws:PrincipalOrgID condition")
    elif isinstance(principal, str) and set(config.get("platformAccountIds", [])) and principal not in set(config.get("platformAccountIds", [])):
        report.violation(f"{res.name}: account {principal} is not a platform account")


@resource_policy(
    name="model-registry-policy-restricted",
    control="PUB-RESOURCE-POLICIES",
    description="Model Registry (model package group) policies admit only platform accounts.",
    severity="high",
    types=("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",),
    remediation="Name the DEV/INT/PROD account roles in the resource policy.",
    config=PLATFORM_ACCOUNT_IDS,
)
def model_registry_policy_restricted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "resourcePolicy", config)


@resource_policy(
    name="lambda-not-public",
    control="PUB-LAMBDA",
    description="Lambda permissions never grant '*' and name the source ARN for service principals; function URLs use IAM auth.",
    severity="critical",
    types=("aws:lambda/permission:Permission", "aws:lambda/functionUrl:FunctionUrl"),
    refs=("SH:Lambda.1", "CKV:CKV_AWS_301", "CKV:CKV_AWS_364", "CKV:CKV_AWS_258"),
    remediation="Set sourceArn (and sourceAccount) on service permissions; FunctionUrl authorizationType='AWS_IAM'.",
)
def lambda_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:lambda/functionUrl:FunctionUrl":
        require(report, res, "authorizationType", lambda v: v == "AWS_IAM", "authorizationType must be AWS_IAM")
        return
    principal = lookup(res.props, "principal")
    if is_unknown(principal):
        report.unknown(f"{res.name}: principal is not known until apply")
    elif principal == "*":
        report.violation(f"{res.name}: the permission is granted to '*'")
    elif isinstance(principal, str) and principal.endswith(".amazonaws.com") and not is_present(lookup(res.props, "sourceArn")):
        report.violation(f"{res.name}: service principal {principal} without sourceArn")


@resource_policy(
    name="apigateway-authorization",
    control="PUB-APIGW-AUTH",
    description="API Gateway methods and routes require authorization (IAM, Cognito or a custom authorizer).",
    severity="high",
    types=("aws:apigateway/method:Method", "aws:apigatewayv2/route:Route"),
    refs=("SH:APIGateway.8", "CKV:CKV2_AWS_70", "CKV:CKV_AWS_59", "CKV:CKV_AWS_309"),
    remediation="Set authorization='AWS_IAM' (v1) or authorizationType='AWS_IAM' (v2).",
)
def apigateway_authorization(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:apigateway/method:Method":
        if lookup(res.props, "httpMethod") == "OPTIONS":
            return  # CORS preflight carries no credentials by design
        require(report, res, "authorization", lambda v: v in ("AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"), "authorization must not be NONE")
    else:
        require(report, res, "authorizationType", lambda v: v != "NONE", "authorizationType must not be NONE")
