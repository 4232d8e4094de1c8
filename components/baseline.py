"""The security baseline every platform account gets.

Network, keys, the access-log bucket, EBS encryption by default, IAM Access Analyzer and the
account-wide S3 public access block always; a CloudTrail trail, AWS Config, Security Hub (FSBP),
GuardDuty and a budget alert each switchable, for organisations that run them centrally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.audit_archive import CLOUDTRAIL, CONFIG, AuditDestination
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs, ServiceUse
from components.iam_documents import policy_document, service_trust_policy, statement
from components.iam_role import role_with_policy
from components.log_delivery import log_delivery_role
from components.network import IsolatedNetwork, IsolatedNetworkArgs
from components.secure_bucket import (
    AccessLogBucket,
    AccessLogBucketArgs,
    SecureBucket,
    SecureBucketArgs,
    deny_delete_statement,
)
from mlops_core.config import BaselineSettings

SERVICE_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]


@dataclass
class AccountBaselineArgs:
    """Inputs of an :class:`AccountBaseline`."""

    role: str
    """Account role (``exp``, ``res``, ``dev``...): the VPC's interface endpoints, names and descriptions."""
    account_id: str
    region: str
    platform_name: str
    """Prefix of the account's names (keys' descriptions, topic, trail, recorder, budget, analyzer)."""
    platform_account_ids: list[str]
    """Every account of the platform: their principals may use the VPC endpoints."""
    vpc_cidr: str
    az_ids: list[str]
    """AZ IDs of the private subnets."""
    platform_key_alias: str
    logs_key_alias: str
    access_log_bucket_name: str
    audit_bucket_name: str
    """CloudTrail deliveries, Object-Locked (only created when the trail is switched on)."""
    config_bucket_name: str
    """AWS Config deliveries (only created when AWS Config is switched on): versioned and deny-delete but
    without Object Lock, which AWS Config refuses as a delivery channel's bucket."""
    switches: BaselineSettings
    """Trail, AWS Config, Security Hub, GuardDuty and budget on or off; log retention."""
    audit_retention_days: int = 365
    """Object Lock (COMPLIANCE) retention of the audit bucket's objects (``auditLogs.retentionDays``)."""
    audit_archive: AuditDestination | None = None
    """With ``accounts.logArchive``: the archive bucket and key the trail delivers to instead; the
    account then has no audit bucket of its own."""
    config_archive: AuditDestination | None = None
    """With ``accounts.logArchive``: the archive's AWS Config bucket (no Object Lock) and key the delivery
    channel uses instead; the account then has no Config bucket of its own."""
    extra_key_users: list[KeyUser] = field(default_factory=list)
    """Further users of the platform key (e.g. stage accounts reading EXP's model artifacts)."""
    extra_endpoints: tuple[str, ...] = ()
    """Interface endpoints beyond the role's list."""


