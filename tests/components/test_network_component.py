"""IsolatedNetwork with three AZs in another region: subnets, routes and endpoints per AZ, no internet path."""

from __future__ import annotations

import ipaddress
import json

import pulumi_aws as aws
import pytest

from component_helpers import ACCOUNT, ANYWHERE, LOGS_KEY_ARN, PEER_ACCOUNT, REGION, THREE_AZ_IDS, VPC_CIDR, document, only, sids
from components.network import IsolatedNetwork, IsolatedNetworkArgs
from mlops_platform.harness import UNKNOWN, DeclarationPlan, plan_declaration

INTERNET_PATHS = (
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/route:Route",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
)


def network_plan(role: str = "stage", az_ids: list[str] = THREE_AZ_IDS, extra: tuple[str, ...] = (),
                 region: str = REGION, preview: bool = False) -> DeclarationPlan:
    def declare():
        network = IsolatedNetwork(
            "net",
            IsolatedNetworkArgs(
                role=role, cidr=VPC_CIDR, az_ids=list(az_ids), account_id=ACCOUNT, region=region,
                platform_account_ids=[PEER_ACCOUNT, ACCOUNT], platform_bucket_prefix="acme-",
                logs_key_arn=LOGS_KEY_ARN, extra_endpoints=extra,
            ),
        )
        # A workload group built from the network's own egress helper.
        aws.ec2.SecurityGroup("workload-sg", aws.ec2.SecurityGroupArgs(vpc_id=network.vpc_id, egress=list(network.endpoint_egress())))
        return {"subnetIds": network.subnet_ids, "routeTableId": network.route_table_id, "prefixListId": network.s3_prefix_list_id}

    return plan_declaration(declare, account=ACCOUNT, region=region, preview=preview)


@pytest.fixture(scope="module")
def stage() -> DeclarationPlan:
    return network_plan()


@pytest.fixture(scope="module")
def exp() -> DeclarationPlan:
    return network_plan(role="exp")


@pytest.fixture(scope="module")
def res() -> DeclarationPlan:
    return network_plan(role="res")


def interface_endpoints(plan: DeclarationPlan):
    return [r for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if r.inputs["vpcEndpointType"] == "Interface"]


def s3_gateway(plan: DeclarationPlan):
    (gateway,) = [r for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if r.inputs["vpcEndpointType"] == "Gateway"]
    return gateway


def test_one_private_subnet_per_az_id(stage) -> None:
    subnets = stage.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZoneId"] for s in subnets) == THREE_AZ_IDS, "IsolatedNetwork: one subnet per configured AZ ID"


def test_subnets_are_disjoint_and_inside_the_vpc(stage) -> None:
    vpc = ipaddress.ip_network(VPC_CIDR)
    blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in stage.of_type("aws:ec2/subnet:Subnet")]
    assert all(block.subnet_of(vpc) for block in blocks), f"IsolatedNetwork: subnets {blocks} must lie inside {vpc}"
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:]), f"IsolatedNetwork: subnets {blocks} overlap"


def test_no_subnet_assigns_public_ips(stage) -> None:
    public = [s.name for s in stage.of_type("aws:ec2/subnet:Subnet") if s.inputs.get("mapPublicIpOnLaunch") is not False]
    assert not public, f"subnets {public} must not map public IPs on launch (no internet path)"


def test_every_subnet_is_associated_with_the_private_route_table(stage) -> None:
    associations = stage.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert sorted(a.inputs["subnetId"] for a in associations) == sorted(stage.outputs["subnetIds"]), (
        "IsolatedNetwork: each of the three subnets needs its route table association"
    )
    assert {a.inputs["routeTableId"] for a in associations} == {stage.outputs["routeTableId"]}, (
        "IsolatedNetwork: every subnet must use the private route table"
    )


def test_route_table_has_no_routes(stage) -> None:
    table = only(stage, "aws:ec2/routeTable:RouteTable")
    assert not table.inputs.get("routes"), f"{table.name}: an isolated VPC's route table has no routes (only local)"


@pytest.mark.parametrize("type_token", INTERNET_PATHS)
def test_no_internet_path_is_declared(stage, type_token) -> None:
    assert not stage.of_type(type_token), f"IsolatedNetwork must not declare {type_token} (no internet path)"


def test_interface_endpoints_span_every_subnet(stage) -> None:
    short = [e.name for e in interface_endpoints(stage) if sorted(e.inputs["subnetIds"]) != sorted(stage.outputs["subnetIds"])]
    assert not short, f"interface endpoints {short} must have an ENI in each of the three AZs"


def test_interface_endpoints_use_private_dns(stage) -> None:
    without = [e.name for e in interface_endpoints(stage) if e.inputs.get("privateDnsEnabled") is not True]
    assert not without, f"interface endpoints {without} need private DNS (SDKs resolve the public names)"


