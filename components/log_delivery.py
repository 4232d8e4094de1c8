"""The role an AWS service uses to write into one CloudWatch log group (VPC Flow Logs, CloudTrail)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy


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
    return role_with_policy(
        f"{prefix}-role",
        description=description,
        trust_policy=service_trust_policy(service, account_id, source_arn),
        policy_resource_name=f"{prefix}-delivery",
        policy=log_group.arn.apply(
            lambda arn: policy_document([statement(sid, actions, [arn, f"{arn}:*"] if include_group_arn else f"{arn}:*")])
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    ).role
