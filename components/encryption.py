"""Customer-managed KMS keys with rotation, a 30-day deletion window, an alias and a key policy
that names who may use the key: per account, role ARNs *or ARN patterns*, optionally only through
a service (``kms:ViaService``), and service principals held by confused-deputy conditions.

How narrow a key is depends on its users. The account baseline's platform and logs keys admit every
``role/<platform>-*`` role of the account (the platform's own roles; the platform key also the
account's service-linked roles through EC2, as the default EBS key); the data key, the project keys
and the Model Building product's key name their roles or a narrower pattern. Nothing outside the
listed patterns uses a key, but a pattern is not a list: a new ``<platform>-...`` role can use the
platform and logs keys without a key-policy change.

KMS checks that every principal named in a key policy exists when the policy is written. Roles of
other stacks (or of this stack, created later) are therefore admitted as the account root *with an
``aws:PrincipalArn`` condition*, so no stack needs another to exist first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement

#: Key administration without the data-plane actions (those are granted per use below).
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
KEY_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]
KEY_DECRYPT_ACTIONS = ["kms:Decrypt", "kms:DescribeKey"]
#: The maximum KMS allows: the longest time to notice and cancel a mistaken deletion.
DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class KeyUser:
    """Principals of one account allowed to use the key, named by ARN pattern."""

    account_id: str
    principal_arns: list[str]
    """Role ARNs or ARN patterns (``arn:aws:iam::111111111111:role/mlops-*``)."""
    decrypt_only: bool = False
    """Only ``kms:Decrypt``/``DescribeKey`` (e.g. stage accounts reading model artifacts)."""
    via_services: list[str] = field(default_factory=list)
    """If set, only through these services (``kms:ViaService``, e.g. ``s3.eu-central-1.amazonaws.com``)."""


@dataclass(frozen=True)
class ServiceUse:
    """An AWS service principal allowed to use the key on behalf of this account."""

    service: str
    """Service principal, e.g. ``logs.eu-central-1.amazonaws.com``."""
    actions: list[str]
    conditions: dict[str, Any]
    """Confused-deputy conditions (``aws:SourceAccount``, encryption context); never empty."""


@dataclass
class PlatformKeyArgs:
    """Inputs of a :class:`PlatformKey`."""

    account_id: str
    """The account the key lives in (its root administers the key through IAM)."""
    alias: str
    """Alias, ``alias/<platform>-<purpose>``."""
    description: str
    users: list[KeyUser] = field(default_factory=list)
    services: list[ServiceUse] = field(default_factory=list)
    grant_for_aws_resources: bool = True
    """Let key users create grants for AWS resources (SageMaker, EBS and Lambda need them)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on the key (e.g. ``mlops:project`` for attribute-based access)."""


def key_policy(args: PlatformKeyArgs) -> dict[str, Any]:
    """The key policy document (pure; tested without Pulumi)."""
    root = f"arn:aws:iam::{args.account_id}:root"
    statements = [statement("KeyAdministration", KEY_ADMIN_ACTIONS, "*", principal={"AWS": root})]
    for index, user in enumerate(args.users):
        conditions: dict[str, Any] = {"ArnLike": {"aws:PrincipalArn": sorted(user.principal_arns)}}
        if user.via_services:
            conditions["StringEquals"] = {"kms:ViaService": sorted(user.via_services)}
        actions = KEY_DECRYPT_ACTIONS if user.decrypt_only else KEY_USE_ACTIONS
        sid = f"KeyUse{index}Account{user.account_id}"
        statements.append(
            statement(sid, actions, "*", principal={"AWS": f"arn:aws:iam::{user.account_id}:root"}, condition=conditions)
        )
        if args.grant_for_aws_resources and not user.decrypt_only:
            statements.append(
                statement(
                    f"{sid}Grants",
                    ["kms:CreateGrant"],
                    "*",
                    principal={"AWS": f"arn:aws:iam::{user.account_id}:root"},
                    condition={**conditions, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                )
            )
    for index, service in enumerate(args.services):
        if not service.conditions:
            raise ValueError(f"service {service.service} needs confused-deputy conditions")
        statements.append(
            statement(
                f"Service{index}", service.actions, "*", principal={"Service": service.service}, condition=service.conditions
            )
        )
    return policy_document(statements)


class PlatformKey(pulumi.ComponentResource):
    """A symmetric customer-managed key, rotated yearly, with an alias; protected from deletion."""

    key: aws.kms.Key
    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: str

    def __init__(self, name: str, args: PlatformKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:encryption:PlatformKey", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=args.description,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=DELETION_WINDOW_DAYS,
                is_enabled=True,
                bypass_policy_lockout_safety_check=False,
                policy=json.dumps(key_policy(args)),
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.kms.Alias(
            f"{name}-alias",
            aws.kms.AliasArgs(name=args.alias, target_key_id=self.key.key_id),
            opts=pulumi.ResourceOptions(parent=self.key),
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = args.alias
        self.register_outputs({"arn": self.arn, "alias": args.alias})
