"""RES: what every other part of the release account uses.

The release key (ECR, the model bus, the trigger, pipelines, topics), the release workloads'
security group, the release bucket (pipeline artifacts, the deployer bundle, the image sources, the
product template and the toolchain staged by bootstrap) and the approval topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from components.iam_documents import policy_document, statement
from components.network import endpoint_egress
from components.secure_bucket import SecureBucket
from mlops_core import naming


@dataclass
class ReleaseFoundation:
    """Key, network, bucket and topic of the release path."""

    key: PlatformKey
    subnet_ids: list[pulumi.Output[str]]
    security_group_ids: list[pulumi.Output[str]]
    """The release workloads' group: HTTPS to the VPC endpoints and S3 only."""
    bucket: SecureBucket
    approval_topic: aws.sns.Topic


def build(context: AccountContext) -> ReleaseFoundation:
    """Key and network first, then the bucket and the approval topic (both encrypted with the key)."""
    key = _release_key(context)
    workloads_sg = _workloads_security_group(context)
    bucket = _release_bucket(context, key)
    topic = _approval_topic(context, key)
    return ReleaseFoundation(
        key=key,
        subnet_ids=context.baseline.network.subnet_ids,
        security_group_ids=[workloads_sg.id],
        bucket=bucket,
        approval_topic=topic,
    )


def _release_key(context: AccountContext) -> PlatformKey:
    """The key of the release path: images, the model bus, the trigger, pipelines and the approval topic."""
    org, account = context.settings.org, context.settings.account_id
    p = org.platform_name
    key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    return PlatformKey(
        "res-release",
        PlatformKeyArgs(
            account_id=account,
            alias=naming.kms_alias(org, "release"),
            description=f"{p} res: images, model events, release pipelines and approvals",
            users=[KeyUser(account, [f"arn:aws:iam::{account}:role/{p}-*", f"arn:aws:iam::{account}:role/{p}-product/*"])],
            # EventBridge encrypts the model bus (whose events come from EXP: held to the bus by the
            # encryption context) and writes the trigger's dead letters (held to this account).
            services=[
                ServiceUse("events.amazonaws.com", key_actions,
                           {"StringEquals": {"kms:EncryptionContext:aws:events:event-bus:arn": naming.event_bus_arn(org)}}),
                ServiceUse("events.amazonaws.com", key_actions, {"StringEquals": {"aws:SourceAccount": account}}),
            ],
        ),
        opts=context.opts,
    )


def _workloads_security_group(context: AccountContext) -> aws.ec2.SecurityGroup:
    """The trigger Lambda's and the release builds' security group: HTTPS to the endpoints and S3 only."""
    settings = context.settings
    p, region = settings.org.platform_name, settings.org.region
    # Looked up rather than ``network.s3_prefix_list_id``: the same value, but already known at a first
    # preview (the gateway endpoint's output is not), as this group's plan has always shown it.
    s3_prefix_list = aws.ec2.get_prefix_list_output(
        name=f"com.amazonaws.{region}.s3", opts=pulumi.InvokeOptions(provider=context.provider)
    )
    to_endpoints = endpoint_egress(
        settings.config.vpc_cidr, s3_prefix_list.id,
        endpoints_description="interface endpoints", s3_description="S3 gateway endpoint",
    )
    return aws.ec2.SecurityGroup(
        "res-release-workloads",
        aws.ec2.SecurityGroupArgs(
            name=f"{p}-release-workloads",
            description="Trigger Lambda and release builds: HTTPS to the VPC endpoints and S3 only",
            vpc_id=context.baseline.network.vpc_id,
            ingress=[],
            egress=list(to_endpoints),
            tags={"Name": f"{p}-release-workloads"},
        ),
        opts=context.opts,
    )


def _release_bucket(context: AccountContext, key: PlatformKey) -> SecureBucket:
    """Versioned, KMS-encrypted; object events go to EventBridge (a new image source starts the image pipeline)."""
    bucket = context.baseline.secure_bucket(
        "res-release",
        naming.bucket_name(context.settings.org, context.settings.account_id, "release"),
        kms_key_arn=key.arn,
        noncurrent_version_days=30,
        opts=context.opts,
    )
    aws.s3.BucketNotification(
        "res-release-events",
        aws.s3.BucketNotificationArgs(bucket=bucket.name, eventbridge=True),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=bucket),
    )
    return bucket


def _approval_topic(context: AccountContext, key: PlatformKey) -> aws.sns.Topic:
    """Where the promotion pipelines ask for approvals; only the release pipeline role publishes."""
    org, account = context.settings.org, context.settings.account_id
    p = org.platform_name
    topic = aws.sns.Topic(
        "res-release-approvals",
        aws.sns.TopicArgs(name=f"{p}-release-approvals", kms_master_key_id=key.arn,
                          display_name=f"{p} release approvals"),
        opts=context.opts,
    )
    aws.sns.TopicPolicy(
        "res-release-approvals-policy",
        aws.sns.TopicPolicyArgs(
            arn=topic.arn,
            policy=topic.arn.apply(lambda arn: _topic_policy(arn, account, naming.role_arn(
                account, naming.release_pipeline_role_name(org)))),
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, parent=topic),
    )
    return topic


def _topic_policy(topic_arn: str, account: str, publisher_arn: str) -> str:
    """Only the release pipeline role publishes approval requests; TLS only."""
    return json.dumps(
        policy_document(
            [
                statement("ReleasePipelinePublishes", ["sns:Publish"], topic_arn,
                          principal={"AWS": naming.account_root(account)},
                          condition={"ArnEquals": {"aws:PrincipalArn": publisher_arn}}),
                statement("DenyInsecureTransport", ["sns:Publish"], topic_arn, effect="Deny", principal={"AWS": "*"},
                          condition={"Bool": {"aws:SecureTransport": "false"}}),
            ]
        )
    )
