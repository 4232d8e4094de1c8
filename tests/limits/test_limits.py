"""AWS limits on planned values: each limit kind shown failing on an injected fault, the default config passing.

Records are built by hand (the checker reads only ``harness.ResourceRecord``); the expected limits are
AWS's numbers written here, never read from the code under test.
"""

from __future__ import annotations

import base64
import json

import pytest

from mlops_platform.harness import UNKNOWN, ResourceRecord
from mlops_platform.limits import check_plans, check_records
from mlops_platform.limits.api_models import MAPPING, member_shape

PROVIDER = "urn:pulumi:t::p::pulumi:providers:aws::aws"


def record(type_token: str, name: str, inputs: dict, *, deps: dict | None = None) -> ResourceRecord:
    return ResourceRecord(urn=f"urn:pulumi:t::p::{type_token}::{name}", type=type_token, name=name, custom=True,
                          parent=None, provider=f"{PROVIDER}::aws-provider", inputs=inputs,
                          property_dependencies=deps or {})


def policy(padding: int) -> str:
    """An IAM document whose size without white space is known: padding adds that many characters."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": "arn:aws:s3:::b/" + "x" * padding}]})


def lines(records: list[ResourceRecord]) -> list[str]:
    return [v.line() for v in check_records("exp", records).violations]


def test_every_mapped_field_is_an_input_member_of_the_installed_botocore_model() -> None:
    missing = []
    for type_token, apis in MAPPING.items():
        for api in apis:
            for prop, member in api.fields.items():
                try:
                    member_shape(api.service, api.operation, member)
                except KeyError as exc:
                    missing.append(f"{type_token}.{prop}: {exc}")
    assert not missing, missing


def test_every_mapped_input_is_a_property_of_the_pulumi_aws_type() -> None:
    """A misspelt input would check nothing, silently: each mapped path's first key must be an Args field."""
    import importlib
    import inspect
    import re

    missing = []
    for type_token, apis in MAPPING.items():
        module, _, resource = type_token.split(":", 1)[1].partition(":")
        package = importlib.import_module(f"pulumi_aws.{module.split('/')[0]}".replace(".lambda", ".lambda_"))
        args = getattr(package, f"{resource}InitArgs", None) or getattr(package, f"{resource}Args")
        fields = set(inspect.signature(args.__init__).parameters)
        for api in apis:
            for prop in api.fields:
                snake = re.sub(r"(?<!^)(?=[A-Z])", "_", prop.split(".")[0]).lower()
                if snake not in fields and f"{snake}_" not in fields:
                    missing.append(f"{type_token}: {prop}")
    assert not missing, missing


def test_studio_lifecycle_content_over_16_kib_fails_with_one_line_naming_it() -> None:
    content = base64.b64encode(b"#" * 12_400).decode()  # 16,536 base64 characters
    found = lines([record("aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig", "exp-studio-carol-lifecycle",
                          {"studioLifecycleConfigContent": content})])
    assert found == [
        "limit: stack exp, resource exp-studio-carol-lifecycle (aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig),"
        " studioLifecycleConfigContent: 16,536 characters, limit 16,384"
        " (botocore sagemaker CreateStudioLifecycleConfig StudioLifecycleConfigContent)"], found


def test_model_length_limit_fails_a_role_name_over_64_characters() -> None:
    found = lines([record("aws:iam/role:Role", "r", {"name": "r" * 65})])
    assert len(found) == 1 and "name: 65 characters, limit 64" in found[0], found


def test_model_pattern_fails_a_user_profile_name_with_an_underscore() -> None:
    found = lines([record("aws:sagemaker/userProfile:UserProfile", "p", {"userProfileName": "carol_x"})])
    assert len(found) == 1 and "userProfileName: 'carol_x', limit pattern" in found[0], found


def test_model_enum_fails_an_unknown_instance_type() -> None:
    found = lines([record("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "c",
                          {"productionVariants": [{"variantName": "AllTraffic", "instanceType": "ml.m5.huge"}]})])
    assert len(found) == 1 and "productionVariants.instanceType: 'ml.m5.huge', limit one of" in found[0], found


def test_model_integer_range_fails_a_lambda_memory_size_below_128_mb() -> None:
    found = lines([record("aws:lambda/function:Function", "f", {"memorySize": 64})])
    assert len(found) == 1 and "memorySize: 64, limit at least 128" in found[0], found


