"""One model project (use case) in EXP, in two parts that live in two stacks.

:class:`ProjectIdentity`, in the EXP account stack (the people's roles and guardrails name it, Lake
Formation grants to it): the project role and its jobs' security group.
:class:`ModelProject`, in the project's own stack ``exp.<project>``: key, artifacts bucket, registry
group, event rule. Every resource carries ``mlops:project=<project>``:

* a project KMS key (rotated, 30-day window) for the bucket and the registry's artifacts; its policy
  admits the project's roles in EXP and, decrypt-only through S3, the serving roles of RES and the
  stage accounts;
* the artifacts bucket (:class:`SecureBucket`): the stage accounts' serving roles may read, principals
  of EXP not tagged with the project may not (ABAC deny, see ``exp_policies``);
* the model package group and its resource policy (RES reads, DEV/INT/PROD create models);
* the project role (pipeline and jobs; trusted by SageMaker only) and a security group for jobs
  (HTTPS to the VPC's endpoints, all TCP within the group for distributed training);
* an EventBridge rule on the default bus that forwards only newly created versions of the group
  (``PendingManualApproval`` + ``Completed``, the RES trigger's own pattern) to the RES bus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs
from components.exp_policies import (
    ProjectResources,
    model_package_group_policy,
    project_bucket_isolation_statement,
    stage_read_statements,
)
from components.iam_documents import service_trust_policy
from components.network import endpoint_egress
from components.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_functions.model_trigger import event_pattern
from mlops_core.naming import PROJECT_TAG_KEY


def new_version_pattern(exp_account_id: str, model_package_group: str) -> dict[str, Any]:
    """The RES trigger's creation pattern, narrowed to one model package group."""
    pattern = event_pattern(exp_account_id)
    pattern["detail"] = {**pattern["detail"], "ModelPackageGroupName": [model_package_group]}
    return pattern


@dataclass
class ProjectIdentityArgs:
    """Inputs of :class:`ProjectIdentity`."""

    project: str
    account_id: str
    role_name: str
    """The project role (``naming.project_role_name``)."""
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    s3_prefix_list_id: pulumi.Input[str]
    """The S3 gateway endpoint's prefix list (job egress to S3)."""


class ProjectIdentity(pulumi.ComponentResource):
    """The project role (pipeline and jobs; trusted by SageMaker only) and the jobs' security group."""

    role: aws.iam.Role
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: ProjectIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:project:ProjectIdentity", name, None, opts)
        tags = {PROJECT_TAG_KEY: args.project}
        # Before the projects' stacks, the role and group were children of the ModelProject component;
        # splitting a stack moves them back here at the stack's root (docs/exp.md), which the alias keeps.
        here = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
        self.role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                name=args.role_name,
                description=f"Model project {args.project}: SageMaker pipeline and jobs",
                assume_role_policy=json.dumps(
                    # aws:SourceAccount only: not every SageMaker feature sends aws:SourceArn.
                    service_trust_policy("sagemaker.amazonaws.com", args.account_id)
                ),
                tags=tags,
            ),
            opts=here,
        )
        self.security_group = self._jobs_security_group(name, args, tags, here)
        self.register_outputs({"roleArn": self.role.arn, "securityGroupId": self.security_group.id})

    def _jobs_security_group(
        self, name: str, args: ProjectIdentityArgs, tags: dict[str, str], opts: pulumi.ResourceOptions
    ) -> aws.ec2.SecurityGroup:
        """The project's SageMaker jobs: HTTPS to the VPC endpoints and S3, all TCP within the group."""
        to_endpoints = endpoint_egress(args.vpc_cidr, args.s3_prefix_list_id)
        egress = [
            to_endpoints.interface_endpoints,
            aws.ec2.SecurityGroupEgressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True),
            to_endpoints.s3_gateway,
        ]
        return aws.ec2.SecurityGroup(
            f"{name}-jobs-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"SageMaker jobs of project {args.project}",
                ingress=[aws.ec2.SecurityGroupIngressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True)],
                egress=egress,
                tags={**tags, "Name": f"{name}-jobs"},
            ),
            opts=opts,
        )