def test_endpoint_service_names_follow_the_region(stage) -> None:
    names = [e.inputs["serviceName"] for e in stage.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    wrong = [n for n in names if not n.startswith((f"com.amazonaws.{REGION}.", f"aws.sagemaker.{REGION}."))]
    assert not wrong, f"endpoint service names {wrong} must name {REGION}"


def test_studio_endpoint_uses_the_sagemaker_service_prefix(exp) -> None:
    names = {e.inputs["serviceName"] for e in interface_endpoints(exp)}
    assert f"aws.sagemaker.{REGION}.studio" in names, f"EXP needs the Studio endpoint aws.sagemaker.{REGION}.studio, got {sorted(names)}"


def test_stage_network_has_the_private_api_endpoint(stage) -> None:
    names = {e.inputs["serviceName"] for e in interface_endpoints(stage)}
    assert f"com.amazonaws.{REGION}.execute-api" in names, "a stage VPC needs execute-api for its private REST APIs"


def test_extra_endpoints_are_added(stage) -> None:
    plan = network_plan(extra=("secretsmanager",))
    added = {e.inputs["serviceName"] for e in interface_endpoints(plan)} - {e.inputs["serviceName"] for e in interface_endpoints(stage)}
    assert added == {f"com.amazonaws.{REGION}.secretsmanager"}, f"extra_endpoints=('secretsmanager',) added {added}"


def test_unknown_extra_endpoint_is_rejected() -> None:
    with pytest.raises(ValueError, match="no-such-service"):
        network_plan(extra=("no-such-service",))


def test_more_than_four_azs_are_rejected() -> None:
    with pytest.raises(ValueError, match="1 to 4 AZ IDs"):
        network_plan(az_ids=[f"euw1-az{i}" for i in range(1, 6)])


def test_endpoint_security_group_admits_https_from_the_vpc_only(stage) -> None:
    (group,) = [g for g in stage.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "net-endpoints-sg"]
    rules = [(r["protocol"], r["fromPort"], r["toPort"], r.get("cidrBlocks")) for r in group.inputs["ingress"]]
    assert rules == [("tcp", 443, 443, [VPC_CIDR])], f"{group.name}: ingress must be HTTPS from {VPC_CIDR} only, got {rules}"


def test_endpoint_security_group_has_no_egress(stage) -> None:
    (group,) = [g for g in stage.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "net-endpoints-sg"]
    assert group.inputs["egress"] == [], f"{group.name}: endpoints answer requests, they need no egress rule"


def test_default_security_group_is_emptied(stage) -> None:
    group = only(stage, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert (group.inputs["ingress"], group.inputs["egress"]) == ([], []), f"{group.name}: the default group must have no rules (EC2.2)"


def test_endpoint_egress_reaches_only_the_vpc_and_its_s3_gateway(stage) -> None:
    (workload,) = [g for g in stage.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "workload-sg"]
    targets = sorted((tuple(r.get("cidrBlocks") or []), tuple(r.get("prefixListIds") or []), r["fromPort"]) for r in workload.inputs["egress"])
    assert targets == [((), (stage.outputs["prefixListId"],), 443), ((VPC_CIDR,), (), 443)], (
        f"IsolatedNetwork.endpoint_egress: HTTPS to {VPC_CIDR} and to the S3 gateway's prefix list only, got {targets}"
    )


def test_no_security_group_rule_reaches_the_internet(stage) -> None:
    open_rules = [
        g.name for g in stage.of_type("aws:ec2/securityGroup:SecurityGroup")
        for rule in [*g.inputs.get("ingress", []), *g.inputs.get("egress", [])]
        if ANYWHERE & set(rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []))
    ]
    assert not open_rules, f"security groups {open_rules} have a rule to or from anywhere"


def test_flow_logs_capture_all_traffic(stage) -> None:
    flow_log = only(stage, "aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL", f"{flow_log.name}: flow logs must capture ALL traffic (EC2.6)"


def test_flow_log_group_is_encrypted_with_the_logs_key(stage) -> None:
    group = only(stage, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == LOGS_KEY_ARN, f"{group.name}: flow logs are encrypted with the logs key"


def test_flow_log_role_is_held_to_this_account_and_region(stage) -> None:
    (role,) = stage.of_type("aws:iam/role:Role")
    condition = document(role, "assumeRolePolicy")["Statement"][0]["Condition"]
    assert condition == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"},
    }, f"{role.name}: VPC Flow Logs of {ACCOUNT} in {REGION} only (confused deputy)"


def test_interface_endpoint_policy_admits_only_platform_accounts(stage) -> None:
    policies = {e.inputs["policy"] for e in interface_endpoints(stage) if e.inputs.get("policy")}
    (policy,) = policies
    condition = json.loads(policy)["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"aws:PrincipalAccount": sorted([ACCOUNT, PEER_ACCOUNT])}}, (
        "interface endpoints: only principals of the platform's accounts"
    )


def test_s3_gateway_admits_the_regional_aws_owned_buckets(stage) -> None:
    gateway = s3_gateway(stage)
    resources = document(gateway)["Statement"][-1]["Resource"]
    assert f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*" in resources, (
        f"{gateway.name}: ECR layers come from the {REGION} starport bucket"
    )


def test_s3_gateway_is_routed_from_the_private_route_table(stage) -> None:
    gateway = s3_gateway(stage)
    assert gateway.inputs["routeTableIds"] == [stage.outputs["routeTableId"]], f"{gateway.name}: attach to the private route table"


def test_only_the_res_network_may_manage_platform_buckets(res) -> None:
    assert "PlatformBucketManagement" in sids(document(s3_gateway(res))), "RES deploys create buckets: its S3 gateway allows bucket management"


def test_workload_networks_may_not_manage_buckets(stage) -> None:
    assert "PlatformBucketManagement" not in sids(document(s3_gateway(stage))), (
        "a stage VPC's S3 gateway must not allow bucket management"
    )


def test_endpoint_policies_are_known_at_preview() -> None:
    policies = [e.inputs.get("policy") for e in network_plan(preview=True).of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    unknown = [p for p in policies if p == UNKNOWN]
    assert policies and not unknown, "endpoint policies are plain documents: the policy pack checks them at the first preview"