class AccountBaseline(pulumi.ComponentResource):
    """Network, keys, logging and detective controls of one platform account."""

    network: IsolatedNetwork
    platform_key: PlatformKey
    logs_key: PlatformKey
    access_logs: AccessLogBucket
    alerts_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:baseline:AccountBaseline", name, None, opts)
        account, region, prefix = args.account_id, args.region, args.platform_name
        switches = args.switches
        self._args = args
        here = pulumi.ResourceOptions(parent=self)

        platform_roles = KeyUser(account, [f"arn:aws:iam::{account}:role/{prefix}-*"])
        self.platform_key = PlatformKey(
            f"{name}-platform",
            PlatformKeyArgs(
                account_id=account,
                alias=args.platform_key_alias,
                description=f"{prefix} {args.role}: data, models, volumes and buckets",
                users=[platform_roles, ebs_service_linked_roles(account, region), *args.extra_key_users],
            ),
            opts=here,
        )
        self.logs_key = PlatformKey(
            f"{name}-logs",
            PlatformKeyArgs(
                account_id=account,
                alias=args.logs_key_alias,
                description=f"{prefix} {args.role}: logs, trail and alert topics",
                users=[platform_roles],
                services=_log_services(
                    account, region, _trail_arn(account, region, prefix), audit_services=args.audit_archive is None
                ),
            ),
            opts=here,
        )

        self.network = IsolatedNetwork(
            f"{name}-network",
            IsolatedNetworkArgs(
                role=args.role,
                cidr=args.vpc_cidr,
                az_ids=list(args.az_ids),
                account_id=account,
                region=region,
                platform_account_ids=sorted(args.platform_account_ids),
                platform_bucket_prefix=f"{prefix}-",
                logs_key_arn=self.logs_key.arn,
                log_retention_days=switches.log_retention_days,
                extra_endpoints=args.extra_endpoints,
            ),
            opts=here,
        )

        self.access_logs = AccessLogBucket(
            f"{name}-access-logs",
            AccessLogBucketArgs(bucket_name=args.access_log_bucket_name, account_id=account),
            opts=here,
        )

        aws.s3.AccountPublicAccessBlock(
            f"{name}-account-public-access-block",
            aws.s3.AccountPublicAccessBlockArgs(
                account_id=account,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            opts=here,
        )
        aws.ebs.EncryptionByDefault(f"{name}-ebs-encryption", aws.ebs.EncryptionByDefaultArgs(enabled=True), opts=here)
        aws.ebs.DefaultKmsKey(f"{name}-ebs-key", aws.ebs.DefaultKmsKeyArgs(key_arn=self.platform_key.arn), opts=here)
        aws.accessanalyzer.Analyzer(
            f"{name}-access-analyzer",
            aws.accessanalyzer.AnalyzerArgs(analyzer_name=f"{prefix}-{args.role}", type="ACCOUNT"),
            opts=here,
        )

        self.alerts_topic_arn = self._alerts_topic(name, switches)
        if switches.cloud_trail:
            self._cloudtrail(name, args.audit_archive or self._audit_bucket(name), switches.log_retention_days)
        if switches.aws_config:
            self._aws_config(name, args.config_archive or self._config_bucket(name))
        if switches.security_hub:
            hub = aws.securityhub.Account(
                f"{name}-security-hub",
                aws.securityhub.AccountArgs(enable_default_standards=False, auto_enable_controls=True),
                opts=here,
            )
            aws.securityhub.StandardsSubscription(
                f"{name}-fsbp",
                aws.securityhub.StandardsSubscriptionArgs(
                    standards_arn=f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"
                ),
                opts=pulumi.ResourceOptions(parent=hub, depends_on=[hub]),
            )
        if switches.guard_duty:
            aws.guardduty.Detector(
                f"{name}-guardduty",
                aws.guardduty.DetectorArgs(enable=True, finding_publishing_frequency="FIFTEEN_MINUTES"),
                opts=here,
            )

        self.register_outputs(
            {
                "vpcId": self.network.vpc_id,
                "platformKeyArn": self.platform_key.arn,
                "logsKeyArn": self.logs_key.arn,
                "accessLogBucket": self.access_logs.name,
                "alertsTopicArn": self.alerts_topic_arn,
            }
        )

    # ----------------------------------------------------------------------------------------

    def secure_bucket(self, name: str, bucket_name: str, **kwargs) -> SecureBucket:
        """A SecureBucket of this account (``naming.bucket_name``), encrypted with the platform key, logging here.

        ``kwargs`` are further :class:`SecureBucketArgs` fields; ``parent``/``opts`` stay with the caller.
        """
        opts = kwargs.pop("opts", None)
        return SecureBucket(
            name,
            SecureBucketArgs(
                bucket_name=bucket_name,
                kms_key_arn=kwargs.pop("kms_key_arn", self.platform_key.arn),
                access_log_bucket=self.access_logs.name,
                **kwargs,
            ),
            opts=opts,
        )

    def _alerts_topic(self, name: str, switches) -> pulumi.Output[str]:
        """The account's alert topic (budget, alarms), encrypted with the logs key."""
        account, region = self._args.account_id, self._args.region
        topic = aws.sns.Topic(
            f"{name}-alerts",
            aws.sns.TopicArgs(name=f"{self._args.platform_name}-alerts", kms_master_key_id=self.logs_key.arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        publishers = ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            aws.sns.TopicPolicyArgs(
                arn=topic.arn,
                policy=topic.arn.apply(
                    lambda arn: json.dumps(
                        policy_document(
                            [
                                statement(
                                    "AccountServicesPublish",
                                    ["sns:Publish"],
                                    arn,
                                    principal={"Service": sorted(publishers)},
                                    condition={"StringEquals": {"aws:SourceAccount": account}},
                                ),
                                statement(
                                    "DenyInsecureTransport",
                                    ["sns:Publish"],
                                    arn,
                                    effect="Deny",
                                    principal={"AWS": "*"},
                                    condition={"Bool": {"aws:SecureTransport": "false"}},
                                ),
                            ]
                        )
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=topic),
        )
        if switches.budget:
            budget = switches.budget
            for index, email in enumerate(budget.alert_emails):
                aws.sns.TopicSubscription(
                    f"{name}-alerts-email-{index}",
                    aws.sns.TopicSubscriptionArgs(topic=topic.arn, protocol="email", endpoint=email),
                    opts=pulumi.ResourceOptions(parent=topic),
                )
            aws.budgets.Budget(
                f"{name}-budget",
                aws.budgets.BudgetArgs(
                    name=f"{self._args.platform_name}-{region}-monthly",
                    budget_type="COST",
                    limit_amount=f"{budget.monthly_limit_usd:.2f}",
                    limit_unit="USD",
                    time_unit="MONTHLY",
                    notifications=[
                        aws.budgets.BudgetNotificationArgs(
                            comparison_operator="GREATER_THAN",
                            notification_type=kind,
                            threshold=budget.alert_threshold_percent,
                            threshold_type="PERCENTAGE",
                            subscriber_sns_topic_arns=[topic.arn],
                        )
                        for kind in ("ACTUAL", "FORECASTED")
                    ],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return topic.arn

    def _audit_bucket(self, name: str) -> AuditDestination:
        """Object-Locked bucket for CloudTrail deliveries, writable only by this account's CloudTrail."""
        return self._evidence_bucket(f"{name}-audit", self._args.audit_bucket_name, CLOUDTRAIL, self._args.audit_retention_days)

    def _config_bucket(self, name: str) -> AuditDestination:
        """Bucket for AWS Config deliveries: versioned and deny-delete, but no Object Lock.

        AWS Config "does not support the delivery channel to an Amazon S3 bucket where object lock is
        enabled" (CloudFormation reference, AWS::Config::DeliveryChannel; AWS Config Developer Guide,
        "Managing the Delivery Channel"), so this bucket cannot share the trail's locked bucket.
        """
        return self._evidence_bucket(f"{name}-config", self._args.config_bucket_name, CONFIG, None)

    def _evidence_bucket(self, name: str, bucket_id: str, service: str, object_lock_days: int | None) -> AuditDestination:
        """A bucket one audit service of this account delivers to, kept when the stack lets it go."""
        bucket = self.secure_bucket(
            name,
            bucket_id,
            kms_key_arn=self.logs_key.arn,
            policy_statements=_delivery_statements(f"arn:aws:s3:::{bucket_id}", self._args.account_id, service),
            object_lock_days=object_lock_days,
            # Evidence outlives the stack: switching to the log archive leaves the old bucket as it is.
            retain_on_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return AuditDestination(bucket.name, bucket.arn, self.logs_key.arn, bucket)

    def _cloudtrail(self, name: str, destination: AuditDestination, retention_days: int) -> None:
        account = self._args.account_id
        trail = trail_name(self._args.platform_name)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/mlops/cloudtrail/{trail}", kms_key_id=self.logs_key.arn, retention_in_days=retention_days
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # CloudTrail sends no aws:Source* keys when it assumes this role (see components/log_delivery.py).
        role = log_delivery_role(
            f"{name}-trail-logs",
            service="cloudtrail.amazonaws.com",
            account_id=account,
            source_arn=None,
            description="Lets CloudTrail write the trail to CloudWatch Logs",
            sid="DeliverTrail",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            log_group=log_group,
            include_group_arn=False,
            parent=log_group,
        )
        aws.cloudtrail.Trail(
            f"{name}-trail",
            aws.cloudtrail.TrailArgs(
                name=trail,
                s3_bucket_name=destination.bucket_name,
                kms_key_id=destination.kms_key_arn,
                enable_log_file_validation=True,
                is_multi_region_trail=True,
                include_global_service_events=True,
                enable_logging=True,
                cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
                cloud_watch_logs_role_arn=role.arn,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=destination.depends_on),
        )

    def _aws_config(self, name: str, destination: AuditDestination) -> None:
        account = self._args.account_id
        in_archive = self._args.config_archive is not None
        role = role_with_policy(
            f"{name}-config-role",
            role_name=f"{self._args.platform_name}-config-recorder",
            description="AWS Config recorder",
            trust_policy=service_trust_policy("config.amazonaws.com", account),
            policy_resource_name=f"{name}-config-role-delivery",
            policy=pulumi.Output.all(destination.bucket_arn, destination.kms_key_arn).apply(
                lambda values: policy_document(
                    [
                        statement("DeliverSnapshots", ["s3:PutObject"], f"{values[0]}/AWSLogs/{account}/*"),
                        statement("CheckBucket", ["s3:GetBucketAcl"], values[0]),
                        # To the archive, AWS Config delivers as its service principal, which the archive
                        # key's policy admits (AWS Config Developer Guide, "Permissions for the KMS Key for
                        # the AWS Config Delivery Channel"); an alias ARN in an IAM policy grants no key use.
                        *([] if in_archive else [statement("EncryptDeliveries", ["kms:Decrypt", "kms:GenerateDataKey"], values[1])]),
                    ]
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        ).role
        aws.iam.RolePolicyAttachment(
            f"{name}-config-role-managed",
            aws.iam.RolePolicyAttachmentArgs(
                role=role.name, policy_arn="arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        recorder = aws.cfg.Recorder(
            f"{name}-config-recorder",
            aws.cfg.RecorderArgs(
                name=f"{self._args.platform_name}-recorder",
                role_arn=role.arn,
                recording_group=aws.cfg.RecorderRecordingGroupArgs(
                    all_supported=True, include_global_resource_types=True
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-config-delivery",
            aws.cfg.DeliveryChannelArgs(
                name=f"{self._args.platform_name}-delivery",
                s3_bucket_name=destination.bucket_name,
                s3_kms_key_arn=destination.kms_key_arn,
            ),
            opts=pulumi.ResourceOptions(parent=recorder, depends_on=[recorder, *destination.depends_on]),
        )
        aws.cfg.RecorderStatus(
            f"{name}-config-recorder-status",
            aws.cfg.RecorderStatusArgs(name=recorder.name, is_enabled=True),
            opts=pulumi.ResourceOptions(parent=recorder, depends_on=[channel]),
        )


def _delivery_statements(bucket_arn: str, account: str, service: str) -> list[dict]:
    """One audit service of this account may check the bucket and write under ``AWSLogs/<account>/``;
    nobody may delete (CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"; AWS Config
    Developer Guide, "Permissions for the Amazon S3 Bucket for the AWS Config Delivery Channel")."""
    return [
        statement(
            "AuditServicesCheckBucket",
            ["s3:GetBucketAcl", "s3:ListBucket"],
            bucket_arn,
            principal={"Service": [service]},
            condition={"StringEquals": {"aws:SourceAccount": account}},
        ),
        statement(
            "AuditServicesDeliver",
            ["s3:PutObject"],
            f"{bucket_arn}/AWSLogs/{account}/*",
            principal={"Service": [service]},
            condition={"StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"}},
        ),
        # Evidence out of reach of the account's own administrators: no deletion.
        deny_delete_statement(bucket_arn),
    ]


def ebs_service_linked_roles(account: str, region: str) -> KeyUser:
    """The account's service-linked roles, through EC2 only: the platform key is the default EBS key.

    AWS documents this for encrypted volumes launched by a service (EC2 Auto Scaling, AWS Backup
    restores, Batch, Spot Fleet): the service-linked role needs the key's use actions and
    ``kms:CreateGrant`` for AWS resources. Without it they cannot launch encrypted volumes at all.
    Admitted by ARN pattern (a service-linked role appears only when its service is first used).
    """
    return KeyUser(account, [f"arn:aws:iam::{account}:role/aws-service-role/*"], via_services=[f"ec2.{region}.amazonaws.com"])


def trail_name(platform_name: str) -> str:
    """Every account's trail: ``<platform>-trail`` (the archive key's ``aws:SourceArn`` names it too)."""
    return f"{platform_name}-trail"


def _trail_arn(account: str, region: str, platform_name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name(platform_name)}"


def _log_services(account: str, region: str, trail_arn: str, *, audit_services: bool = True) -> list[ServiceUse]:
    """Services that encrypt with the logs key, each held to this account (confused deputy).

    ``audit_services=False`` (evidence goes to the log archive, encrypted with its key): CloudTrail
    and AWS Config get no statement here.

    CloudTrail gets two statements, as its key-policy documentation lists them: GenerateDataKey
    carries the ``aws:cloudtrail:arn`` encryption context, DescribeKey (checked at CreateTrail and
    UpdateTrail) carries none, so a context condition on DescribeKey would never match and
    CreateTrail would fail with InsufficientEncryptionPolicyException.
    """
    trail_source = {"aws:SourceAccount": account, "aws:SourceArn": trail_arn}
    logs = ServiceUse(
        f"logs.{region}.amazonaws.com",
        [*SERVICE_KEY_ACTIONS, "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"],
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:*"}},
    )
    audit = [
        ServiceUse(
            "cloudtrail.amazonaws.com",
            ["kms:GenerateDataKey"],
            {
                "StringEquals": trail_source,
                "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"},
            },
        ),
        ServiceUse("cloudtrail.amazonaws.com", ["kms:DescribeKey"], {"StringEquals": trail_source}),
        ServiceUse(
            "config.amazonaws.com",
            SERVICE_KEY_ACTIONS,
            {"StringEquals": {"aws:SourceAccount": account}},
        ),
    ]
    return [logs, *(audit if audit_services else []), *_alert_services(account)]


def _alert_services(account: str) -> list[ServiceUse]:
    """Budgets, CloudWatch alarms and EventBridge publish to the encrypted alerts topic."""
    return [
        ServiceUse(
            "budgets.amazonaws.com",
            SERVICE_KEY_ACTIONS,
            {"StringEquals": {"aws:SourceAccount": account}},
        ),
        ServiceUse(
            "cloudwatch.amazonaws.com",
            SERVICE_KEY_ACTIONS,
            {"StringEquals": {"aws:SourceAccount": account}},
        ),
        ServiceUse(
            "events.amazonaws.com",
            SERVICE_KEY_ACTIONS,
            {"StringEquals": {"aws:SourceAccount": account}},
        ),
    ]
