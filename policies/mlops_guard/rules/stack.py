"""Stack-level policies: rules that span resources (every bucket, every VPC, every SageMaker role).

Their findings carry the stack's URN (the report default) and name the resource in the message.

Resources are linked by property dependencies (an encryption configuration's ``bucket`` input
depends on the bucket's URN); when those are missing, by id (mock ids are the physical name where
one is set, else ``<name>-id``; stack exports carry real ids). Offline the props are inputs; under
the real CLI a stack policy sees outputs, which include the inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mlops_guard.checks import EXEMPTION_TAG, EXEMPTION_VALUE, is_exempt_platform_role
from mlops_guard.define import resource_policy, stack_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import (
    MISSING,
    UNKNOWN,
    action_matches,
    as_list,
    contains_unknown,
    is_present,
    is_unknown,
    lookup,
    parse_policy_document,
)
from mlops_guard.rules.encryption import KMS_ALGORITHMS, S3_SSE_TYPES
from mlops_guard.rules.public_access import denies_insecure_transport

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PAB_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
VPC_TYPE = "aws:ec2/vpc:Vpc"
FLOW_LOG_TYPE = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG_TYPE = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
ROLE_TYPE = "aws:iam/role:Role"
MANAGED_POLICY_TYPE = "aws:iam/policy:Policy"
ATTACHMENT_TYPES = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
ACCESS_LOG_TAG = "mlops:access-log-bucket"
GUARDRAIL_TAG = "mlops:guardrail"
DENY_GUARDRAILS = ("sagemaker-deny-network", "sagemaker-deny-encryption")


def _id_candidates(res: Resource) -> set[str]:
    ids = {f"{res.name}-id", res.name}
    for key in ("bucket", "name", "arn", "id"):
        value = res.props.get(key)
        if isinstance(value, str) and not is_unknown(value):
            ids.add(value)
    return ids


class Index:
    """Find the resource an input refers to: by property dependency, else by id, else by ARN name."""

    def __init__(self, resources: Iterable[Resource], types: Iterable[str]) -> None:
        """Index only the resources of ``types`` (the ones inputs may point at): keeps 10k-resource stacks fast."""
        wanted = set(types)
        self.by_urn: dict[str, Resource] = {}
        self.by_id: dict[str, list[Resource]] = {}
        for res in resources:
            if res.type not in wanted:
                continue
            self.by_urn[res.urn] = res
            for candidate in _id_candidates(res):
                self.by_id.setdefault(candidate, []).append(res)

    def targets(self, child: Resource, prop: str, types: Sequence[str]) -> list[Resource]:
        found = [self.by_urn[u] for u in child.property_dependencies.get(prop, ()) if u in self.by_urn]
        found = [r for r in found if r.type in types]
        if found:
            return found
        values = as_list(lookup(child.props, prop))
        for value in values:
            if not isinstance(value, str) or is_unknown(value):
                continue
            for key in (value, value.rsplit("/", 1)[-1], value.rsplit(":", 1)[-1]):
                matches = [r for r in self.by_id.get(key, ()) if r.type in types]
                if matches:
                    found.append(matches[0])
                    break
        return found


def _children(resources: Sequence[Resource], index: Index, child_types: Sequence[str], prop: str, parent_types: Sequence[str]) -> dict[str, list[Resource]]:
    """Parent URN -> the child resources of the given types linked to it through ``prop``."""
    linked: dict[str, list[Resource]] = {}
    for res in resources:
        if res.type in child_types:
            for parent in index.targets(res, prop, parent_types):
                linked.setdefault(parent.urn, []).append(res)
    return linked


def _is_access_log_bucket(bucket: Resource) -> bool:
    return str(bucket.tags.get(ACCESS_LOG_TAG, "")).lower() == "true"


def _buckets(resources: Sequence[Resource]) -> list[Resource]:
    return [r for r in resources if r.type in BUCKET_TYPES]


@stack_policy(
    name="s3-bucket-encrypted-with-kms",
    control="ENC-S3-KMS",
    description="Every bucket has SSE-KMS with a customer key; only the bucket tagged mlops:access-log-bucket=true "
    "may use SSE-S3 (S3 log delivery requires it).",
    severity="high",
    types=(*BUCKET_TYPES, *S3_SSE_TYPES),
    refs=("SH:S3.17", "CKV:CKV_AWS_145", "CKV:CKV_AWS_19"),
    remediation="Use components.SecureBucket or declare BucketServerSideEncryptionConfiguration with aws:kms.",
)
def s3_bucket_encrypted_with_kms(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    index = Index(resources, BUCKET_TYPES)
    configs = _children(resources, index, S3_SSE_TYPES, "bucket", BUCKET_TYPES)
    for bucket in _buckets(resources):
        rules = [rule for c in configs.get(bucket.urn, []) for rule in _sse_rules(c)] + _inline_sse_rules(bucket)
        if not rules:
            report.violation(f"{bucket.name}: the bucket has no server-side encryption configuration")
            continue
        algorithms = [r.get("sseAlgorithm") for r in rules]
        if any(is_unknown(a) for a in algorithms):
            report.unknown(f"{bucket.name}: the encryption algorithm is not known until apply")
        elif any(a in KMS_ALGORITHMS and is_present(r.get("kmsMasterKeyId")) for a, r in zip(algorithms, rules, strict=True)):
            continue
        elif _is_access_log_bucket(bucket) and "AES256" in algorithms:
            continue
        else:
            report.violation(f"{bucket.name}: the bucket is not encrypted with SSE-KMS and a customer key")


def _inline_sse_rules(bucket: Resource) -> list[Mapping[str, Any]]:
    """Encryption defaults set on the bucket itself: ``Bucket.serverSideEncryptionConfiguration.rule`` (one
    object) or ``BucketV2.serverSideEncryptionConfigurations[].rules[]`` (lists)."""
    unknown = {"sseAlgorithm": UNKNOWN}
    single = lookup(bucket.props, "serverSideEncryptionConfiguration")
    blocks = [single] if single not in (MISSING, None) else as_list(lookup(bucket.props, "serverSideEncryptionConfigurations"))
    found: list[Mapping[str, Any]] = []
    for block in blocks:
        if is_unknown(block):
            found.append(unknown)
            continue
        if not isinstance(block, Mapping):
            continue
        rules = block.get("rules") if "rules" in block else block.get("rule")
        found.extend(_sse_defaults([rules] if isinstance(rules, Mapping) or is_unknown(rules) else as_list(rules)))
    return found


def _sse_defaults(rules: list[Any]) -> list[Mapping[str, Any]]:
    """Each rule's ``applyServerSideEncryptionByDefault``; one not known yet reads as an unknown algorithm."""
    found: list[Mapping[str, Any]] = []
    for rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else rule
        if is_unknown(default):
            found.append({"sseAlgorithm": UNKNOWN})
        elif isinstance(default, Mapping):
            found.append(default)
    return found


