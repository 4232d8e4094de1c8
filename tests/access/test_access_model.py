"""The access model on small hand-built plans (no Pulumi): what each principal and resource carries."""

from __future__ import annotations

import json

import pytest

from mlops_platform.access.model import ModelError, PlannedResource, aws_managed_policy, build_model, template_resources

ACCOUNT, REGION = "111111111111", "eu-central-1"
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def record(type_: str, name: str, inputs: dict, arn: str = "", id_: str = "") -> PlannedResource:
    return PlannedResource("exp", ACCOUNT, REGION, type_, name, inputs, arn, id_)


def role(name: str = "r", **inputs) -> PlannedResource:
    return record("aws:iam/role:Role", f"{name}-res", {"name": name, "assumeRolePolicy": json.dumps(TRUST), **inputs}, f"arn:aws:iam::{ACCOUNT}:role/{name}", name)


def test_a_roles_inline_policy_resource_is_one_of_its_identity_policies() -> None:
    model = build_model([role(), record("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "name": "inline", "policy": json.dumps(ALLOW_S3)})])
    assert [p.document for p in model.principals[f"arn:aws:iam::{ACCOUNT}:role/r"].identity_policies] == [ALLOW_S3], "role r: its RolePolicy must be an identity policy"


def test_an_attached_customer_policy_is_read_from_the_plan() -> None:
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/guard"
    model = build_model([
        role(),
        record("aws:iam/policy:Policy", "guard", {"name": "guard", "policy": ALLOW_S3}, policy_arn),
        record("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {"role": "r", "policyArn": policy_arn}),
    ])
    assert [p.name for p in model.principals[f"arn:aws:iam::{ACCOUNT}:role/r"].identity_policies] == [policy_arn], "role r: the attached policy is missing"


def test_an_attached_aws_managed_policy_is_the_vendored_document() -> None:
    arn = "arn:aws:iam::aws:policy/SecurityAudit"
    model = build_model([role(), record("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {"role": "r", "policyArn": arn})])
    (policy,) = model.principals[f"arn:aws:iam::{ACCOUNT}:role/r"].identity_policies
    assert policy.document == aws_managed_policy(arn).document and "(v" in policy.name, f"role r: {arn} must come from aws_managed/ with its version id"


def test_an_aws_managed_policy_that_is_not_vendored_is_an_error() -> None:
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    with pytest.raises(ModelError, match="not vendored"):
        build_model([role(), record("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {"role": "r", "policyArn": arn})])


def test_the_boundary_is_kept_apart_from_the_identity_policies() -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/ceiling"
    model = build_model([role(permissionsBoundary=boundary), record("aws:iam/policy:Policy", "ceiling", {"policy": ALLOW_S3}, boundary)])
    principal = model.principals[f"arn:aws:iam::{ACCOUNT}:role/r"]
    assert principal.boundary is not None and principal.boundary.name == boundary and not principal.identity_policies, "role r: the boundary is not an identity policy"


def test_a_policy_on_a_role_the_plan_lacks_is_an_error() -> None:
    with pytest.raises(ModelError, match="not a planned role"):
        build_model([record("aws:iam/rolePolicy:RolePolicy", "p", {"role": "ghost", "policy": ALLOW_S3})])


def test_an_objects_policy_is_its_buckets() -> None:
    model = build_model([record("aws:s3/bucketPolicy:BucketPolicy", "bp", {"bucket": "b", "policy": ALLOW_S3})])
    holder = model.resource_for("arn:aws:s3:::b/some/key")
    assert holder is not None and holder.arn == "arn:aws:s3:::b", "an object of bucket b must be governed by b's policy"


def test_a_model_versions_policy_is_its_groups() -> None:
    model = build_model([record("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "g", {"modelPackageGroupName": "grp", "resourcePolicy": json.dumps(ALLOW_S3)})])
    holder = model.resource_for(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/grp/3")
    assert holder is not None and holder.kind == "model-package-group", "version 3 of grp must be governed by grp's policy"


def test_a_lambda_permission_becomes_a_statement_of_the_functions_policy() -> None:
    model = build_model([record("aws:lambda/permission:Permission", "perm", {"function": "fn", "principal": "events.amazonaws.com", "action": "lambda:InvokeFunction", "sourceArn": "arn:rule"})])
    holder = model.resource_for(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn")
    assert holder is not None and holder.policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}, "fn's permission must allow the events service"


def test_an_endpoint_without_a_policy_gets_the_full_access_default() -> None:
    model = build_model([record("aws:ec2/vpcEndpoint:VpcEndpoint", "e", {"serviceName": "com.amazonaws.eu-central-1.s3"}, id_="vpce-1")])
    assert model.endpoints["vpce-1"].policy["Statement"][0]["Action"] == "*", "an endpoint without a policy allows everything (AWS's default)"


def test_an_endpoint_policys_aws_star_principal_reads_as_star() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}]}
    model = build_model([record("aws:ec2/vpcEndpoint:VpcEndpoint", "e", {"policy": json.dumps(policy)}, id_="vpce-1")])
    assert model.endpoints["vpce-1"].policy["Statement"][0]["Principal"] == "*", "the engine accepts only the short form of every principal"


def test_a_template_role_is_resolved_with_the_launch_parameters() -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"ProjectName": {"Type": "String"}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": {"Fn::Sub": "sc-${ProjectName}-run"}, "Path": "/sc/",
                "AssumeRolePolicyDocument": TRUST,
                "Policies": [{"PolicyName": "run", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:aws:s3:::b/${ProjectName}/*"}}]}}],
            }},
        },
    }
    (resolved,) = template_resources(template, {"ProjectName": "demo"}, stack="exp", account=ACCOUNT, region=REGION, source="t")
    assert resolved.arn == f"arn:aws:iam::{ACCOUNT}:role/sc/sc-demo-run", resolved.arn
    assert resolved.inputs["inlinePolicies"][0]["policy"]["Statement"][0]["Resource"] == "arn:aws:s3:::b/demo/*", "Fn::Sub must use the launch parameter"


def test_a_template_parameter_without_a_value_is_an_error() -> None:
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {"ProjectName": {"Type": "String"}}, "Resources": {}}
    with pytest.raises(ModelError, match="ProjectName needs a value"):
        template_resources(template, {}, stack="exp", account=ACCOUNT, region=REGION, source="t")
