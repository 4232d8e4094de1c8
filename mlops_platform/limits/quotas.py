"""Planned values against documented AWS quotas no service model carries.

Every number is AWS's default, with the page that documents it. Sizes are measured as AWS measures them
(IAM does not count white space; KMS and S3 count bytes). Each check yields :class:`Finding` s and counts in a
:class:`Tally` what it measured and what it skipped as unknown until apply.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

IAM_QUOTAS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
# IAM: "IAM doesn't count white space when calculating the size of a policy against these quotas."
#: Managed policy document, characters (not adjustable).
MANAGED_POLICY_CHARS = 6_144
#: Aggregate of all inline policies of one role, characters (not adjustable).
ROLE_INLINE_POLICY_CHARS = 10_240
#: Role trust policy (AssumeRolePolicySizeQuota), characters; default, adjustable to 8,192.
TRUST_POLICY_CHARS = 2_048
#: Managed policies attached to one role (Service Quotas iam L-0DA4ABF3); default, adjustable to 20.
MANAGED_POLICIES_PER_ROLE = 10

TAGGING = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions"
#: User-created tags per resource, and key / value lengths (Unicode characters).
TAGS_PER_RESOURCE, TAG_KEY_CHARS, TAG_VALUE_CHARS = 50, 128, 256

VPC_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups"
#: Inbound, and separately outbound, rules per security group (vpc L-0EA8095F), each source a rule.
RULES_PER_SECURITY_GROUP = 60
PRIVATELINK_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html"
#: Characters per VPC endpoint policy, white space included (vpc L-3248932A, not adjustable).
ENDPOINT_POLICY_CHARS = 20_480

KMS_QUOTAS = "https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html#key-policy-limit"
#: Key policy document size, bytes (32 KB; not adjustable).
KEY_POLICY_BYTES = 32_768

S3_POLICY = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html"
#: Bucket policy size, bytes ("Bucket policies are limited to 20 KB in size").
BUCKET_POLICY_BYTES = 20_480
S3_NAMING = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
#: General purpose bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens,
#: beginning and ending with a letter or digit.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
#: Total size of a function's environment variables, bytes (4 KB; not adjustable).
LAMBDA_ENVIRONMENT_BYTES = 4_096

CODEPIPELINE_QUOTAS = "https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html"
#: Stages per pipeline (2 to 50) and actions per stage (1 to 50).
STAGES_PER_PIPELINE, ACTIONS_PER_STAGE = 50, 50

SFN_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
#: State machine definition size, bytes (1 MB; not adjustable).
STATE_MACHINE_DEFINITION_BYTES = 1_048_576


@dataclass(frozen=True)
class Finding:
    """One value past a documented quota."""

    resource: str
    type: str
    field: str
    size: str
    limit: str
    source: str


class Unknown(Exception):
    """A value the check needs is not known until apply."""


def no_whitespace(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def _text(value: Any, unknown: Callable[[Any], bool]) -> str | None:
    if value is None:
        return None
    if unknown(value):
        raise Unknown
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class QuotaContext:
    """What the quota checks read: the stack's records and how to recognise an unknown value."""

    records: list  # ResourceRecord
    unknown: Callable[[Any], bool]
    default_tags: dict[str, dict[str, str]]
    """Provider URN -> the tags it adds to every resource it manages (``defaultTags``)."""

    def of_type(self, *types: str) -> Iterator:
        return (r for r in self.records if r.type in types)

    def target(self, record, prop: str) -> str | None:
        """The URN a reference input points at (its property dependency), else its value."""
        urns = record.property_dependencies.get(prop) or []
        if len(urns) == 1:
            return urns[0]
        value = record.inputs.get(prop)
        return None if value is None or self.unknown(value) else str(value)


@dataclass
class Tally:
    """How many values the checks measured, and how many they skipped as unknown until apply."""

    checked: int = 0
    unknown: int = 0

    def skip(self) -> None:
        self.unknown += 1

    def count(self, number: int = 1) -> None:
        self.checked += number


Check = Callable[[QuotaContext, Tally], Iterator[Finding]]


def _size(record, prop: str, ctx: QuotaContext, tally, measure, limit: int, unit: str, source: str):
    try:
        text = _text(record.inputs.get(prop), ctx.unknown)
    except Unknown:
        tally.skip()
        return None
    if text is None:
        return None
    tally.count()
    size = measure(text)
    if size > limit:
        return Finding(record.name, record.type, prop, f"{size:,} {unit}", f"{limit:,}", source)
    return None


def _utf8(text: str) -> int:
    return len(text.encode())


