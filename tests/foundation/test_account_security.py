"""Security properties of every stack's baseline, asserted on the inputs the engine would receive.

Each test checks one property over every account stack (the model projects' stacks have no baseline)
and names the offending resource.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from mlops_platform.harness import ResourceRecord, StackPlan

STACKS = ["data", "exp", "res", "dev", "int", "prod"]


def resources(plans: dict[str, StackPlan], type_token: str) -> list[tuple[str, ResourceRecord]]:
    return [(name, r) for name, plan in plans.items() for r in plan.resources if r.type == type_token]


def depends_on(record: ResourceRecord, prop: str, target: ResourceRecord) -> bool:
    return target.urn in record.property_dependencies.get(prop, [])


def doc(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


# ---- providers ------------------------------------------------------------------------------


def test_every_custom_resource_names_an_explicit_provider(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for record in plan.resources:
            if record.custom and not record.type.startswith("pulumi:"):
                assert record.provider and "pulumi:providers:aws" in record.provider, (
                    f"{stack}: {record.urn} has no explicit aws provider"
                )


def test_provider_allows_only_the_stack_account(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        (provider,) = plan.of_type("pulumi:providers:aws")
        assert json.loads(provider.inputs["allowedAccountIds"]) == [plan.account_id], f"{stack}: {provider.urn}"


def test_provider_assumes_the_deploy_role_with_a_session_name(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        (provider,) = plan.of_type("pulumi:providers:aws")
        (assume,) = json.loads(provider.inputs["assumeRoles"])
        assert assume["roleArn"] == f"arn:aws:iam::{plan.account_id}:role/mlops-deploy", f"{stack}: {assume}"
        assert assume["sessionName"], f"{stack}: provider {provider.urn} sets no session name"


def test_provider_region_comes_from_config(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        (provider,) = plan.of_type("pulumi:providers:aws")
        assert provider.inputs["region"] == plan.region, f"{stack}: {provider.urn}"


def test_provider_applies_default_tags(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        (provider,) = plan.of_type("pulumi:providers:aws")
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert tags.get("mlops:stack") == stack and "cost-center" in tags, f"{stack}: {provider.urn} tags {tags}"


# ---- network ---------------------------------------------------------------------------------


def test_every_stack_has_exactly_one_vpc_with_dns(account_plans) -> None:
    for stack, plan in account_plans.items():
        vpcs = plan.of_type("aws:ec2/vpc:Vpc")
        assert len(vpcs) == 1, f"{stack}: {len(vpcs)} VPCs"
        assert vpcs[0].inputs["enableDnsSupport"] and vpcs[0].inputs["enableDnsHostnames"], f"{stack}: {vpcs[0].urn}"


@pytest.mark.parametrize(
    "forbidden",
    [
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
        "aws:ec2/eip:Eip",
    ],
)
def test_no_internet_path(platform_plans, forbidden: str) -> None:
    found = resources(platform_plans, forbidden)
    assert not found, f"internet path resources: {[r.urn for _, r in found]}"


def test_subnets_never_map_public_ips(platform_plans) -> None:
    for stack, subnet in resources(platform_plans, "aws:ec2/subnet:Subnet"):
        assert subnet.inputs.get("mapPublicIpOnLaunch") is False, f"{stack}: {subnet.urn} maps public IPs"


def test_subnets_use_the_configured_az_ids(account_plans) -> None:
    from mlops_core.config import load_settings

    for stack, plan in account_plans.items():
        az_ids = sorted(s.inputs["availabilityZoneId"] for s in plan.of_type("aws:ec2/subnet:Subnet"))
        assert az_ids == sorted(load_settings(stack).config.az_ids), f"{stack}: subnets in {az_ids}"


def test_subnets_lie_inside_the_vpc_and_do_not_overlap(account_plans) -> None:
    for stack, plan in account_plans.items():
        vpc = ipaddress.IPv4Network(plan.of_type("aws:ec2/vpc:Vpc")[0].inputs["cidrBlock"])
        nets = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in plan.of_type("aws:ec2/subnet:Subnet")]
        assert all(n.subnet_of(vpc) for n in nets), f"{stack}: subnet outside {vpc}"
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :]), f"{stack}: overlap"


def test_route_tables_have_no_routes(platform_plans) -> None:
    for stack, table in resources(platform_plans, "aws:ec2/routeTable:RouteTable"):
        assert not table.inputs.get("routes"), f"{stack}: {table.urn} has routes {table.inputs.get('routes')}"


def test_default_security_group_has_no_rules(account_plans) -> None:
    for stack, plan in account_plans.items():
        groups = plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
        assert len(groups) == 1, f"{stack}: the default security group is not managed"
        assert groups[0].inputs.get("ingress", []) == [] and groups[0].inputs.get("egress", []) == [], (
            f"{stack}: {groups[0].urn} keeps rules"
        )


def test_flow_logs_capture_all_traffic(account_plans) -> None:
    for stack, plan in account_plans.items():
        logs = plan.of_type("aws:ec2/flowLog:FlowLog")
        assert len(logs) == 1 and logs[0].inputs["trafficType"] == "ALL", f"{stack}: flow logs {logs}"


def test_flow_log_group_is_kms_encrypted_and_kept_a_year(account_plans) -> None:
    for stack, plan in account_plans.items():
        (flow_log,) = plan.of_type("aws:ec2/flowLog:FlowLog")
        group = next(
            g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if depends_on(flow_log, "logDestination", g)
        )
        assert group.inputs.get("kmsKeyId", "").startswith("arn:aws:kms:"), f"{stack}: {group.urn} not KMS-encrypted"
        assert group.inputs["retentionInDays"] >= 365, f"{stack}: {group.urn} kept {group.inputs['retentionInDays']} days"


def test_flow_log_role_trusts_only_flow_logs_of_this_account(account_plans) -> None:
    for stack, plan in account_plans.items():
        (flow_log,) = plan.of_type("aws:ec2/flowLog:FlowLog")
        role = next(r for r in plan.of_type("aws:iam/role:Role") if depends_on(flow_log, "iamRoleArn", r))
        (trust,) = doc(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}, f"{stack}: {role.urn}"
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == plan.account_id, f"{stack}: {role.urn}"


def test_endpoint_security_group_admits_only_https_from_the_vpc(account_plans) -> None:
    for stack, plan in account_plans.items():
        cidr = plan.of_type("aws:ec2/vpc:Vpc")[0].inputs["cidrBlock"]
        group = next(g for g in plan.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name.endswith("endpoints-sg"))
        (rule,) = group.inputs["ingress"]
        assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (443, 443, "tcp"), f"{stack}: {group.urn}"
        assert rule["cidrBlocks"] == [cidr], f"{stack}: {group.urn} admits {rule['cidrBlocks']}"
        assert group.inputs.get("egress") == [], f"{stack}: {group.urn} allows egress"


def test_at_least_six_interface_endpoints_with_private_dns(account_plans) -> None:
    for stack, plan in account_plans.items():
        interface = [e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcEndpointType"] == "Interface"]
        assert len(interface) >= 6, f"{stack}: only {len(interface)} interface endpoints"
        for endpoint in interface:
            assert endpoint.inputs["privateDnsEnabled"] is True, f"{stack}: {endpoint.urn} without private DNS"


def test_interface_endpoints_span_every_subnet(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        subnets = len(plan.of_type("aws:ec2/subnet:Subnet"))
        for endpoint in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
            if endpoint.inputs["vpcEndpointType"] == "Interface":
                assert len(endpoint.inputs["subnetIds"]) == subnets, f"{stack}: {endpoint.urn}"


def test_exp_and_prod_endpoint_lists_differ(platform_plans) -> None:
    def services(stack: str) -> set[str]:
        return {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in platform_plans[stack].of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}

    assert "studio" in services("exp") and "studio" not in services("prod"), "Studio endpoint placement is wrong"
    assert "execute-api" in services("prod") and "execute-api" not in services("exp"), "execute-api placement is wrong"


@pytest.mark.parametrize("stage", ["dev", "int", "prod"])
def test_stage_accounts_get_private_api_and_runtime_endpoints(platform_plans, stage: str) -> None:
    names = {e.inputs["serviceName"] for e in platform_plans[stage].of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("execute-api", "sagemaker.runtime"):
        assert f"com.amazonaws.eu-central-1.{service}" in names, f"{stage}: no {service} endpoint"


def test_s3_gateway_policy_admits_platform_and_aws_owned_buckets(account_plans) -> None:
    for stack, plan in account_plans.items():
        gateway = next(e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcEndpointType"] == "Gateway")
        resources_allowed = {r for s in doc(gateway.inputs["policy"])["Statement"] for r in s["Resource"]}
        assert "arn:aws:s3:::mlops-*/*" in resources_allowed, f"{stack}: {gateway.urn} blocks platform buckets"
        assert "arn:aws:s3:::prod-eu-central-1-starport-layer-bucket/*" in resources_allowed, (
            f"{stack}: {gateway.urn} breaks ECR image pulls"
        )
        assert gateway.inputs["routeTableIds"], f"{stack}: {gateway.urn} attached to no route table"


def test_endpoint_policies_admit_only_platform_principals(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        accounts = sorted({"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"})
        for endpoint in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
            if "policy" not in endpoint.inputs:
                continue  # services without endpoint policies (see components/endpoints.py)
            for statement in doc(endpoint.inputs["policy"])["Statement"]:
                assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == accounts, f"{stack}: {endpoint.urn}"


# ---- keys ------------------------------------------------------------------------------------


def test_keys_rotate(platform_plans) -> None:
    for stack, key in resources(platform_plans, "aws:kms/key:Key"):
        assert key.inputs["enableKeyRotation"] is True, f"{stack}: {key.urn} does not rotate"


def test_keys_have_a_thirty_day_deletion_window(platform_plans) -> None:
    for stack, key in resources(platform_plans, "aws:kms/key:Key"):
        assert key.inputs["deletionWindowInDays"] == 30, f"{stack}: {key.urn}"


def test_keys_are_protected(platform_plans) -> None:
    for stack, key in resources(platform_plans, "aws:kms/key:Key"):
        assert key.protect, f"{stack}: {key.urn} is not protected"


def test_every_key_has_an_alias(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        aliased = {u for a in plan.of_type("aws:kms/alias:Alias") for u in a.property_dependencies.get("targetKeyId", [])}
        for key in plan.of_type("aws:kms/key:Key"):
            assert key.urn in aliased, f"{stack}: {key.urn} has no alias"


def test_key_policies_name_their_principals(platform_plans) -> None:
    for stack, key in resources(platform_plans, "aws:kms/key:Key"):
        for statement in doc(key.inputs["policy"])["Statement"]:
            principal = statement["Principal"]
            assert principal not in ("*", {"AWS": "*"}), f"{stack}: {key.urn} {statement['Sid']} is open to everyone"
            if "Service" in principal:
                assert statement.get("Condition"), f"{stack}: {key.urn} {statement['Sid']} lacks confused-deputy conditions"


def test_key_admin_statement_grants_no_data_access(platform_plans) -> None:
    for stack, key in resources(platform_plans, "aws:kms/key:Key"):
        admin = next(s for s in doc(key.inputs["policy"])["Statement"] if s["Sid"] == "KeyAdministration")
        assert "kms:Decrypt" not in admin["Action"] and "kms:*" not in admin["Action"], f"{stack}: {key.urn}"


# ---- buckets ---------------------------------------------------------------------------------


def _bucket_children(plan: StackPlan, bucket: ResourceRecord, type_token: str) -> list[ResourceRecord]:
    return [r for r in plan.of_type(type_token) if depends_on(r, "bucket", bucket)]


def _secure_buckets(plans):
    for stack, plan in plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            if (bucket.inputs.get("tags") or {}).get("mlops:access-log-bucket") != "true":
                yield stack, plan, bucket


def test_buckets_use_sse_kms_with_a_bucket_key(platform_plans) -> None:
    for stack, plan, bucket in _secure_buckets(platform_plans):
        (sse,) = _bucket_children(plan, bucket, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        (rule,) = sse.inputs["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"].startswith("arn:aws:kms:"), f"{stack}: {bucket.urn}"
        assert rule["bucketKeyEnabled"] is True, f"{stack}: {bucket.urn} without bucket key"


def test_buckets_block_all_public_access(platform_plans) -> None:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            (block,) = _bucket_children(plan, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
            assert all(block.inputs[f] is True for f in flags), f"{stack}: {bucket.urn} public access block {block.inputs}"


def test_buckets_enforce_bucket_owner(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            (ownership,) = _bucket_children(plan, bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
            assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced", f"{stack}: {bucket.urn}"


def test_buckets_are_versioned(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            (versioning,) = _bucket_children(plan, bucket, "aws:s3/bucketVersioning:BucketVersioning")
            assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", f"{stack}: {bucket.urn}"


def test_buckets_deny_insecure_transport(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            (policy,) = _bucket_children(plan, bucket, "aws:s3/bucketPolicy:BucketPolicy")
            denies = [
                s for s in doc(policy.inputs["policy"])["Statement"]
                if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            ]
            assert denies, f"{stack}: {bucket.urn} accepts plain HTTP"


def test_buckets_log_to_the_access_log_bucket(platform_plans) -> None:
    for stack, plan, bucket in _secure_buckets(platform_plans):
        (logging,) = _bucket_children(plan, bucket, "aws:s3/bucketLogging:BucketLogging")
        assert logging.inputs["targetBucket"] == f"mlops-access-logs-{plan.account_id}-{plan.region}", f"{stack}: {bucket.urn}"


def test_buckets_have_lifecycle_rules(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            (lifecycle,) = _bucket_children(plan, bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
            assert lifecycle.inputs["rules"], f"{stack}: {bucket.urn} has no lifecycle rules"


def test_data_bearing_buckets_are_protected(platform_plans) -> None:
    for stack, plan in platform_plans.items():
        for bucket in plan.of_type("aws:s3/bucket:Bucket"):
            assert bucket.protect, f"{stack}: {bucket.urn} is not protected"


def test_access_log_bucket_is_the_marked_sse_s3_exception(account_plans) -> None:
    for stack, plan in account_plans.items():
        marked = [b for b in plan.of_type("aws:s3/bucket:Bucket") if (b.inputs.get("tags") or {}).get("mlops:access-log-bucket") == "true"]
        assert len(marked) == 1, f"{stack}: {len(marked)} marked access-log buckets"
        (sse,) = _bucket_children(plan, marked[0], "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256", f"{stack}: {marked[0].urn}"
        assert not _bucket_children(plan, marked[0], "aws:s3/bucketLogging:BucketLogging"), f"{stack}: log bucket logs to itself"


def test_account_level_public_access_block(account_plans) -> None:
    for stack, plan in account_plans.items():
        (block,) = plan.of_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
        assert block.inputs["blockPublicPolicy"] and block.inputs["restrictPublicBuckets"], f"{stack}: {block.urn}"


# ---- account services ------------------------------------------------------------------------


def test_ebs_encryption_by_default_with_the_platform_key(account_plans) -> None:
    for stack, plan in account_plans.items():
        (enabled,) = plan.of_type("aws:ebs/encryptionByDefault:EncryptionByDefault")
        (default_key,) = plan.of_type("aws:ebs/defaultKmsKey:DefaultKmsKey")
        assert enabled.inputs["enabled"] is True and default_key.inputs["keyArn"].startswith("arn:aws:kms:"), stack


def test_access_analyzer_in_every_account(account_plans) -> None:
    for stack, plan in account_plans.items():
        assert plan.of_type("aws:accessanalyzer/analyzer:Analyzer"), f"{stack}: no IAM Access Analyzer"


def test_cloudtrail_is_encrypted_validated_and_sent_to_logs(account_plans) -> None:
    for stack, plan in account_plans.items():
        (trail,) = plan.of_type("aws:cloudtrail/trail:Trail")
        inputs = trail.inputs
        assert inputs["kmsKeyId"].startswith("arn:aws:kms:"), f"{stack}: {trail.urn} not KMS-encrypted"
        assert inputs["enableLogFileValidation"] is True, f"{stack}: {trail.urn} without log-file validation"
        assert inputs["isMultiRegionTrail"] is True, f"{stack}: {trail.urn} single-region"
        assert inputs["cloudWatchLogsGroupArn"].endswith(":*") and inputs["cloudWatchLogsRoleArn"], f"{stack}: {trail.urn}"


def test_config_records_everything_to_an_encrypted_channel(account_plans) -> None:
    for stack, plan in account_plans.items():
        (recorder,) = plan.of_type("aws:cfg/recorder:Recorder")
        (channel,) = plan.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
        (status,) = plan.of_type("aws:cfg/recorderStatus:RecorderStatus")
        assert recorder.inputs["recordingGroup"]["allSupported"] is True, f"{stack}: {recorder.urn}"
        assert channel.inputs["s3KmsKeyArn"].startswith("arn:aws:kms:"), f"{stack}: {channel.urn}"
        assert status.inputs["isEnabled"] is True, f"{stack}: {status.urn}"


def test_security_hub_runs_fsbp(account_plans) -> None:
    for stack, plan in account_plans.items():
        standards = [s.inputs["standardsArn"] for s in plan.of_type("aws:securityhub/standardsSubscription:StandardsSubscription")]
        assert any("aws-foundational-security-best-practices" in arn for arn in standards), f"{stack}: {standards}"


def test_guardduty_detector_enabled(account_plans) -> None:
    for stack, plan in account_plans.items():
        (detector,) = plan.of_type("aws:guardduty/detector:Detector")
        assert detector.inputs["enable"] is True, f"{stack}: {detector.urn}"


def test_budget_alerts_go_to_an_encrypted_topic(account_plans) -> None:
    for stack, plan in account_plans.items():
        (budget,) = plan.of_type("aws:budgets/budget:Budget")
        topic = next(t for t in plan.of_type("aws:sns/topic:Topic") if t.name.endswith("-alerts"))
        assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:"), f"{stack}: {topic.urn} unencrypted"
        for notification in budget.inputs["notifications"]:
            assert notification["subscriberSnsTopicArns"], f"{stack}: {budget.urn} notifies nobody"


def test_log_groups_are_encrypted_and_kept_a_year(platform_plans) -> None:
    for stack, group in resources(platform_plans, "aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs.get("kmsKeyId"), f"{stack}: {group.urn} is not KMS-encrypted"
        assert group.inputs.get("retentionInDays", 0) >= 365, f"{stack}: {group.urn} kept too briefly"


@pytest.mark.parametrize(
    ("switch", "type_token"),
    [
        ("cloudTrail", "aws:cloudtrail/trail:Trail"),
        ("awsConfig", "aws:cfg/recorder:Recorder"),
        ("securityHub", "aws:securityhub/account:Account"),
        ("guardDuty", "aws:guardduty/detector:Detector"),
        ("budget", "aws:budgets/budget:Budget"),
    ],
)
def test_central_services_can_be_switched_off(repo_copy, switch: str, type_token: str) -> None:
    import yaml

    from mlops_platform.harness import plan_stack

    path = repo_copy / "Pulumi.exp.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"]["mlops:baseline"][switch] = None if switch == "budget" else False
    path.write_text(yaml.safe_dump(doc))
    plan = plan_stack("exp", root=repo_copy)
    assert not plan.of_type(type_token), f"exp: {type_token} still declared with {switch} off"
    assert plan.of_type("aws:ec2/flowLog:FlowLog"), "switching a central service off must not drop the baseline"


def test_only_the_res_gateway_allows_bucket_management(account_plans) -> None:
    """Deploys run in RES and create buckets in other accounts; workload VPCs only touch objects."""
    for stack, plan in account_plans.items():
        gateway = next(e for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcEndpointType"] == "Gateway")
        sids = {s["Sid"] for s in doc(gateway.inputs["policy"])["Statement"]}
        assert ("PlatformBucketManagement" in sids) == (plan.role == "res"), f"{stack}: {gateway.urn} statements {sids}"
