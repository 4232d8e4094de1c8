"""An isolated VPC: private subnets only, no path to or from the internet.

Builds: the VPC (DNS on, for private endpoint DNS); one private subnet per configured AZ ID; a
route table without any default route; the default security group emptied of all rules; flow logs
(ALL traffic) to a KMS-encrypted log group; a security group for endpoints admitting 443 from the
VPC only; interface endpoints with private DNS for the services the account role needs; an S3
gateway endpoint whose policy admits the platform's buckets and the AWS-owned buckets that ECR,
CodeArtifact and SageMaker need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import pulumi
import pulumi_aws as aws

from components.cidr import private_subnets
from components.endpoints import aws_owned_bucket_arns, interface_endpoints
from components.iam_documents import policy_document, statement
from components.log_delivery import log_delivery_role


@dataclass
class IsolatedNetworkArgs:
    """Inputs of an :class:`IsolatedNetwork`."""

    role: str
    """Account role (``exp``, ``res``, ``dev``...): selects the interface endpoints."""
    cidr: str
    """VPC CIDR (validated by the stack config)."""
    az_ids: list[str]
    """AZ IDs for the private subnets (2 or 3)."""
    account_id: str
    region: str
    platform_account_ids: list[str]
    """Accounts whose principals may use the endpoints."""
    platform_bucket_prefix: str
    """Platform bucket names start with this (``<platformName>-``)."""
    logs_key_arn: pulumi.Input[str]
    """KMS key for the flow-log group."""
    log_retention_days: int = 365
    extra_endpoints: tuple[str, ...] = ()
    """Further interface endpoint services (short names) beyond the role's list."""


class EndpointEgress(NamedTuple):
    """The two egress rules of a workload in an isolated VPC: HTTPS to the interface endpoints (the VPC
    CIDR) and HTTPS to S3 through the gateway endpoint (its prefix list). Iterate for both, or place
    each where a group's rule list needs it."""

    interface_endpoints: aws.ec2.SecurityGroupEgressArgs
    s3_gateway: aws.ec2.SecurityGroupEgressArgs


#: How most groups describe the two rules (some older groups keep their own wording).
ENDPOINTS_DESCRIPTION = "HTTPS to the VPC endpoints"
S3_DESCRIPTION = "S3 through the gateway endpoint"


def endpoint_egress(
    vpc_cidr: pulumi.Input[str],
    s3_prefix_list_id: pulumi.Input[str],
    *,
    endpoints_description: str = ENDPOINTS_DESCRIPTION,
    s3_description: str = S3_DESCRIPTION,
) -> EndpointEgress:
    """Egress to the VPC's interface endpoints and to S3 through the gateway endpoint (443 only)."""
    return EndpointEgress(
        interface_endpoints=aws.ec2.SecurityGroupEgressArgs(
            description=endpoints_description, protocol="tcp", from_port=443, to_port=443, cidr_blocks=[vpc_cidr]
        ),
        s3_gateway=aws.ec2.SecurityGroupEgressArgs(
            description=s3_description, protocol="tcp", from_port=443, to_port=443, prefix_list_ids=[s3_prefix_list_id]
        ),
    )


def interface_endpoint_policy(platform_account_ids: list[str]) -> dict[str, Any]:
    """Only principals of the platform's accounts may use an interface endpoint."""
    return policy_document(
        [
            statement(
                "OnlyPlatformPrincipals",
                "*",
                "*",
                principal={"AWS": "*"},
                condition={"StringEquals": {"aws:PrincipalAccount": sorted(platform_account_ids)}},
            )
        ]
    )


#: Bucket-level API calls a deploy makes (create, configure, read back on refresh, delete).
BUCKET_MANAGEMENT_ACTIONS = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucket*",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:PutBucket*",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
]


def s3_gateway_policy(
    platform_account_ids: list[str], bucket_prefix: str, region: str, manage_buckets: bool = False
) -> dict[str, Any]:
    """Platform principals reach the platform's buckets and the AWS-owned buckets workloads need.

    ``manage_buckets``: also bucket-level calls on platform buckets, for the VPC where deploys run
    (RES: the serving deploy creates and configures buckets in the stage accounts).
    """
    accounts = {"StringEquals": {"aws:PrincipalAccount": sorted(platform_account_ids)}}
    management = [
        statement(
            "PlatformBucketManagement",
            BUCKET_MANAGEMENT_ACTIONS,
            f"arn:aws:s3:::{bucket_prefix}*",
            principal={"AWS": "*"},
            condition=accounts,
        )
    ]
    return policy_document(
        [
            *(management if manage_buckets else []),
            statement(
                "PlatformBuckets",
                [
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetBucketLocation",
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                ],
                [f"arn:aws:s3:::{bucket_prefix}*", f"arn:aws:s3:::{bucket_prefix}*/*"],
                principal={"AWS": "*"},
                condition=accounts,
            ),
            statement(
                "AwsOwnedReadOnlyBuckets",
                ["s3:GetObject"],
                aws_owned_bucket_arns(region),
                principal={"AWS": "*"},
                condition=accounts,
            ),
        ]
    )