def document_sizes(ctx: QuotaContext, tally) -> Iterator[Finding]:
    """Single documents: managed and trust policies, key, bucket and endpoint policies, definitions."""
    table = (
        ("aws:iam/policy:Policy", "policy", no_whitespace, MANAGED_POLICY_CHARS, "characters without white space",
         f"IAM managed policy size, {IAM_QUOTAS}"),
        ("aws:iam/role:Role", "assumeRolePolicy", no_whitespace, TRUST_POLICY_CHARS, "characters without white space",
         f"IAM role trust policy length, {IAM_QUOTAS}"),
        ("aws:kms/key:Key", "policy", _utf8, KEY_POLICY_BYTES, "bytes", f"KMS key policy size, {KMS_QUOTAS}"),
        ("aws:kms/keyPolicy:KeyPolicy", "policy", _utf8, KEY_POLICY_BYTES, "bytes", f"KMS key policy size, {KMS_QUOTAS}"),
        ("aws:s3/bucketPolicy:BucketPolicy", "policy", _utf8, BUCKET_POLICY_BYTES, "bytes",
         f"S3 bucket policy size, {S3_POLICY}"),
        ("aws:ec2/vpcEndpoint:VpcEndpoint", "policy", len, ENDPOINT_POLICY_CHARS, "characters",
         f"VPC endpoint policy length, {PRIVATELINK_QUOTAS}"),
        ("aws:sfn/stateMachine:StateMachine", "definition", _utf8, STATE_MACHINE_DEFINITION_BYTES, "bytes",
         f"Step Functions definition size, {SFN_QUOTAS}"),
    )
    for type_token, prop, measure, limit, unit, source in table:
        for record in ctx.of_type(type_token):
            finding = _size(record, prop, ctx, tally, measure, limit, unit, source)
            if finding:
                yield finding


def role_policies(ctx: QuotaContext, tally) -> Iterator[Finding]:
    """Per role: the aggregate of its inline policies, and its number of managed policies."""
    roles = {r.urn: r for r in ctx.of_type("aws:iam/role:Role")}
    by_name = {str(r.inputs["name"]): r.urn for r in roles.values() if isinstance(r.inputs.get("name"), str)}
    inline: dict[str, int] = defaultdict(int)
    attached: dict[str, int] = defaultdict(int)
    for role in roles.values():
        for policy in role.inputs.get("inlinePolicies") or []:
            try:
                inline[role.urn] += no_whitespace(_text(policy.get("policy"), ctx.unknown) or "")
            except Unknown:
                tally.skip()
        managed = role.inputs.get("managedPolicyArns")
        if isinstance(managed, list):
            attached[role.urn] += len(managed)
    for record in ctx.of_type("aws:iam/rolePolicy:RolePolicy"):
        role = ctx.target(record, "role")
        try:
            text = _text(record.inputs.get("policy"), ctx.unknown)
        except Unknown:
            tally.skip()
            continue
        if role is None:
            tally.skip()
            continue
        tally.count()
        inline[by_name.get(role, role)] += no_whitespace(text or "")
    for record in ctx.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        role = ctx.target(record, "role")
        if role is None:
            tally.skip()
            continue
        tally.count()
        attached[by_name.get(role, role)] += 1
    for key, size in sorted(inline.items()):
        if size > ROLE_INLINE_POLICY_CHARS:
            name, type_token = _role_label(key, roles)
            yield Finding(name, type_token, "inline policies (aggregate)", f"{size:,} characters without white space",
                          f"{ROLE_INLINE_POLICY_CHARS:,}", f"IAM role policy size, {IAM_QUOTAS}")
    for key, number in sorted(attached.items()):
        if number > MANAGED_POLICIES_PER_ROLE:
            name, type_token = _role_label(key, roles)
            yield Finding(name, type_token, "managed policies attached", f"{number} policies",
                          f"{MANAGED_POLICIES_PER_ROLE}", f"IAM managed policies per role (iam L-0DA4ABF3), {IAM_QUOTAS}")


def _role_label(key: str, roles: dict) -> tuple[str, str]:
    role = roles.get(key)
    return (role.name, role.type) if role else (key, "aws:iam/role:Role")


def tags(ctx: QuotaContext, tally) -> Iterator[Finding]:
    """Tags per resource (with the provider's default tags) and key / value lengths."""
    for record in ctx.records:
        own = record.inputs.get("tags")
        if own is None:
            continue
        if ctx.unknown(own) or not isinstance(own, dict):
            tally.skip()
            continue
        provider = (record.provider or "").rsplit("::", 1)[0]
        merged = {**ctx.default_tags.get(provider, {}), **own}
        tally.count(1 + len(merged))
        if len(merged) > TAGS_PER_RESOURCE:
            yield Finding(record.name, record.type, "tags (with the provider's default tags)", f"{len(merged)} tags",
                          f"{TAGS_PER_RESOURCE}", f"tags per resource, {TAGGING}")
        for key, value in merged.items():
            if len(key) > TAG_KEY_CHARS:
                yield Finding(record.name, record.type, f"tag key {key[:40]!r}...", f"{len(key)} characters",
                              f"{TAG_KEY_CHARS}", f"tag key length, {TAGGING}")
            if isinstance(value, str) and not ctx.unknown(value) and len(value) > TAG_VALUE_CHARS:
                yield Finding(record.name, record.type, f"tag {key!r}", f"{len(value)} characters",
                              f"{TAG_VALUE_CHARS}", f"tag value length, {TAGGING}")