def _sse_rules(config_res: Resource) -> list[Mapping[str, Any]]:
    """The encryption defaults of a configuration; anything not known yet reads as an unknown algorithm."""
    rules = lookup(config_res.props, "rules")
    if is_unknown(rules):
        return [{"sseAlgorithm": UNKNOWN}]
    return _sse_defaults(as_list(rules))


def _every_bucket_has(
    resources: Sequence[Resource],
    report: Report,
    child_types: Sequence[str],
    what: str,
    *,
    skip_access_log: bool = False,
    inline: Callable[[Resource], bool] = lambda bucket: False,
) -> dict[str, list[Resource]]:
    """Report every bucket with no linked resource of ``child_types`` and no ``inline`` setting of its own."""
    index = Index(resources, BUCKET_TYPES)
    linked = _children(resources, index, child_types, "bucket", BUCKET_TYPES)
    for bucket in _buckets(resources):
        if skip_access_log and _is_access_log_bucket(bucket):
            continue
        if bucket.urn not in linked and not inline(bucket):
            report.violation(f"{bucket.name}: the bucket has no {what}")
    return linked


@stack_policy(
    name="s3-bucket-has-public-access-block",
    control="PUB-S3-BPA",
    description="Every bucket has a public access block resource (its four switches are checked by s3-public-access-block).",
    severity="critical",
    types=(*BUCKET_TYPES, PAB_TYPE),
    refs=("SH:S3.8", "CIS:2.1.4", "CKV:CKV2_AWS_6"),
    remediation="Declare aws.s3.BucketPublicAccessBlock for the bucket (SecureBucket does).",
)
def s3_bucket_has_public_access_block(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    _every_bucket_has(resources, report, (PAB_TYPE,), "public access block")


@stack_policy(
    name="s3-bucket-has-tls-policy",
    control="ENC-S3-TLS",
    description="Every bucket has a bucket policy (BucketPolicy or its inline policy) that denies non-TLS requests.",
    severity="high",
    types=(*BUCKET_TYPES, POLICY_TYPE),
    refs=("SH:S3.5", "CIS:2.1.1"),
    remediation="Declare a BucketPolicy with the aws:SecureTransport=false Deny statement.",
)
def s3_bucket_has_tls_policy(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    linked = _every_bucket_has(resources, report, (POLICY_TYPE,), "bucket policy", inline=_has_inline_policy)
    buckets = {b.urn: b for b in _buckets(resources)}
    for bucket in buckets.values():
        if _has_inline_policy(bucket):
            linked.setdefault(bucket.urn, []).append(bucket)  # the bucket's own ``policy`` input counts too
    for urn, policies in linked.items():
        results = [denies_insecure_transport(lookup(p.props, "policy")) for p in policies]
        if any(r is True for r in results):
            continue
        if any(r is None for r in results):
            report.unknown(f"{buckets[urn].name}: the bucket policy is not known until apply")
        else:
            report.violation(f"{buckets[urn].name}: no bucket policy denies non-TLS requests")


@stack_policy(
    name="s3-bucket-has-access-logging",
    control="LOG-S3-ACCESS",
    description="Every bucket except the access-log bucket (tag mlops:access-log-bucket=true) logs server access "
    "(a BucketLogging resource or the bucket's own logging input).",
    severity="medium",
    types=(*BUCKET_TYPES, *LOGGING_TYPES),
    refs=("SH:S3.9", "CIS:3.4", "CKV:CKV_AWS_18"),
    remediation="Declare aws.s3.BucketLogging targeting the account's access-log bucket.",
)
def s3_bucket_has_access_logging(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    _every_bucket_has(resources, report, LOGGING_TYPES, "server access logging", skip_access_log=True, inline=_has_inline_logging)


def _has_inline_policy(bucket: Resource) -> bool:
    return is_present(lookup(bucket.props, "policy"))


def _has_inline_logging(bucket: Resource) -> bool:
    """``Bucket.logging.targetBucket`` (one object) or ``BucketV2.loggings[].targetBucket``; known later counts."""
    single = lookup(bucket.props, "logging")
    blocks = [single] if single not in (MISSING, None) else as_list(lookup(bucket.props, "loggings"))
    return any(is_unknown(b) or isinstance(b, Mapping) and is_present(b.get("targetBucket")) for b in blocks)


@stack_policy(
    name="vpc-has-flow-logs",
    control="LOG-FLOWLOGS",
    description="Every VPC has a flow log.",
    severity="medium",
    types=(VPC_TYPE, FLOW_LOG_TYPE),
    refs=("SH:EC2.6", "CIS:3.7", "CKV:CKV2_AWS_11"),
    remediation="Declare aws.ec2.FlowLog(vpc_id=..., traffic_type='ALL') (IsolatedNetwork does).",
)
def vpc_has_flow_logs(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    linked = _children(resources, Index(resources, (VPC_TYPE,)), (FLOW_LOG_TYPE,), "vpcId", (VPC_TYPE,))
    for vpc in (r for r in resources if r.type == VPC_TYPE):
        if vpc.urn not in linked:
            report.violation(f"{vpc.name}: the VPC has no flow log")


@stack_policy(
    name="vpc-has-closed-default-security-group",
    control="NET-DEFAULT-SG",
    description="Every VPC manages its default security group and leaves it without rules.",
    severity="high",
    types=(VPC_TYPE, DEFAULT_SG_TYPE),
    refs=("SH:EC2.2", "CIS:5.4", "CKV:CKV2_AWS_12"),
    remediation="Declare aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id, ingress=[], egress=[]).",
)
def vpc_has_closed_default_sg(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    linked = _children(resources, Index(resources, (VPC_TYPE,)), (DEFAULT_SG_TYPE,), "vpcId", (VPC_TYPE,))
    for vpc in (r for r in resources if r.type == VPC_TYPE):
        groups = linked.get(vpc.urn)
        if not groups:
            report.violation(f"{vpc.name}: the VPC's default security group is not managed (it keeps AWS's default rules)")
            continue
        for group in groups:
            if any(is_unknown(group.props.get(k)) for k in ("ingress", "egress")):
                report.unknown(f"{vpc.name}: the default security group rules are not known until apply")
            elif as_list(group.props.get("ingress")) or as_list(group.props.get("egress")):
                report.violation(f"{vpc.name}: the default security group has rules")


SAGEMAKER_ROLE_PATHS: dict[str, tuple[str, ...]] = {
    "aws:sagemaker/domain:Domain": ("defaultUserSettings.executionRole", "defaultSpaceSettings.executionRole"),
    "aws:sagemaker/userProfile:UserProfile": ("userSettings.executionRole",),
    "aws:sagemaker/pipeline:Pipeline": ("roleArn",),
    "aws:sagemaker/model:Model": ("executionRoleArn",),
    "aws:sagemaker/trainingJob:TrainingJob": ("roleArn",),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("executionRoleArn",),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("roleArn",),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("monitoringScheduleConfig.monitoringJobDefinition.roleArn",),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": ("trainingJobDefinition.roleArn",),
    "aws:sagemaker/notebookInstance:NotebookInstance": ("roleArn",),
    "aws:sagemaker/featureGroup:FeatureGroup": ("roleArn",),
}
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:.*/)?(?P<name>[^/]+)$")


def _role_for(res: Resource, path: str, index: Index, roles: Sequence[Resource]) -> tuple[Resource | None, Any]:
    value = lookup(res.props, path)
    if not is_present(value):
        return None, None
    top = path.split(".", 1)[0]
    by_dep = [index.by_urn[u] for u in res.property_dependencies.get(top, ()) if u in index.by_urn and index.by_urn[u].type == ROLE_TYPE]
    if len(by_dep) == 1:
        return by_dep[0], value
    if isinstance(value, str) and not is_unknown(value):
        match = ROLE_ARN.match(value)
        name = match.group("name") if match else value
        for role in roles:
            if name in (role.props.get("name"), role.name, f"{role.name}-id"):
                return role, value
    if len(by_dep) > 1:
        return by_dep[0], value  # several roles feed this input; the first one stands for them
    return None, value


def _guardrail_kind(policy_res: Resource) -> str | None:
    value = policy_res.tags.get(GUARDRAIL_TAG)
    return value if value in DENY_GUARDRAILS else None


@stack_policy(
    name="sagemaker-roles-carry-deny-guardrails",
    control="IAM-DENY-ATTACHED",
    description="Every role a SageMaker resource uses has both explicit deny guardrail policies attached "
    "(managed policies tagged mlops:guardrail=sagemaker-deny-network and =sagemaker-deny-encryption). "
    "Offline, a serving stack's roles are looked up in its platform stack.",
    severity="critical",
    types=(*SAGEMAKER_ROLE_PATHS, ROLE_TYPE, MANAGED_POLICY_TYPE, *ATTACHMENT_TYPES),
    remediation="Attach the SageMakerGuardrails component's two deny policies to the role.",
    uses_context=True,
)
def sagemaker_roles_carry_deny_guardrails(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    index = Index(resources, (ROLE_TYPE, MANAGED_POLICY_TYPE))
    roles = [r for r in resources if r.type == ROLE_TYPE]
    guardrails_of: dict[str, set[str]] = {}
    for attachment in (r for r in resources if r.type in ATTACHMENT_TYPES):
        kinds = {k for p in index.targets(attachment, "policyArn", (MANAGED_POLICY_TYPE,)) if (k := _guardrail_kind(p))}
        for role in index.targets(attachment, "role", (ROLE_TYPE,)) + index.targets(attachment, "roles", (ROLE_TYPE,)):
            guardrails_of.setdefault(role.urn, set()).update(kinds)
    for role in roles:
        kinds = {k for p in index.targets(role, "managedPolicyArns", (MANAGED_POLICY_TYPE,)) if (k := _guardrail_kind(p))}
        guardrails_of.setdefault(role.urn, set()).update(kinds)

    checked: set[str] = set()
    for res in resources:
        if res.context:
            continue  # another stack's SageMaker resources are judged in that stack
        for path in SAGEMAKER_ROLE_PATHS.get(res.type, ()):
            role, value = _role_for(res, path, index, roles)
            if value is None:
                continue
            if role is None:
                report.unknown(f"{res.name}: role {value if not is_unknown(value) else '(known at apply)'} at {path} is not declared in this stack")
                continue
            if role.urn in checked:
                continue
            checked.add(role.urn)
            missing = [g for g in DENY_GUARDRAILS if g not in guardrails_of.get(role.urn, set())]
            if missing:
                report.violation(f"{role.name}: role used by {res.name} lacks the deny guardrail(s) {', '.join(missing)}")


@resource_policy(
    name="sagemaker-deny-guardrail-content",
    control="IAM-DENY-ATTACHED",
    description="A policy tagged as a SageMaker deny guardrail really denies: network = Deny without VPC subnets, "
    "encryption = Deny without a volume KMS key.",
    severity="high",
    types=(MANAGED_POLICY_TYPE,),
    remediation="Keep the guardrail documents from guardrails.md §4 (components build them).",
)
def sagemaker_deny_guardrail_content(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    kind = res.tags.get(GUARDRAIL_TAG)
    if kind is None:
        return
    if kind not in DENY_GUARDRAILS:
        report.violation(f"{res.name}: unknown guardrail tag value {kind!r}")
        return
    doc = parse_policy_document(lookup(res.props, "policy"))
    if doc is None or doc.malformed:
        report.violation(f"{res.name}: the guardrail policy has no readable document")
        return
    if doc.unknown and not doc.statements:
        report.unknown(f"{res.name}: the guardrail document is not known until apply")
        return
    key = "sagemaker:vpcsubnets" if kind == "sagemaker-deny-network" else "sagemaker:volumekmskey"
    if not any(s.effect == "deny" and key in s.condition_keys() for s in doc.statements):
        report.violation(f"{res.name}: the {kind} guardrail has no Deny statement on {key}")


@stack_policy(
    name="ecr-repository-has-lifecycle-policy",
    control="IMG-ECR-LIFECYCLE",
    description="Every ECR repository has a lifecycle policy.",
    severity="low",
    types=("aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy"),
    refs=("SH:ECR.3",),
    remediation="Declare aws.ecr.LifecyclePolicy for the repository.",
)
def ecr_repository_has_lifecycle(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    repos = ("aws:ecr/repository:Repository",)
    linked = _children(resources, Index(resources, repos), ("aws:ecr/lifecyclePolicy:LifecyclePolicy",), "repository", repos)
    for repo in (r for r in resources if r.type in repos):
        if repo.urn not in linked:
            report.violation(f"{repo.name}: the repository has no lifecycle policy")


@stack_policy(
    name="iam-exemption-requires-boundary",
    control="IAM-NO-ADMIN",
    description=f"A managed policy tagged {EXEMPTION_TAG}={EXEMPTION_VALUE} is attached only to roles that carry "
    "the same tag and a permissions boundary.",
    severity="critical",
    types=(MANAGED_POLICY_TYPE, ROLE_TYPE, *ATTACHMENT_TYPES),
    remediation="Attach exempt policies only to the platform deploy role, which needs a permissions boundary.",
)
def iam_exemption_requires_boundary(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    index = Index(resources, (ROLE_TYPE, MANAGED_POLICY_TYPE))
    for attachment in (r for r in resources if r.type in ATTACHMENT_TYPES):
        exempt_policies = [
            p for p in index.targets(attachment, "policyArn", (MANAGED_POLICY_TYPE,)) if p.tags.get(EXEMPTION_TAG) == EXEMPTION_VALUE
        ]
        if not exempt_policies:
            continue
        for key in ("users", "groups"):
            if as_list(lookup(attachment.props, key)):
                report.violation(f"{attachment.name}: exempt policy {exempt_policies[0].name} is attached to {key}")
        roles = index.targets(attachment, "role", (ROLE_TYPE,)) + index.targets(attachment, "roles", (ROLE_TYPE,))
        if not roles:
            report.unknown(f"{attachment.name}: the role of exempt policy {exempt_policies[0].name} is not declared in this stack")
        for role in roles:
            if not is_exempt_platform_role(role):
                report.violation(
                    f"{attachment.name}: exempt policy {exempt_policies[0].name} is attached to {role.name}, which lacks "
                    f"the {EXEMPTION_TAG} tag or a permissions boundary"
                )


SSO_CUSTOMER_POLICY_TYPE = "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment"


@stack_policy(
    name="ssoadmin-customer-policy-declared",
    control="IAM-NO-ADMIN",
    description="A permission set's customer managed policy attachment names a policy declared in this stack, so the "
    "IAM document rules judge it, and never the deploy-role exempt policy; one that cannot be found is reported as "
    "not evaluated, never passed.",
    severity="high",
    types=(SSO_CUSTOMER_POLICY_TYPE, MANAGED_POLICY_TYPE),
    remediation="Declare the aws.iam.Policy (same name and path) in the stack that attaches it, or use a PermissionSetInlinePolicy.",
)
def ssoadmin_customer_policy_declared(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    declared = {
        (str(r.props.get("path") or "/"), r.props.get("name")): r for r in resources if r.type == MANAGED_POLICY_TYPE
    }
    for attachment in (r for r in resources if r.type == SSO_CUSTOMER_POLICY_TYPE):
        ref = lookup(attachment.props, "customerManagedPolicyReference")
        name = ref.get("name") if isinstance(ref, Mapping) else ref
        if is_unknown(ref) or is_unknown(name):
            report.unknown(f"{attachment.name}: the customer managed policy it attaches is not known until apply")
        elif not isinstance(name, str) or not name:
            report.violation(f"{attachment.name}: customerManagedPolicyReference names no policy")
        elif (key := (str(ref.get("path") or "/"), name)) in declared:
            if declared[key].tags.get(EXEMPTION_TAG) == EXEMPTION_VALUE:
                report.violation(f"{attachment.name}: attaches {name!r}, the policy exempt for the platform deploy role, to a permission set")
        else:
            report.unknown(
                f"{attachment.name}: customer managed policy {name!r} is not declared in this stack; its document lives "
                "in the member accounts and is not evaluated here"
            )


TRAIL_TYPE = "aws:cloudtrail/trail:Trail"
CONFIG_DELIVERY_TYPE = "aws:cfg/deliveryChannel:DeliveryChannel"
OBJECT_LOCK_TYPES = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
EVIDENCE_DELETE_ACTIONS = ("s3:deleteobject", "s3:deleteobjectversion")


def _lock_days(lock: Mapping[str, Any]) -> Any:
    """Default retention in days of an Object Lock rule in COMPLIANCE mode; UNKNOWN if not known; None otherwise."""
    retention = lookup(lock, "rule.defaultRetention")
    if is_unknown(retention) or contains_unknown(retention):
        return UNKNOWN
    if not isinstance(retention, Mapping) or retention.get("mode") != "COMPLIANCE":
        return None
    days, years = retention.get("days"), retention.get("years")
    return days if isinstance(days, int) else years * 365 if isinstance(years, int) else None


def _denies_evidence_deletion(policy: Any) -> bool | None:
    """True if a Deny for everyone covers s3:DeleteObject and s3:DeleteObjectVersion; None if not known yet."""
    doc = parse_policy_document(policy)
    if doc is None or doc.malformed:
        return False
    if doc.unknown and not doc.statements:
        return None
    denied = {
        action
        for stmt in doc.statements
        if stmt.effect == "deny" and not stmt.condition and "*" in stmt.principals.get("*", stmt.principals.get("AWS", ()))
        for action in EVIDENCE_DELETE_ACTIONS
        if any(action_matches(a, action) for a in stmt.actions)
    }
    return denied == set(EVIDENCE_DELETE_ACTIONS)


LOCKED_CONFIG_BUCKET = (
    "an AWS Config delivery channel delivers to a bucket with Object Lock, which AWS refuses (AWS Config \"does not "
    "support the delivery channel to an Amazon S3 bucket where object lock is enabled\"); give AWS Config its own "
    "bucket without Object Lock"
)
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)


@stack_policy(
    name="audit-evidence-locked",
    control="LOG-AUDIT-IMMUTABLE",
    description="Every bucket a CloudTrail trail delivers to has Object Lock in COMPLIANCE mode for at least the "
    "configured days and a bucket policy denying everyone object (version) deletion; every bucket an AWS Config "
    "delivery channel delivers to has versioning and that deny and no Object Lock (AWS Config refuses a delivery "
    "channel to an Object-Locked bucket). A destination outside the stack is not evaluated, never passed, unless it "
    "is the configured log-archive bucket (auditArchiveBucket, configArchiveBucket), judged the same way in the "
    "stack that declares it.",
    severity="critical",
    types=(*BUCKET_TYPES, TRAIL_TYPE, CONFIG_DELIVERY_TYPE, *OBJECT_LOCK_TYPES, *VERSIONING_TYPES, POLICY_TYPE),
    remediation="Trails: SecureBucket(object_lock_days=auditLogs.retentionDays) plus "
    "components.secure_bucket.deny_delete_statement; delivery channels: a SecureBucket of their own without "
    "object_lock_days plus the deny (AccountBaseline and AuditArchive do both); deliver to another account only "
    "to the log archive (organization.yaml accounts.logArchive).",
    config={
        "minimumAuditRetentionDays": {"type": "integer", "minimum": 1, "default": 365},
        "auditArchiveBucket": {"type": "string", "default": ""},
        "configArchiveBucket": {"type": "string", "default": ""},
    },
)
def audit_evidence_locked(resources: Sequence[Resource], config: Mapping[str, Any], report: Report) -> None:
    minimum = int(config.get("minimumAuditRetentionDays", 365))
    archives = {
        TRAIL_TYPE: str(config.get("auditArchiveBucket") or ""),
        CONFIG_DELIVERY_TYPE: str(config.get("configArchiveBucket") or ""),
    }
    index = Index(resources, BUCKET_TYPES)
    locks = _children(resources, index, OBJECT_LOCK_TYPES, "bucket", BUCKET_TYPES)
    versionings = _children(resources, index, VERSIONING_TYPES, "bucket", BUCKET_TYPES)
    policies = _children(resources, index, (POLICY_TYPE,), "bucket", BUCKET_TYPES)
    evidence: dict[tuple[str, str], Resource] = {}  # (bucket urn, source type) -> bucket
    for source in (r for r in resources if r.type in archives):
        targets = index.targets(source, "s3BucketName", BUCKET_TYPES)
        archive = archives[source.type]
        if not targets and archive and lookup(source.props, "s3BucketName") == archive:
            continue  # the log archive: judged in the log-archive stack, which declares it
        locked_archive = archives[TRAIL_TYPE]
        if not targets and source.type == CONFIG_DELIVERY_TYPE and locked_archive and lookup(source.props, "s3BucketName") == locked_archive:
            report.violation(f"{source.name}: {LOCKED_CONFIG_BUCKET} (the log archive's trail bucket {locked_archive})")
            continue
        if not targets:
            report.unknown(f"{source.name}: its delivery bucket is not declared in this stack; its lock is not evaluated here")
        evidence.update(((bucket.urn, source.type), bucket) for bucket in targets)
    for kind, archive in archives.items():  # the log-archive stack: its archive buckets are evidence without a source
        if archive:
            evidence.update(((b.urn, kind), b) for b in _buckets(resources) if lookup(b.props, "bucket") == archive)
    for (urn, kind), bucket in evidence.items():
        if kind == TRAIL_TYPE:
            _judge_trail_bucket(report, bucket, locks.get(urn, []), minimum)
        else:
            _judge_config_bucket(report, bucket, locks.get(urn, []), versionings.get(urn, []))
        _judge_deny_delete(report, bucket, policies.get(urn, []))


def _lock_days_of(bucket: Resource, locks: list[Resource]) -> list[Any]:
    inline = lookup(bucket.props, "objectLockConfiguration")
    return [_lock_days(lock.props) for lock in locks] + ([_lock_days(inline)] if isinstance(inline, Mapping) else [])


def _judge_trail_bucket(report: Report, bucket: Resource, locks: list[Resource], minimum: int) -> None:
    days = _lock_days_of(bucket, locks)
    if any(d is UNKNOWN for d in days):
        report.unknown(f"{bucket.name}: the Object Lock retention of the audit bucket is not known until apply")
    elif not any(isinstance(d, int) and d >= minimum for d in days):
        report.violation(f"{bucket.name}: the audit bucket has no Object Lock in COMPLIANCE mode for at least {minimum} days")


def _judge_config_bucket(report: Report, bucket: Resource, locks: list[Resource], versionings: list[Resource]) -> None:
    inline_lock = lookup(bucket.props, "objectLockConfiguration")
    if locks or lookup(bucket.props, "objectLockEnabled") is True or isinstance(inline_lock, Mapping):
        report.violation(f"{bucket.name}: {LOCKED_CONFIG_BUCKET}")
    statuses = [lookup(v.props, "versioningConfiguration.status") for v in versionings]
    inline = lookup(bucket.props, "versioning.enabled")
    if "Enabled" in statuses or inline is True:
        return
    if any(is_unknown(s) for s in statuses) or is_unknown(inline):
        report.unknown(f"{bucket.name}: the versioning of the AWS Config bucket is not known until apply")
    else:
        report.violation(f"{bucket.name}: the AWS Config delivery bucket has no versioning enabled")


def _judge_deny_delete(report: Report, bucket: Resource, policies: list[Resource]) -> None:
    documents = [p.props.get("policy") for p in policies] + ([bucket.props["policy"]] if is_present(bucket.props.get("policy")) else [])
    verdicts = [_denies_evidence_deletion(d) for d in documents]
    if True in verdicts:
        return
    if None in verdicts:
        report.unknown(f"{bucket.name}: the audit bucket's policy is not known until apply")
    else:
        report.violation(f"{bucket.name}: no bucket policy denies everyone s3:DeleteObject and s3:DeleteObjectVersion on the audit bucket")
