"""An IAM role with its trust policy and one inline policy: the pair most components declare.

``role_with_policy("x-role", trust_policy=..., policy=...)`` declares ``aws.iam.Role("x-role")`` with
the trust policy and ``aws.iam.RolePolicy`` (child of the role) with the policy; documents are plain
dicts (or Outputs of dicts) built with :mod:`components.iam_documents`, serialised here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass
class RoleWithPolicy:
    """The role and its inline policy (for ``depends_on`` where the policy must exist first)."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy


def policy_json(document: pulumi.Input[Any]) -> pulumi.Input[str]:
    """A policy document (dict, JSON string, or an Output of either) as the JSON string IAM takes."""
    if isinstance(document, dict):
        return json.dumps(document)
    if isinstance(document, str):
        return document
    return pulumi.Output.from_input(document).apply(lambda d: d if isinstance(d, str) else json.dumps(d))


def role_with_policy(
    name: str,
    *,
    trust_policy: dict[str, Any],
    policy: pulumi.Input[Any],
    policy_resource_name: str | None = None,
    policy_name: str | None = None,
    role_name: pulumi.Input[str] | None = None,
    description: str | None = None,
    path: str | None = None,
    max_session_duration: int | None = None,
    permissions_boundary: pulumi.Input[str] | None = None,
    tags: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> RoleWithPolicy:
    """Role ``name`` (IAM name ``role_name``) trusted by ``trust_policy``, with the inline ``policy``.

    ``policy_resource_name`` names the RolePolicy resource (default ``<name>-policy``), ``policy_name``
    the inline policy in IAM (default: generated); the policy is a child of the role, so it shares the
    role's provider.
    """
    role = aws.iam.Role(
        name,
        aws.iam.RoleArgs(
            name=role_name,
            path=path,
            description=description,
            assume_role_policy=json.dumps(trust_policy),
            max_session_duration=max_session_duration,
            permissions_boundary=permissions_boundary,
            tags=tags,
        ),
        opts=opts,
    )
    inline = aws.iam.RolePolicy(
        policy_resource_name or f"{name}-policy",
        aws.iam.RolePolicyArgs(role=role.id, name=policy_name, policy=policy_json(policy)),
        opts=pulumi.ResourceOptions(parent=role),
    )
    return RoleWithPolicy(role=role, policy=inline)