def test_managed_policy_over_6144_characters_without_white_space_fails() -> None:
    base = len(policy(0).replace(" ", ""))
    found = lines([record("aws:iam/policy:Policy", "p", {"policy": policy(6_145 - base)})])
    assert len(found) == 1 and "policy: 6,145 characters without white space, limit 6,144" in found[0], found


def test_managed_policy_white_space_is_not_counted() -> None:
    base = len(policy(0).replace(" ", ""))
    padded = policy(6_144 - base).replace(",", ",          ")
    assert lines([record("aws:iam/policy:Policy", "p", {"policy": padded})]) == [], "white space counted"


def test_inline_policies_of_one_role_over_10240_characters_in_aggregate_fail() -> None:
    role = record("aws:iam/role:Role", "role", {"name": "r1"})
    each = policy(5_200)
    found = lines([role] + [record("aws:iam/rolePolicy:RolePolicy", f"p{i}", {"role": "r1", "policy": each},
                                   deps={"role": [role.urn]}) for i in range(2)])
    assert len(found) == 1 and "role (aws:iam/role:Role), inline policies (aggregate)" in found[0], found
    assert "limit 10,240" in found[0], found


def test_trust_policy_over_2048_characters_fails() -> None:
    found = lines([record("aws:iam/role:Role", "r", {"name": "r", "assumeRolePolicy": policy(2_100)})])
    assert len(found) == 1 and "assumeRolePolicy" in found[0] and "limit 2,048" in found[0], found


def test_eleven_managed_policies_on_one_role_fail() -> None:
    role = record("aws:iam/role:Role", "role", {"name": "r1"})
    attachments = [record("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"a{i}",
                          {"role": "r1", "policyArn": f"arn:aws:iam::aws:policy/P{i}"}) for i in range(11)]
    found = lines([role, *attachments])
    assert len(found) == 1 and "managed policies attached: 11 policies, limit 10" in found[0], found


def test_fifty_one_tags_with_the_providers_default_tags_fail() -> None:
    provider = ResourceRecord(urn=PROVIDER, type="pulumi:providers:aws", name="aws", custom=True, parent=None,
                              provider=None, inputs={"defaultTags": json.dumps({"tags": {"a": "1", "b": "2"}})})
    own = {f"k{i}": "v" for i in range(49)}
    found = lines([provider, record("aws:sns/topic:Topic", "t", {"name": "t", "tags": own})])
    assert len(found) == 1 and "tags (with the provider's default tags): 51 tags, limit 50" in found[0], found


def test_tag_key_over_128_and_value_over_256_characters_fail() -> None:
    found = lines([record("aws:sns/topic:Topic", "t", {"name": "t", "tags": {"k" * 129: "v", "ok": "v" * 257}})])
    assert len(found) == 2 and "limit 128" in found[0] and "limit 256" in found[1], found


def test_sixty_one_inbound_rules_on_one_security_group_fail_counting_each_cidr() -> None:
    ingress = [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": [f"10.0.{i}.0/24" for i in range(31)]},
               {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [f"10.1.{i}.0/24" for i in range(30)]}]
    found = lines([record("aws:ec2/securityGroup:SecurityGroup", "sg", {"ingress": ingress, "egress": []})])
    assert len(found) == 1 and "ingress rules: 61 rules, limit 60" in found[0], found


def test_sixty_one_standalone_outbound_rules_fail() -> None:
    group = record("aws:ec2/securityGroup:SecurityGroup", "sg", {"egress": []})
    rules = [record("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", f"e{i}",
                    {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                     "cidrIpv4": f"10.0.{i}.0/24"}, deps={"securityGroupId": [group.urn]}) for i in range(61)]
    found = lines([group, *rules])
    assert len(found) == 1 and "sg (aws:ec2/securityGroup:SecurityGroup), egress rules: 61 rules" in found[0], found


