"""Benchmark: the offline policy gate on a `pulumi preview --json` of 10,000 mixed resources.

Generates the preview (buckets with their encryption/public-access/policy/logging resources, KMS
keys, IAM roles and policies with distinct documents, security groups, subnets, endpoints, log
groups, Lambda functions, SageMaker models, endpoint configs and pipelines; some inputs unknown as in
a real preview) for the PROD stack (so its role config applies), then times `mlops-platform check --preview-json FILE --format json` end to end in a
fresh process, as CI runs it. Target: <= 5 s on a 2-core machine.

    .venv/bin/python benchmarks/gate_preview_10k.py [--resources N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
ACCOUNT = "111111111111"
REGION = "eu-central-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/bench"


def _bucket_group(i: int) -> list[tuple[str, str, dict[str, Any], dict[str, list[str]]]]:
    name = f"bench-bucket-{i}"
    bucket = ("aws:s3/bucket:Bucket", name, {"bucket": name}, {})
    return [
        bucket,
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{name}-sse",
            {"bucket": name, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY if i % 3 else UNKNOWN}, "bucketKeyEnabled": True}]},
            {"bucket": [name]},
        ),
        (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{name}-pab",
            {"bucket": name, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
            {"bucket": [name]},
        ),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {
                "bucket": name,
                "policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        ],
                    }
                ),
            },
            {"bucket": [name]},
        ),
        ("aws:s3/bucketLogging:BucketLogging", f"{name}-logging", {"bucket": name, "targetBucket": "bench-access-logs"}, {"bucket": [name]}),
    ]


def _single(i: int) -> list[tuple[str, str, dict[str, Any], dict[str, list[str]]]]:
    kind = i % 10
    n = f"bench-{kind}-{i}"
    if kind == 0:
        return [("aws:kms/key:Key", n, {"enableKeyRotation": True, "deletionWindowInDays": 30, "description": n}, {})]
    if kind == 1:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}
        inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::bench-bucket-{i}/*"}]}
        return [("aws:iam/role:Role", n, {"name": n, "assumeRolePolicy": json.dumps(trust), "inlinePolicies": [{"name": "data", "policy": json.dumps(inline)}]}, {})]
    if kind == 2:
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{i}"}, {"Effect": "Allow", "Action": "sagemaker:DescribeModelPackage", "Resource": "*"}]}
        return [("aws:iam/policy:Policy", n, {"name": n, "policy": json.dumps(doc)}, {})]
    if kind == 3:
        return [("aws:ec2/securityGroup:SecurityGroup", n, {"vpcId": UNKNOWN, "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"]}], "egress": []}, {})]
    if kind == 4:
        return [("aws:ec2/subnet:Subnet", n, {"vpcId": UNKNOWN, "cidrBlock": f"10.{i % 250}.0.0/24"}, {})]
    if kind == 5:
        return [("aws:ec2/vpcEndpoint:VpcEndpoint", n, {"vpcId": UNKNOWN, "serviceName": f"com.amazonaws.{REGION}.sts", "vpcEndpointType": "Interface", "privateDnsEnabled": True}, {})]
    if kind == 6:
        return [("aws:cloudwatch/logGroup:LogGroup", n, {"name": f"/bench/{n}", "retentionInDays": 365, "kmsKeyId": UNKNOWN}, {})]
    if kind == 7:
        return [("aws:lambda/function:Function", n, {"role": UNKNOWN, "kmsKeyArn": KEY, "environment": {"variables": {"A": "1"}}, "vpcConfig": {"subnetIds": ["subnet-a"], "securityGroupIds": ["sg-a"]}}, {})]
    if kind == 8:
        return [
            (
                "aws:sagemaker/model:Model",
                n,
                {
                    "executionRoleArn": UNKNOWN,
                    "primaryContainer": {"image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/model:{i}"},
                    "vpcConfig": {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-a"]},
                    "enableNetworkIsolation": True,
                },
                {},
            )
        ]
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"}],
        "Steps": [
            {
                "Name": "Train",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {"TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/train:{i}"},
                    "ResourceConfig": {"InstanceType": {"Get": "Parameters.InstanceType"}, "VolumeKmsKeyId": KEY},
                    "OutputDataConfig": {"KmsKeyId": KEY},
                    "VpcConfig": {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-a"]},
                    "EnableNetworkIsolation": True,
                },
            }
        ],
    }
    return [("aws:sagemaker/pipeline:Pipeline", n, {"pipelineName": n, "roleArn": UNKNOWN, "pipelineDefinition": json.dumps(definition)}, {})]


def generate(count: int, stack: str = "prod") -> dict[str, Any]:
    """A preview document with ``count`` resources (plus the stack itself)."""
    project = "mlops-platform"

    def urn(type_token: str, name: str) -> str:
        return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"

    items: list[tuple[str, str, dict[str, Any], dict[str, list[str]]]] = []
    i = 0
    while len(items) < count:
        items += _bucket_group(i) if i % 4 == 0 else _single(i)
        i += 1
    items = items[:count]
    names = {name: urn(t, name) for t, name, _, _ in items}
    steps = [{"op": "same", "urn": urn("pulumi:pulumi:Stack", f"{project}-{stack}"), "newState": {"type": "pulumi:pulumi:Stack", "urn": urn("pulumi:pulumi:Stack", f"{project}-{stack}"), "inputs": {}, "custom": False}}]
    for type_token, name, inputs, deps in items:
        state = {
            "type": type_token,
            "urn": names[name],
            "custom": True,
            "inputs": inputs,
            "propertyDependencies": {k: [names[d] for d in v if d in names] for k, v in deps.items()},
        }
        steps.append({"op": "create", "urn": names[name], "newState": state})
    return {"config": {}, "steps": steps, "changeSummary": {"create": count}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="also write the generated preview JSON here")
    args = parser.parse_args()

    document = generate(args.resources)
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "preview.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        command = [sys.executable, "-c", "from mlops_platform.cli import main; main()", "check", "--preview-json", str(path), "--format", "json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode not in (0, 1):
        print(result.stderr, file=sys.stderr)
        return 2
    summary = json.loads(result.stdout)["summary"]
    print(
        f"gate on {summary['resourcesEvaluated']} resources: {elapsed:.2f} s wall clock, {cpu:.2f} s CPU "
        f"({summary['policiesApplied']} policies applied, {summary['mandatory']} mandatory violations, "
        f"{len(summary['notEvaluated'])} not evaluated; exit {result.returncode})"
    )
    return 0 if elapsed <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
