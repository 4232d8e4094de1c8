"""How people sign in: one role per persona and account, or IAM Identity Center permission sets.

Two modes (``identity.mode`` in organization.yaml):

* ``iam-federation`` (default): :class:`PersonaRole` is an IAM role in the account, assumable only
  through the organisation's SAML provider (``SAML:aud`` pinned) and only with the per-user session
  tag (``identity.userNameTag``, e.g. ``userName``) set to one of the configured people of that
  persona. Policies can then use ``${aws:PrincipalTag/userName}`` (e.g. the Studio presigned URL for
  the caller's own user profile only).
* ``identity-center``: :class:`PersonaPermissionSet` in the optional ``identity`` stack, which must run
  in the management or delegated-administrator account (permission sets can be created nowhere
  else), plus :class:`UserNameAttribute` so Identity Center passes the same per-user tag. A permission
  set only lets its SSO role (``AWSReservedSSO_<permission set>_<suffix>``) chain into the platform's
  ``PersonaRole`` of that persona in each account, passing the user's own name as the session tag:
  the rights stay defined once, in the account stacks, whichever way people sign in.

Reused by every account stack (EXP personas; DevOps, auditor and approver roles in RES and the stage
accounts): build the policy documents, then one ``PersonaRole`` per persona that has people.

The SAML provider itself is not created here: its metadata document belongs to the identity team and
is registered once per account (``arn:aws:iam::<account>:saml-provider/<samlProviderName>``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from components.iam_role import policy_json
from mlops_core.config import OrganizationConfig
from mlops_core.roles import PERSONAS

#: The audience AWS sign-in puts into SAML assertions for the console and STS.
SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
#: The longest console session a persona gets (hours); IAM allows 1-12.
DEFAULT_SESSION_HOURS = 8


# ---- pure helpers (tested without Pulumi) ----------------------------------------------------


def saml_provider_arn(org: OrganizationConfig, account_id: str) -> str:
    """The organisation's SAML provider in an account (registered by the identity team)."""
    return f"arn:aws:iam::{account_id}:saml-provider/{org.identity.saml_provider_name}"


def persona_user_names(org: OrganizationConfig, persona: str) -> list[str]:
    """Configured people of a persona (data scientists and operators), sorted."""
    people = [*org.data_scientists, *org.operators]
    return sorted(p.name for p in people if p.persona == persona)


def personas_in_use(org: OrganizationConfig) -> list[str]:
    """Personas that at least one configured person has, in a stable order."""
    used = {p.persona for p in [*org.data_scientists, *org.operators]}
    return [p for p in PERSONAS if p in used]


def federated_trust_policy(provider_arn: str, user_name_tag: str, user_names: list[str]) -> dict[str, Any]:
    """SAML trust: pinned audience, and the per-user session tag must name one of ``user_names``.

    ``sts:TagSession`` is needed for the IdP's session tags; the tag condition makes a session
    without the tag (or with another person's name) fail to assume the role at all.
    """
    if not user_names:
        raise ValueError("a persona role needs at least one user name (nobody could assume it)")
    return policy_document(
        [
            statement(
                "FederatedSignIn",
                ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                None,
                principal={"Federated": provider_arn},
                condition={
                    "StringEquals": {
                        "SAML:aud": SAML_AUDIENCE,
                        f"aws:RequestTag/{user_name_tag}": sorted(user_names),
                    },
                    # The user-name tag and nothing else: no session may carry mlops:project or any
                    # other tag that ABAC conditions trust (aws:PrincipalTag).
                    "ForAllValues:StringEquals": {"aws:TagKeys": [user_name_tag]},
                },
            )
        ]
    )


def permission_set_name(org: OrganizationConfig, persona: str) -> str:
    """Identity Center permission set of a persona (at most 32 characters)."""
    return f"{org.platform_name}-{persona.replace('_', '-')}"[:32]


