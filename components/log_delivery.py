"""The role an AWS service uses to write into one CloudWatch log group (VPC Flow Logs, CloudTrail).

The trust carries ``aws:SourceAccount``/``aws:SourceArn`` only where the service documents that it
sends them on this AssumeRole: VPC Flow Logs does (its IAM-role documentation shows both in the
trust); CloudTrail does not ("Confused deputy prevention is not applicable to the role policy for
CloudWatch Logs monitoring. The role policy doesn't support the use of aws:SourceArn and
aws:SourceAccount", CloudTrail User Guide, role policy document for CloudWatch Logs), so a condition
there would stop delivery without a word.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy


def plain_service_trust_policy(service: str) -> dict:
    """Trust for a service that sends no ``aws:Source*`` keys on AssumeRole (documented per service).

    The confused-deputy guard is then that only principals of this account with ``iam:PassRole``
    on the role can hand it to the service.
    """
    return policy_document([statement("ServiceAssumeRole", ["sts:AssumeRole"], None, principal={"Service": service})])


def log_delivery_role(
    prefix: str,
    *,
    service: str,
    account_id: str,
    source_arn: str | None,
    description: str,
    sid: str,
    actions: list[str],
    log_group: aws.cloudwatch.LogGroup,
    include_group_arn: bool,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """``<prefix>-role`` and its inline policy ``<prefix>-delivery`` on the log group's streams (and the
    group itself if asked).

    With ``source_arn`` only ``service`` of this account, from that resource, may assume the role;
    ``source_arn=None`` is for a service that sends no source keys (the trust names the service only).
    """
    trust = service_trust_policy(service, account_id, source_arn) if source_arn else plain_service_trust_policy(service)
    return role_with_policy(
        f"{prefix}-role",
        description=description,
        trust_policy=trust,
        policy_resource_name=f"{prefix}-delivery",
        policy=log_group.arn.apply(
            lambda arn: policy_document([statement(sid, actions, [arn, f"{arn}:*"] if include_group_arn else f"{arn}:*")])
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    ).role