@dataclass
class ModelProjectArgs:
    """Inputs of :class:`ModelProject`."""

    project: str
    description: str
    platform_name: str
    """Prefix of the rule's name (``<platform>-<group>-new-version``)."""
    account_id: str
    region: str
    model_package_group: str
    """Group name (``naming.model_package_group_name``)."""
    bucket_name: str
    access_log_bucket: pulumi.Input[str]
    role_arn: str
    """The project role (:class:`ProjectIdentity`, declared by the EXP account stack before this one)."""
    key_alias: str
    res_account_id: str
    stage_account_ids: list[str]
    reader_role_patterns: dict[str, list[str]]
    """Account -> role ARN patterns that may read artifacts (serving roles of RES/DEV/INT/PROD)."""
    exempt_principal_arns: list[str]
    """EXP principals that need the bucket without a person's project tag (deploy role, build role)."""
    event_bus_arn: str
    """The RES bus new versions are forwarded to."""
    events_role_arn: pulumi.Input[str]
    """Role EventBridge uses for the cross-account PutEvents."""
    member_role_arns: list[str] = field(default_factory=list)
    """Studio execution roles of the project's members (admitted by the key policy)."""


class ModelProject(pulumi.ComponentResource):
    """The registry, storage and event wiring of one model project."""

    key: PlatformKey
    bucket: SecureBucket
    group: aws.sagemaker.ModelPackageGroup
    rule: aws.cloudwatch.EventRule
    resources: pulumi.Output[ProjectResources]

    def __init__(self, name: str, args: ModelProjectArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:project:ModelProject", name, None, opts)
        tags = {PROJECT_TAG_KEY: args.project}
        here = pulumi.ResourceOptions(parent=self)
        role_arn = args.role_arn

        key_users = [KeyUser(args.account_id, sorted({role_arn, *args.member_role_arns, *args.exempt_principal_arns}))]
        key_users += [
            KeyUser(account, patterns, decrypt_only=True, via_services=[f"s3.{args.region}.amazonaws.com"])
            for account, patterns in sorted(args.reader_role_patterns.items())
        ]
        self.key = PlatformKey(
            f"{name}-key",
            PlatformKeyArgs(
                account_id=args.account_id,
                alias=args.key_alias,
                description=f"Model project {args.project}: artifacts and registry",
                users=key_users,
                tags=tags,
            ),
            opts=here,
        )

        bucket_arn = f"arn:aws:s3:::{args.bucket_name}"
        self.bucket = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                bucket_name=args.bucket_name,
                kms_key_arn=self.key.arn,
                access_log_bucket=args.access_log_bucket,
                policy_statements=[
                    project_bucket_isolation_statement(args.project, bucket_arn, args.account_id, args.exempt_principal_arns),
                    *stage_read_statements(bucket_arn, args.reader_role_patterns),
                ],
                tags=tags,
            ),
            opts=here,
        )

        self.group = aws.sagemaker.ModelPackageGroup(
            f"{name}-group",
            aws.sagemaker.ModelPackageGroupArgs(
                model_package_group_name=args.model_package_group,
                model_package_group_description=args.description or f"Model project {args.project}",
                tags=tags,
            ),
            opts=here,
        )
        aws.sagemaker.ModelPackageGroupPolicy(
            f"{name}-group-policy",
            aws.sagemaker.ModelPackageGroupPolicyArgs(
                model_package_group_name=self.group.model_package_group_name,
                resource_policy=self.group.arn.apply(
                    lambda arn: json.dumps(
                        model_package_group_policy(
                            arn, args.model_package_group, args.account_id, args.region, args.res_account_id, args.stage_account_ids
                        )
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self.group),
        )

        self.rule = self._new_version_rule(name, args, tags)

        self.resources = self.key.arn.apply(
            lambda key_arn: ProjectResources(
                name=args.project,
                bucket_arn=bucket_arn,
                key_arn=key_arn,
                model_package_group=args.model_package_group,
                role_arn=role_arn,
            )
        )
        self.register_outputs(
            {
                "bucket": self.bucket.name,
                "keyArn": self.key.arn,
                "modelPackageGroupArn": self.group.arn,
            }
        )

    def _new_version_rule(self, name: str, args: ModelProjectArgs, tags: dict[str, str]) -> aws.cloudwatch.EventRule:
        """Newly created versions of the project's group, forwarded to the RES bus."""
        rule = aws.cloudwatch.EventRule(
            f"{name}-new-version",
            aws.cloudwatch.EventRuleArgs(
                name=f"{args.platform_name}-{args.model_package_group}-new-version"[:64],
                description=f"New versions of {args.model_package_group} -> RES event bus",
                event_pattern=json.dumps(new_version_pattern(args.account_id, args.model_package_group)),
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-to-res",
            aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=args.event_bus_arn, role_arn=args.events_role_arn),
            opts=pulumi.ResourceOptions(parent=rule),
        )
        return rule