def identity_center_trust_policy(
    account_id: str, permission_set_names: list[str], user_name_tag: str, user_names: list[str]
) -> dict[str, Any]:
    """Identity Center sign-in: the persona's SSO role in this account chains into the persona role.

    The principal is the account root narrowed by ``aws:PrincipalArn`` to the roles Identity Center
    creates for the permission sets; the caller must pass its own user name as the session tag
    (``aws:RequestTag`` equal to its ``aws:PrincipalTag``, set by Identity Center's attributes for
    access control), and that name must be one of the configured people of the persona.
    """
    if not user_names:
        raise ValueError("a persona role needs at least one user name (nobody could assume it)")
    sso_roles = [
        f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{name}_*"
        for name in sorted(permission_set_names)
    ]
    return policy_document(
        [
            statement(
                "IdentityCenterSignIn",
                ["sts:AssumeRole", "sts:TagSession"],
                None,
                principal={"AWS": f"arn:aws:iam::{account_id}:root"},
                condition={
                    "ArnLike": {"aws:PrincipalArn": sso_roles},
                    "StringEquals": {f"aws:RequestTag/{user_name_tag}": f"${{aws:PrincipalTag/{user_name_tag}}}"},
                    "StringLike": {f"aws:RequestTag/{user_name_tag}": sorted(user_names)},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [user_name_tag]},
                },
            )
        ]
    )


def sign_in_trust_policy(
    org: OrganizationConfig, account_id: str, personas: list[str], user_names: list[str]
) -> dict[str, Any]:
    """The trust of a sign-in role for ``personas``, by the organisation's ``identity.mode``."""
    if org.identity.mode == "identity-center":
        names = [permission_set_name(org, persona) for persona in personas]
        return identity_center_trust_policy(account_id, names, org.identity.user_name_tag, user_names)
    return federated_trust_policy(saml_provider_arn(org, account_id), org.identity.user_name_tag, user_names)


def identity_center_role_pattern(permission_set_name: str) -> str:
    """ARN pattern of the roles Identity Center creates for a permission set in every account.

    For principal associations that accept patterns (e.g. Service Catalog ``IAM_PATTERN``).
    """
    return f"arn:aws:iam:::role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{permission_set_name}_*"