class IsolatedNetwork(pulumi.ComponentResource):
    """A VPC with private subnets only, flow logs and the account role's VPC endpoints."""

    vpc: aws.ec2.Vpc
    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    route_table_id: pulumi.Output[str]
    cidr: str
    """The VPC's CIDR (where the interface endpoints are)."""
    s3_prefix_list_id: pulumi.Output[str]
    """Prefix list of the S3 gateway endpoint, for security-group egress rules to S3."""
    endpoint_security_group_id: pulumi.Output[str]
    endpoint_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IsolatedNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:network:IsolatedNetwork", name, None, opts)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=args.cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={"Name": f"{name}-vpc"},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_vpc = pulumi.ResourceOptions(parent=self.vpc)

        # AWS creates a default security group that allows all traffic within it; adopt and empty it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            aws.ec2.DefaultSecurityGroupArgs(vpc_id=self.vpc.id, ingress=[], egress=[], tags={"Name": f"{name}-default-sg"}),
            opts=in_vpc,
        )

        route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            aws.ec2.RouteTableArgs(vpc_id=self.vpc.id, tags={"Name": f"{name}-private-rt"}),
            opts=in_vpc,
        )
        self.subnet_ids = []
        subnets = []
        for plan in private_subnets(args.cidr, args.az_ids):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{plan.az_id}",
                aws.ec2.SubnetArgs(
                    vpc_id=self.vpc.id,
                    cidr_block=plan.cidr,
                    availability_zone_id=plan.az_id,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-private-{plan.az_id}", "mlops:tier": "private"},
                ),
                opts=in_vpc,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{plan.az_id}-rta",
                aws.ec2.RouteTableAssociationArgs(subnet_id=subnet.id, route_table_id=route_table.id),
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            subnets.append(subnet)
            self.subnet_ids.append(subnet.id)

        self._flow_logs(name, args)

        self._endpoints(name, args, route_table)
        self.vpc_id = self.vpc.id
        self.cidr = args.cidr
        self.route_table_id = route_table.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "subnetIds": self.subnet_ids,
                "endpointSecurityGroupId": self.endpoint_security_group_id,
            }
        )

    def _endpoints(self, name: str, args: IsolatedNetworkArgs, route_table: aws.ec2.RouteTable) -> None:
        """The interface endpoints (private DNS, their own security group) and the S3 gateway endpoint."""
        in_vpc = pulumi.ResourceOptions(parent=self.vpc)
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=self.vpc.id,
                description="VPC interface endpoints: HTTPS from inside the VPC only",
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        description="HTTPS from the VPC",
                        protocol="tcp",
                        from_port=443,
                        to_port=443,
                        cidr_blocks=[args.cidr],
                    )
                ],
                egress=[],
                tags={"Name": f"{name}-endpoints-sg"},
            ),
            opts=in_vpc,
        )
        self.endpoint_security_group_id = endpoint_sg.id

        self.endpoint_ids = {}
        endpoint_policy = json.dumps(interface_endpoint_policy(args.platform_account_ids))
        for endpoint in interface_endpoints(args.role, args.extra_endpoints):
            resource = aws.ec2.VpcEndpoint(
                f"{name}-vpce-{endpoint.service.replace('.', '-')}",
                aws.ec2.VpcEndpointArgs(
                    vpc_id=self.vpc.id,
                    service_name=endpoint.service_name(args.region),
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.subnet_ids,
                    security_group_ids=[endpoint_sg.id],
                    policy=endpoint_policy if endpoint.supports_policy else None,
                    tags={"Name": f"{name}-{endpoint.service}", "mlops:reason": endpoint.reason[:256]},
                ),
                opts=in_vpc,
            )
            self.endpoint_ids[endpoint.service] = resource.id

        s3_gateway = aws.ec2.VpcEndpoint(
            f"{name}-vpce-s3",
            aws.ec2.VpcEndpointArgs(
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=[route_table.id],
                policy=json.dumps(
                    s3_gateway_policy(
                        args.platform_account_ids,
                        args.platform_bucket_prefix,
                        args.region,
                        manage_buckets=args.role == "res",
                    )
                ),
                tags={"Name": f"{name}-s3"},
            ),
            opts=in_vpc,
        )
        self.endpoint_ids["s3"] = s3_gateway.id
        self.s3_prefix_list_id = s3_gateway.prefix_list_id

    def endpoint_egress(
        self, *, endpoints_description: str = ENDPOINTS_DESCRIPTION, s3_description: str = S3_DESCRIPTION
    ) -> EndpointEgress:
        """This VPC's :func:`endpoint_egress` rules: to its CIDR and to its S3 gateway's prefix list."""
        return endpoint_egress(
            self.cidr, self.s3_prefix_list_id, endpoints_description=endpoints_description, s3_description=s3_description
        )

    def _flow_logs(self, name: str, args: IsolatedNetworkArgs) -> None:
        """All traffic to a KMS-encrypted log group, delivered by a role only VPC Flow Logs can assume."""
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/mlops/vpc-flow-logs/{name}",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
        delivery_role = log_delivery_role(
            f"{name}-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            account_id=args.account_id,
            source_arn=f"arn:aws:ec2:{args.region}:{args.account_id}:vpc-flow-log/*",
            description="Lets VPC Flow Logs deliver to the VPC's log group",
            sid="DeliverFlowLogs",
            actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            log_group=log_group,
            include_group_arn=True,
            parent=self.vpc,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            aws.ec2.FlowLogArgs(
                vpc_id=self.vpc.id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn,
                iam_role_arn=delivery_role.arn,
                max_aggregation_interval=60,
            ),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
