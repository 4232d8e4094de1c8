"""Network isolation: VPC-only ML, no public paths, closed security groups (guardrails.md §2.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_guard.checks import require, require_present, require_true
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, as_bool, as_list, is_present, is_unknown, lookup, parse_policy_document

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@resource_policy(
    name="sagemaker-domain-vpc-only",
    control="NET-SM-DOMAIN-VPCONLY",
    description="Studio domains run VpcOnly in the platform VPC with private subnets and security groups.",
    severity="critical",
    types=("aws:sagemaker/domain:Domain", "aws:sagemaker/userProfile:UserProfile"),
    remediation="Set appNetworkAccessType='VpcOnly', vpcId, subnetIds (2+) and "
    "defaultUserSettings.securityGroups.",
)
def sagemaker_domain_vpc_only(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:sagemaker/userProfile:UserProfile":
        groups = lookup(res.props, "userSettings.securityGroups")
        if groups is not MISSING and not is_present(groups):
            report.violation(f"{res.name}: userSettings.securityGroups is empty")
        return
    require(
        report,
        res,
        "appNetworkAccessType",
        lambda v: v == "VpcOnly",
        "appNetworkAccessType must be VpcOnly (the API default is PublicInternetOnly)",
    )
    require_present(report, res, "vpcId", "vpcId")
    subnets = lookup(res.props, "subnetIds")
    if not is_unknown(subnets) and len([s for s in as_list(subnets)]) < 2:
        report.violation(f"{res.name}: subnetIds needs at least 2 private subnets")
    require_present(report, res, "defaultUserSettings.securityGroups", "defaultUserSettings.securityGroups")
    if is_present(lookup(res.props, "defaultSpaceSettings")):
        require_present(report, res, "defaultSpaceSettings.securityGroups", "defaultSpaceSettings.securityGroups")


def _vpc_config(res: Resource, report: Report, path: str, subnets_key: str = "subnets") -> None:
    if require_present(report, res, path, path):
        require_present(report, res, f"{path}.{subnets_key}", f"{path}.{subnets_key}")
        require_present(report, res, f"{path}.securityGroupIds", f"{path}.securityGroupIds")


@resource_policy(
    name="sagemaker-model-in-vpc",
    control="NET-SM-MODEL-VPC",
    description="SageMaker models (and the batch transforms and endpoints that use them) run in the VPC.",
    severity="critical",
    types=("aws:sagemaker/model:Model",),
    remediation="Set vpcConfig with the platform's private subnets and the workload security group.",
)
def sagemaker_model_in_vpc(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    _vpc_config(res, report, "vpcConfig")


@resource_policy(
    name="sagemaker-model-network-isolation",
    control="NET-SM-MODEL-ISOLATION",
    description="SageMaker model containers run with network isolation.",
    severity="high",
    types=("aws:sagemaker/model:Model",),
    refs=("SH:SageMaker.5", "CKV:CKV_AWS_370"),
    remediation="Set enableNetworkIsolation=True on the model.",
)
def sagemaker_model_network_isolation(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_true(report, res, "enableNetworkIsolation", "enableNetworkIsolation is not true")


JOB_NETWORK_PATHS = {
    "aws:sagemaker/trainingJob:TrainingJob": ("vpcConfig", "enableNetworkIsolation"),
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": (
        "trainingJobDefinition.vpcConfig",
        "trainingJobDefinition.enableNetworkIsolation",
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (
        "networkConfig.vpcConfig",
        "networkConfig.enableNetworkIsolation",
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": (
        "monitoringScheduleConfig.monitoringJobDefinition.networkConfig.vpcConfig",
        "monitoringScheduleConfig.monitoringJobDefinition.networkConfig.enableNetworkIsolation",
    ),
}


def _job_applies(res: Resource) -> bool:
    if res.type.endswith("MonitoringSchedule"):
        return is_present(lookup(res.props, "monitoringScheduleConfig.monitoringJobDefinition"))
    if res.type.endswith("HyperParameterTuningJob"):
        return is_present(lookup(res.props, "trainingJobDefinition"))
    return True


@resource_policy(
    name="sagemaker-job-in-vpc",
    control="NET-SM-JOB-VPC",
    description="Training, tuning and monitoring jobs run in the VPC.",
    severity="critical",
    types=tuple(JOB_NETWORK_PATHS),
    remediation="Set vpcConfig (networkConfig.vpcConfig for monitoring) with private subnets and security groups.",
)
def sagemaker_job_in_vpc(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if _job_applies(res):
        _vpc_config(res, report, JOB_NETWORK_PATHS[res.type][0])


@resource_policy(
    name="sagemaker-job-network-isolation",
    control="NET-SM-JOB-ISOLATION",
    description="Training, tuning and monitoring job containers run with network isolation.",
    severity="high",
    types=tuple(JOB_NETWORK_PATHS),
    refs=("SH:SageMaker.11", "SH:SageMaker.14"),  # data quality job definitions, monitoring schedules
    remediation="Set enableNetworkIsolation=True (networkConfig.enableNetworkIsolation for monitoring).",
)
def sagemaker_job_network_isolation(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if _job_applies(res):
        path = JOB_NETWORK_PATHS[res.type][1]
        require_true(report, res, path, f"{path} is not true")


@resource_policy(
    name="sagemaker-notebook-no-direct-internet",
    control="NET-SM-NOTEBOOK",
    description="Notebook instances have no direct internet access and sit in a VPC subnet.",
    severity="critical",
    types=("aws:sagemaker/notebookInstance:NotebookInstance",),
    refs=("SH:SageMaker.1", "SH:SageMaker.2", "CKV:CKV_AWS_122", "CKV:CKV_AWS_306"),
    remediation="Set directInternetAccess='Disabled', subnetId and securityGroups (or use Studio).",
)
def sagemaker_notebook_no_direct_internet(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require(
        report,
        res,
        "directInternetAccess",
        lambda v: v == "Disabled",
        "directInternetAccess must be Disabled (the default is Enabled)",
    )
    require_present(report, res, "subnetId", "subnetId")
    require_present(report, res, "securityGroups", "securityGroups")


def _open_cidrs(res: Resource, report: Report, paths: list[str], what: str) -> None:
    for path in paths:
        value = lookup(res.props, path)
        if is_unknown(value):
            report.unknown(f"{res.name}: {path} is not known until apply")
            continue
        for cidr in as_list(value):
            if is_unknown(cidr):
                report.unknown(f"{res.name}: {path} is not known until apply")
            elif cidr in OPEN_CIDRS:
                report.violation(f"{res.name}: {what} from {cidr} ({path})")


@resource_policy(
    name="security-group-no-public-ingress",
    control="NET-SG-INGRESS",
    description="No security group admits traffic from 0.0.0.0/0 or ::/0 (inline rules and rule resources).",
    severity="critical",
    types=(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    ),
    refs=("SH:EC2.18", "SH:EC2.19", "SH:EC2.53", "SH:EC2.54", "CIS:5.2", "CIS:5.3", "CKV:CKV_AWS_24", "CKV:CKV_AWS_260"),
    remediation="Admit only the VPC CIDR, prefix lists or other security groups.",
)
def security_group_no_public_ingress(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        _open_cidrs(res, report, ["cidrIpv4", "cidrIpv6"], "ingress")
        return
    if res.type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        kind = lookup(res.props, "type")
        if is_unknown(kind):
            report.unknown(f"{res.name}: type is not known until apply")
        elif kind == "ingress":
            _open_cidrs(res, report, ["cidrBlocks", "ipv6CidrBlocks"], "ingress")
        return
    rules = lookup(res.props, "ingress")
    if is_unknown(rules):
        report.unknown(f"{res.name}: ingress is not known until apply")
        return
    for index, _ in enumerate(as_list(rules)):
        _open_cidrs(res, report, [f"ingress.{index}.cidrBlocks", f"ingress.{index}.ipv6CidrBlocks"], "ingress")


def _all_traffic(protocol: Any) -> bool:
    return str(protocol) in ("-1", "all")


@resource_policy(
    name="security-group-no-open-egress",
    control="NET-SG-EGRESS",
    description="No security group allows all traffic to 0.0.0.0/0 or ::/0: egress goes to the VPC, prefix lists or groups.",
    severity="high",
    types=(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ),
    refs=("CKV:CKV_AWS_382",),
    remediation="Restrict egress to the VPC CIDR, the S3 prefix list or the endpoint security group.",
)
def security_group_no_open_egress(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    def check(protocol: Any, cidrs: list[Any], where: str) -> None:
        if is_unknown(protocol) or any(is_unknown(c) for c in cidrs):
            report.unknown(f"{res.name}: {where} is not known until apply")
        elif _all_traffic(protocol) and any(c in OPEN_CIDRS for c in cidrs):
            report.violation(f"{res.name}: {where} allows all traffic to the internet")

    if res.type == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
        check(lookup(res.props, "ipProtocol"), as_list(lookup(res.props, "cidrIpv4")) + as_list(lookup(res.props, "cidrIpv6")), "egress rule")
        return
    if res.type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        if lookup(res.props, "type") == "egress":
            check(lookup(res.props, "protocol"), as_list(lookup(res.props, "cidrBlocks")) + as_list(lookup(res.props, "ipv6CidrBlocks")), "egress rule")
        return
    rules = lookup(res.props, "egress")
    if is_unknown(rules):
        report.unknown(f"{res.name}: egress is not known until apply")
        return
    for index, rule in enumerate(as_list(rules)):
        if isinstance(rule, Mapping):
            check(rule.get("protocol"), as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")), f"egress[{index}]")


@resource_policy(
    name="vpc-default-security-group-closed",
    control="NET-DEFAULT-SG",
    description="The default security group of every VPC has no rules.",
    severity="high",
    types=("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",),
    refs=("SH:EC2.2", "CIS:5.4", "CKV:CKV2_AWS_12"),
    remediation="Declare aws.ec2.DefaultSecurityGroup(vpc_id=..., ingress=[], egress=[]).",
)
def vpc_default_security_group_closed(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    for path in ("ingress", "egress"):
        value = lookup(res.props, path)
        if is_unknown(value):
            report.unknown(f"{res.name}: {path} is not known until apply")
        elif as_list(value):
            report.violation(f"{res.name}: the default security group has {path} rules")


@resource_policy(
    name="vpc-no-internet-path",
    control="NET-NO-PUBLIC-PATH",
    description="Workload VPCs have no internet or NAT gateway and no route to one.",
    severity="critical",
    types=(
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
    ),
    refs=(),  # SH:EC2.15 and CKV_AWS_130 check subnets (vpc-subnet-private), not routes or gateways
    remediation="Remove the gateway; reach AWS services through VPC endpoints.",
)
def vpc_no_internet_path(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type != "aws:ec2/route:Route":
        report.violation(f"{res.name}: {res.type.rsplit(':', 1)[-1]} opens a path to the internet")
        return
    gateway = lookup(res.props, "gatewayId")
    if isinstance(gateway, str) and gateway.startswith("igw-"):
        report.violation(f"{res.name}: the route targets internet gateway {gateway}")
    for key in ("natGatewayId", "egressOnlyGatewayId"):
        if is_present(lookup(res.props, key)) and not is_unknown(lookup(res.props, key)):
            report.violation(f"{res.name}: the route targets a {key[:-2]}")
        elif is_unknown(lookup(res.props, key)):
            report.violation(f"{res.name}: the route targets a {key[:-2]} (known later, but any is forbidden)")


@resource_policy(
    name="vpc-subnet-private",
    control="NET-NO-PUBLIC-PATH",
    description="Subnets never assign public IP addresses on launch.",
    severity="high",
    types=("aws:ec2/subnet:Subnet",),
    refs=("SH:EC2.15", "CKV:CKV_AWS_130"),
    remediation="Leave mapPublicIpOnLaunch unset or false.",
)
def vpc_subnet_private(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require(report, res, "mapPublicIpOnLaunch", lambda v: as_bool(v) is not True, "mapPublicIpOnLaunch is true", missing_ok=True)


@resource_policy(
    name="vpc-endpoint-policy-restricted",
    control="NET-VPCE-POLICY",
    description="VPC endpoint policies never allow every action to every principal without a condition; "
    "gateway endpoints always carry a policy.",
    severity="high",
    types=("aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"),
    remediation="Attach a policy naming the platform's buckets/accounts or conditioned on aws:PrincipalOrgID.",
)
def vpc_endpoint_policy_restricted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    value = lookup(res.props, "policy")
    endpoint_type = lookup(res.props, "vpcEndpointType")
    if not is_present(value):
        if res.type == "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy" or endpoint_type in ("Gateway", MISSING):
            report.violation(f"{res.name}: the endpoint has no policy (full access by default)")
        return
    doc = parse_policy_document(value)
    if doc is None:
        return
    if doc.unknown:
        report.unknown(f"{res.name}: the endpoint policy is not known until apply")
        return
    if doc.malformed:
        report.violation(f"{res.name}: the endpoint policy is {doc.malformed}")
        return
    for stmt in doc.statements:
        if stmt.allows and stmt.principal_is_public and ("*" in stmt.actions) and not stmt.condition:
            report.violation(f"{res.name}: the endpoint policy allows every action to every principal")


@resource_policy(
    name="vpc-endpoint-private-dns",
    control="NET-VPCE-REQUIRED",
    description="Interface endpoints have private DNS enabled so SDK calls stay in the VPC.",
    severity="medium",
    types=("aws:ec2/vpcEndpoint:VpcEndpoint",),
    refs=(),  # SH:EC2.10 checks that a VPC has an endpoint for the EC2 service, not private DNS
    remediation="Set privateDnsEnabled=True on interface endpoints.",
)
def vpc_endpoint_private_dns(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    endpoint_type = lookup(res.props, "vpcEndpointType")
    if is_unknown(endpoint_type):
        report.unknown(f"{res.name}: vpcEndpointType is not known until apply")
    elif endpoint_type == "Interface":
        require_true(report, res, "privateDnsEnabled", "privateDnsEnabled is not true")


@resource_policy(
    name="lambda-in-vpc",
    control="NET-COMPUTE-VPC",
    description="Lambda functions run inside the VPC.",
    severity="high",
    types=("aws:lambda/function:Function",),
    refs=("SH:Lambda.3", "CKV:CKV_AWS_117"),
    remediation="Set vpcConfig.subnetIds and vpcConfig.securityGroupIds.",
)
def lambda_in_vpc(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if require_present(report, res, "vpcConfig", "vpcConfig"):
        require_present(report, res, "vpcConfig.subnetIds", "vpcConfig.subnetIds")
        require_present(report, res, "vpcConfig.securityGroupIds", "vpcConfig.securityGroupIds")


@resource_policy(
    name="apigateway-private-endpoint",
    control="NET-APIGW-PRIVATE",
    description="REST APIs are PRIVATE endpoints reachable only through the VPC endpoint.",
    severity="high",
    types=("aws:apigateway/restApi:RestApi",),
    refs=(),  # CKV2_AWS_29 checks a WAF association, not the endpoint type
    remediation="Set endpointConfiguration.types=['PRIVATE'] and vpcEndpointIds, plus a resource policy with aws:SourceVpce.",
)
def apigateway_private_endpoint(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require(
        report,
        res,
        "endpointConfiguration.types",
        lambda v: as_list(v) == ["PRIVATE"],
        "endpointConfiguration.types must be ['PRIVATE']",
    )