def merge_documents(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """One document from several (a permission set takes a single inline policy); Sids kept unique."""
    statements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, document in enumerate(documents):
        for item in document["Statement"]:
            item = dict(item)
            if item.get("Sid") in seen:
                item["Sid"] = f"{item['Sid']}{index}"
            seen.add(item.get("Sid", ""))
            statements.append(item)
    return policy_document(statements)


# ---- federated IAM role ------------------------------------------------------------------------


@dataclass
class PersonaRoleArgs:
    """Inputs of a :class:`PersonaRole`."""

    role_name: str
    """IAM role name, normally ``naming.persona_role_name(org, persona)``."""
    persona: str
    """Persona this role is for (``lead``, ``devops``, ``approver``...); tagged ``mlops:persona``."""
    trust_policy: dict[str, Any]
    """Who may sign in: :func:`sign_in_trust_policy` (SAML federation or Identity Center)."""
    policies: dict[str, pulumi.Input[Any]] = field(default_factory=dict)
    """Inline policies by short name (documents as dicts or JSON; may be Outputs)."""
    managed_policy_arns: list[pulumi.Input[str]] = field(default_factory=list)
    """Managed policies to attach (e.g. the SageMaker deny guardrails); never AWS full-access policies."""
    session_hours: int = DEFAULT_SESSION_HOURS
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class PersonaRole(pulumi.ComponentResource):
    """A sign-in role for one persona in one account (SAML federation or Identity Center)."""

    role: aws.iam.Role
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: PersonaRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:people:PersonaRole", name, None, opts)
        if not 1 <= args.session_hours <= 12:
            raise ValueError(f"{name}: session_hours must be 1-12 (IAM limit)")
        if args.tags.get("mlops:persona", args.persona) != args.persona:
            raise ValueError(f"{name}: tag mlops:persona is the role's persona ({args.persona}), not {args.tags['mlops:persona']!r}")
        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=args.role_name,
                description=args.description or f"Sign-in role of the {args.persona} persona",
                assume_role_policy=json.dumps(args.trust_policy),
                max_session_duration=args.session_hours * 3600,
                tags={**args.tags, "mlops:persona": args.persona},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for policy_name, document in args.policies.items():
            aws.iam.RolePolicy(
                f"{name}-{policy_name}",
                aws.iam.RolePolicyArgs(role=self.role.id, name=policy_name, policy=policy_json(document)),
                opts=pulumi.ResourceOptions(parent=self.role),
            )
        for index, arn in enumerate(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-managed-{index}",
                aws.iam.RolePolicyAttachmentArgs(role=self.role.name, policy_arn=arn),
                opts=pulumi.ResourceOptions(parent=self.role),
            )
        self.name = self.role.name
        self.arn = self.role.arn
        self.register_outputs({"name": self.name, "arn": self.arn})


# ---- IAM Identity Center (identity stack) ------------------------------------------------------


@dataclass
class PersonaPermissionSetArgs:
    """Inputs of a :class:`PersonaPermissionSet` (only in the management/delegated-admin account)."""

    instance_arn: str
    """``identity.identityCenterInstanceArn``."""
    permission_set_name: str
    """Permission set name (1-32 characters), e.g. ``mlops-lead``."""
    persona: str
    documents: list[pulumi.Input[Any]] = field(default_factory=list)
    """Policy documents, merged into the permission set's one inline policy."""
    managed_policy_arns: list[str] = field(default_factory=list)
    session_hours: int = DEFAULT_SESSION_HOURS
    description: str = ""


class PersonaPermissionSet(pulumi.ComponentResource):
    """An Identity Center permission set for one persona (assign it to groups per account)."""

    permission_set: aws.ssoadmin.PermissionSet
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: PersonaPermissionSetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:people:PersonaPermissionSet", name, None, opts)
        if len(args.permission_set_name) > 32:
            raise ValueError(f"{name}: permission set names have at most 32 characters")
        if not 1 <= args.session_hours <= 12:
            raise ValueError(f"{name}: session_hours must be 1-12 (Identity Center's session duration, PT1H-PT12H)")
        self.permission_set = aws.ssoadmin.PermissionSet(
            f"{name}-permission-set",
            aws.ssoadmin.PermissionSetArgs(
                instance_arn=args.instance_arn,
                name=args.permission_set_name,
                description=args.description or f"{args.persona} persona",
                session_duration=f"PT{args.session_hours}H",
                tags={"mlops:persona": args.persona},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self.permission_set)
        if args.documents:
            merged = pulumi.Output.all(*args.documents).apply(
                lambda docs: json.dumps(merge_documents([json.loads(d) if isinstance(d, str) else d for d in docs]))
            )
            aws.ssoadmin.PermissionSetInlinePolicy(
                f"{name}-inline",
                aws.ssoadmin.PermissionSetInlinePolicyArgs(
                    instance_arn=args.instance_arn,
                    permission_set_arn=self.permission_set.arn,
                    inline_policy=merged,
                ),
                opts=child,
            )
        for index, arn in enumerate(args.managed_policy_arns):
            aws.ssoadmin.ManagedPolicyAttachment(
                f"{name}-managed-{index}",
                aws.ssoadmin.ManagedPolicyAttachmentArgs(
                    instance_arn=args.instance_arn,
                    permission_set_arn=self.permission_set.arn,
                    managed_policy_arn=arn,
                ),
                opts=child,
            )
        self.arn = self.permission_set.arn
        self.register_outputs({"arn": self.arn})


@dataclass
class UserNameAttributeArgs:
    instance_arn: str
    user_name_tag: str
    """The session tag name the policies read (``identity.userNameTag``)."""
    source: str = "${path:userName}"
    """Identity Center attribute path the tag's value comes from."""


class UserNameAttribute(pulumi.ComponentResource):
    """Identity Center attributes for access control: passes the per-user session tag."""

    def __init__(self, name: str, args: UserNameAttributeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:people:UserNameAttribute", name, None, opts)
        aws.ssoadmin.InstanceAccessControlAttributes(
            f"{name}-attributes",
            aws.ssoadmin.InstanceAccessControlAttributesArgs(
                instance_arn=args.instance_arn,
                attributes=[
                    aws.ssoadmin.InstanceAccessControlAttributesAttributeArgs(
                        key=args.user_name_tag,
                        values=[
                            aws.ssoadmin.InstanceAccessControlAttributesAttributeValueArgs(sources=[args.source])
                        ],
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
