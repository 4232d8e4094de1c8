"""The role an AWS service uses to write into one CloudWatch log group (VPC Flow Logs, CloudTrail)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement


def log_delivery_role(
    prefix: str,
    *,
    service: str,
    account_id: str,
    source_arn: str,
    description: str,
    sid: str,
    actions: list[str],
    log_group: aws.cloudwatch.LogGroup,
    include_group_arn: bool,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """``<prefix>-role`` (only ``service`` of this account, from ``source_arn``, may assume it) and its
    inline policy ``<prefix>-delivery`` on the log group's streams (and the group itself if asked)."""
    role = aws.iam.Role(
        f"{prefix}-role",
        aws.iam.RoleArgs(
            description=description,
            assume_role_policy=json.dumps(service_trust_policy(service, account_id, source_arn)),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.iam.RolePolicy(
        f"{prefix}-delivery",
        aws.iam.RolePolicyArgs(
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    policy_document(
                        [statement(sid, actions, [arn, f"{arn}:*"] if include_group_arn else f"{arn}:*")]
                    )
                )
            ),
        ),
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role
