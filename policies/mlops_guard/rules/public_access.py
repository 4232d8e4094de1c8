"""Public access: S3, resource policies, Lambda and API Gateway (guardrails.md §2.6).

A statement is public when it Allows a principal that is anyone (``"*"``, ``{"AWS": "*"}``, an ARN
with a wildcard account) without a condition that narrows the caller to the organisation, an
account, a VPC endpoint or a source ARN (``mlops_guard.principals`` reads every form of both). A
Deny with ``"Principal": "*"`` is a guardrail, never public.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_guard.allowlists import PLATFORM_ACCOUNT_IDS
from mlops_guard.checks import require
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, Statement, as_bool, as_list, is_present, is_unknown, lookup, parse_policy_document
from mlops_guard.principals import ORG_KEYS, classify_aws, foreign_accounts, narrowing, principals

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def check_resource_policy(res: Resource, report: Report, path: str, config: Mapping[str, Any]) -> None:
    """Public principals and foreign accounts in a resource policy at ``path`` (every principal form)."""
    doc = parse_policy_document(lookup(res.props, path))
    if doc is None:
        return
    if doc.unknown:
        report.unknown(f"{res.name}: {path} (or a statement of it) is not known until apply")
        if not doc.statements:
            return
    if doc.malformed:
        report.violation(f"{res.name}: {path} is {doc.malformed}")
        return
    platform = set(config.get("platformAccountIds", []))
    for index, stmt in enumerate(doc.statements):
        if not stmt.allows:
            continue
        found = principals(stmt)
        if any(p.kind == "unknown" for p in found):
            report.unknown(f"{res.name}: a principal in {path} statement {index} is not known until apply")
        for p in found:
            if p.kind == "invalid":
                report.violation(f"{res.name}: {path} statement {index} names principal {p.value!r}, not a form IAM accepts")
        public = [p.value for p in found if p.public]
        if public:
            narrowed = narrowing(stmt)
            if narrowed is None:
                report.unknown(f"{res.name}: the condition of {path} statement {index} is not known until apply")
            elif not narrowed:
                report.violation(
                    f"{res.name}: {path} statement {index} allows any principal ({public[0]!r}) without a condition "
                    "naming the organisation, an account, a VPC endpoint or a source ARN"
                )
        for account in foreign_accounts(found, platform):
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
    description="Bucket policies (BucketPolicy and a bucket's inline policy) do not allow the public or foreign accounts.",
    severity="critical",
    types=("aws:s3/bucketPolicy:BucketPolicy", *BUCKET_TYPES),
    refs=("SH:S3.6", "SH:S3.2", "SH:S3.3", "CKV:CKV_AWS_70"),
    remediation="Condition public-principal statements on aws:PrincipalOrgID/aws:SourceVpce, or name platform roles.",
    config=PLATFORM_ACCOUNT_IDS,
)
def s3_bucket_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    check_resource_policy(res, report, "policy", config)


TLS_KEY = "aws:securetransport"


def denies_insecure_transport(value: Any) -> bool | None:
    """True if the document denies everyone (Principal '*') s3:* (or *) when aws:SecureTransport is false.

    None if that is not known yet.
    """
    doc = parse_policy_document(value)
    if doc is None or doc.malformed:
        return False
    if doc.unknown and not doc.statements:
        return None
    for stmt in doc.statements:
        if stmt.effect != "deny" or not any(a in ("s3:*", "*") for a in stmt.actions):
            continue
        if not any(p.public for p in principals(stmt)):
            continue  # a Deny for some principals leaves everyone else on plain HTTP
        for operator, block in stmt.condition.items():
            if operator.lower() in ("bool", "boolifexists") and isinstance(block, Mapping):
                for key, wanted in block.items():
                    if key.lower() == TLS_KEY and str(as_list(wanted)[0]).lower() == "false":
                        return True
    return False


@resource_policy(
    name="s3-bucket-policy-tls-only",
    control="ENC-S3-TLS",
    description="Bucket policies (BucketPolicy and a bucket's inline policy) deny every request that does not use TLS.",
    severity="high",
    types=("aws:s3/bucketPolicy:BucketPolicy", *BUCKET_TYPES),
    refs=("SH:S3.5", "CIS:2.1.1"),
    remediation="Add {Effect: Deny, Principal: '*', Action: 's3:*', Condition: {Bool: {aws:SecureTransport: 'false'}}}.",
)
def s3_bucket_policy_tls_only(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type in BUCKET_TYPES and lookup(res.props, "policy") in (MISSING, None, ""):
        return  # a bucket without an inline policy needs a BucketPolicy: s3-bucket-has-tls-policy
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
    refs=(),  # SH:EventBridge.3 checks that a custom bus has a policy at all, not what it admits
    remediation="Name platform accounts, or use principal '*' with condition key aws:PrincipalOrgID.",
    config=PLATFORM_ACCOUNT_IDS,
)
def eventbridge_policy_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:cloudwatch/eventBusPolicy:EventBusPolicy":
        check_resource_policy(res, report, "policy", config)
        return
    principal = lookup(res.props, "principal")
    if not isinstance(principal, str):
        report.violation(f"{res.name}: the permission names no principal")
        return
    found = classify_aws(principal)
    if found.kind == "unknown":
        report.unknown(f"{res.name}: principal is not known until apply")
    elif found.public:
        condition = lookup(res.props, "condition")
        stmt = Statement(effect="allow", condition={})
        if isinstance(condition, Mapping):
            stmt = Statement(effect="allow", condition={str(condition.get("type", "")): {str(condition.get("key", "")): condition.get("value")}})
        narrowed = narrowing(stmt, ORG_KEYS)
        if narrowed is None:
            report.unknown(f"{res.name}: the aws:PrincipalOrgID condition is not known until apply")
        elif not narrowed:
            report.violation(f"{res.name}: principal {principal!r} without an aws:PrincipalOrgID condition naming the organisation")
    elif found.kind == "invalid":
        report.violation(f"{res.name}: principal {principal!r} is not an account id")
    else:
        for account in foreign_accounts([found], set(config.get("platformAccountIds", []))):
            report.violation(f"{res.name}: account {account} is not a platform account")


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
    config=PLATFORM_ACCOUNT_IDS,
)
def lambda_not_public(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:lambda/functionUrl:FunctionUrl":
        require(report, res, "authorizationType", lambda v: v == "AWS_IAM", "authorizationType must be AWS_IAM")
        return
    principal = lookup(res.props, "principal")
    if is_unknown(principal):
        report.unknown(f"{res.name}: principal is not known until apply")
    elif not isinstance(principal, str):
        report.violation(f"{res.name}: the permission names no principal")
    elif principal.endswith(".amazonaws.com"):
        if not is_present(lookup(res.props, "sourceArn")):
            report.violation(f"{res.name}: service principal {principal} without sourceArn")
    elif classify_aws(principal).public:
        report.violation(f"{res.name}: the permission is granted to {principal!r} (any account)")
    else:
        for account in foreign_accounts([classify_aws(principal)], set(config.get("platformAccountIds", []))):
            report.violation(f"{res.name}: the permission is granted to account {account}, not a platform account")


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