def _sources(rule: dict) -> int:
    """AWS counts a rule once per source (CIDR, IPv6 CIDR, prefix list, security group, self)."""
    number = sum(len(rule.get(k) or []) for k in ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "securityGroups"))
    return number + (1 if rule.get("self") else 0) or 1


def security_group_rules(ctx: QuotaContext, tally) -> Iterator[Finding]:
    """Inbound and outbound rules per security group: inline and standalone rule resources."""
    groups = {r.urn: r for r in ctx.of_type("aws:ec2/securityGroup:SecurityGroup")}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for group in groups.values():
        for direction in ("ingress", "egress"):
            rules = group.inputs.get(direction) or []
            tally.count(len(rules))
            counts[(group.urn, direction)] += sum(_sources(rule) for rule in rules if isinstance(rule, dict))
    standalone = (("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "ingress"),
                  ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "egress"))
    for type_token, direction in standalone:
        for record in ctx.of_type(type_token):
            group = ctx.target(record, "securityGroupId")
            if group is None:
                tally.skip()
                continue
            tally.count()
            counts[(group, direction)] += 1
    for record in ctx.of_type("aws:ec2/securityGroupRule:SecurityGroupRule"):
        group = ctx.target(record, "securityGroupId")
        if group is None:
            tally.skip()
            continue
        counts[(group, str(record.inputs.get("type")))] += _sources(record.inputs)
    for (group, direction), number in sorted(counts.items()):
        if number > RULES_PER_SECURITY_GROUP:
            name, type_token = (groups[group].name, groups[group].type) if group in groups else (group, "security group")
            yield Finding(name, type_token, f"{direction} rules", f"{number} rules", f"{RULES_PER_SECURITY_GROUP}",
                          f"rules per security group (vpc L-0EA8095F), {VPC_QUOTAS}")


def lambda_environment(ctx: QuotaContext, tally) -> Iterator[Finding]:
    for record in ctx.of_type("aws:lambda/function:Function"):
        variables = (record.inputs.get("environment") or {}).get("variables")
        if variables is None:
            continue
        if ctx.unknown(variables) or any(ctx.unknown(v) for v in variables.values()):
            tally.skip()
            continue
        tally.count()
        size = sum(_utf8(str(k)) + _utf8(str(v)) for k, v in variables.items())
        if size > LAMBDA_ENVIRONMENT_BYTES:
            yield Finding(record.name, record.type, "environment.variables", f"{size:,} bytes",
                          f"{LAMBDA_ENVIRONMENT_BYTES:,}", f"Lambda environment variables, {LAMBDA_QUOTAS}")


def pipeline_structure(ctx: QuotaContext, tally) -> Iterator[Finding]:
    for record in ctx.of_type("aws:codepipeline/pipeline:Pipeline"):
        stages = record.inputs.get("stages")
        if stages is None:
            continue
        if ctx.unknown(stages):
            tally.skip()
            continue
        tally.count(1 + len(stages))
        if len(stages) > STAGES_PER_PIPELINE:
            yield Finding(record.name, record.type, "stages", f"{len(stages)} stages", f"{STAGES_PER_PIPELINE}",
                          f"CodePipeline stages per pipeline, {CODEPIPELINE_QUOTAS}")
        for stage in stages:
            actions = stage.get("actions") or []
            if len(actions) > ACTIONS_PER_STAGE:
                yield Finding(record.name, record.type, f"stage {stage.get('name')!r} actions", f"{len(actions)} actions",
                              f"{ACTIONS_PER_STAGE}", f"CodePipeline actions per stage, {CODEPIPELINE_QUOTAS}")


def bucket_names(ctx: QuotaContext, tally) -> Iterator[Finding]:
    for record in ctx.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        name = record.inputs.get("bucket")
        if name is None:
            continue
        if ctx.unknown(name):
            tally.skip()
            continue
        tally.count()
        if not BUCKET_NAME.fullmatch(name) or ".." in name:
            yield Finding(record.name, record.type, "bucket", f"{name!r} ({len(name)} characters)",
                          "3-63 lowercase letters, digits, dots, hyphens", f"S3 bucket naming rules, {S3_NAMING}")


#: Every documented-quota check, in report order.
CHECKS: tuple[Check, ...] = (document_sizes, role_policies, tags, security_group_rules, lambda_environment,
                             pipeline_structure, bucket_names)