@pytest.mark.parametrize(("type_token", "size", "limit"), [
    ("aws:kms/key:Key", 32_769, "32,768"),
    ("aws:s3/bucketPolicy:BucketPolicy", 20_481, "20,480"),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", 20_481, "20,480"),
])
def test_resource_policy_one_over_its_size_limit_fails(type_token: str, size: int, limit: str) -> None:
    document = policy(0)
    document = document[:-4] + "x" * (size - len(document)) + document[-4:]
    found = [line for line in lines([record(type_token, "res", {"policy": document})]) if f"limit {limit} (" in line]
    assert len(found) == 1, lines([record(type_token, "res", {"policy": document})])


def test_lambda_environment_over_4_kib_fails() -> None:
    found = lines([record("aws:lambda/function:Function", "f", {"environment": {"variables": {"BIG": "x" * 4_094}}})])
    assert len(found) == 1 and "environment.variables: 4,097 bytes, limit 4,096" in found[0], found


def test_sagemaker_pipeline_definition_over_1_mib_fails() -> None:
    found = lines([record("aws:sagemaker/pipeline:Pipeline", "p", {"pipelineDefinition": "x" * 1_048_577})])
    assert len(found) == 1 and "pipelineDefinition: 1,048,577 characters, limit 1,048,576" in found[0], found


def test_codepipeline_with_51_stages_and_51_actions_in_a_stage_fails() -> None:
    action = {"name": "a", "category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    stages = [{"name": f"s{i}", "actions": [action]} for i in range(50)] + [{"name": "big", "actions": [action] * 51}]
    found = [line for line in lines([record("aws:codepipeline/pipeline:Pipeline", "cp", {"stages": stages})])
             if "CodePipeline" in line]
    assert any("stages: 51 stages, limit 50" in line for line in found), found
    assert any("stage 'big' actions: 51 actions, limit 50" in line for line in found), found


def test_bucket_name_with_capitals_fails_the_naming_rules() -> None:
    found = lines([record("aws:s3/bucket:Bucket", "b", {"bucket": "Mlops-Data"})])
    assert any("S3 bucket naming rules" in line for line in found), found


def test_unknown_values_are_skipped_and_counted_never_passed() -> None:
    report = check_records("exp", [record("aws:iam/policy:Policy", "p", {"name": UNKNOWN, "policy": UNKNOWN})])
    assert report.violations == [] and report.unknown >= 2, (report.unknown, report.violations)


def test_unmapped_types_are_counted_as_not_checked() -> None:
    report = check_records("exp", [record("aws:example/thing:Thing", "t", {"name": "x" * 9_999})])
    assert report.not_checked == {"aws:example/thing:Thing": 1}, report.not_checked
    assert "1 resources of 1 types not checked" in report.summary(), report.summary()


def test_the_default_config_is_within_every_limit(platform_plans, preview_plans) -> None:
    for plans in (platform_plans, preview_plans):
        report = check_plans(plans)
        assert report.violations == [], [v.line() for v in report.violations]
        assert report.checked > 1_000, report.summary()


def test_plan_of_a_scientist_in_many_projects_fails_with_one_limit_line_not_a_traceback(repo_copy) -> None:
    """What grows with a person's projects (the project-access policies attached to their role: about
    five projects per policy) fails the plan in one line naming the stack, resource, field, size and
    limit; the program itself does not fail. Seventy-two projects need more than eight, beside two guardrails."""
    from ruamel.yaml import YAML
    from typer.testing import CliRunner

    from mlops_platform.cli import app

    yaml = YAML()
    org = yaml.load((repo_copy / "organization.yaml").read_text())
    template = dict(org["modelProjects"][0])
    extra = [f"press-line-{i:02d}" for i in range(70)]
    for name in extra:
        org["modelProjects"].append({**template, "name": name, "serving": {}})
    for person in org["dataScientists"]:
        if person["name"] == "carol":
            person["projects"] = [*person["projects"], *extra]
    with (repo_copy / "organization.yaml").open("w") as handle:
        yaml.dump(org, handle)
    result = CliRunner().invoke(app, ["-C", str(repo_copy), "plan", "-s", "exp", "--summary"])
    assert result.exit_code == 1, result.output
    limit_lines = [line for line in result.stderr.splitlines() if line.startswith("error: limit: ")]
    assert limit_lines and all(line.startswith("error: limit: stack exp, resource exp-") and "carol" in line
                               and ", limit " in line for line in limit_lines), result.stderr
    assert "Traceback" not in result.output and "program failed" not in result.output, result.output
