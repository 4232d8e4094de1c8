"""The harness's IDs and ARNs have the format AWS uses, checked against botocore's documented patterns.

Journey resources and the programs' own policies are built from these ARNs: an ARN in a format AWS
never returns (``function/<name>``, ``arn:aws:cloudwatch:...:event-bus/...``) would make a journey
check a resource that cannot exist. Each type family is matched against the pattern an AWS service
model documents for that kind of ARN (the service's own shape, else another service's shape that
takes that ARN as input).
"""

from __future__ import annotations

import re
from functools import cache

import botocore.session
import pytest

from mlops_platform import mock_arns
from mlops_platform.harness import fake_state

ACCOUNT, REGION = "222222222222", "eu-central-1"
INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"

#: (type, inputs, botocore service, shape whose pattern documents that ARN).
CASES = [
    ("aws:sagemaker/modelPackageGroup:ModelPackageGroup", {"modelPackageGroupName": "weld-gun-pm"}, "sagemaker", "ModelPackageGroupArn"),
    ("aws:sagemaker/endpoint:Endpoint", {"name": "mlops-weld-gun-pm-dev"}, "sagemaker", "EndpointArn"),
    ("aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"name": "mlops-weld-gun-pm-dev-config"}, "sagemaker", "EndpointConfigArn"),
    ("aws:sagemaker/model:Model", {"name": "mlops-weld-gun-pm-dev"}, "sagemaker", "ModelArn"),
    ("aws:sagemaker/pipeline:Pipeline", {"pipelineName": "mlops-weld-gun-pm-build"}, "sagemaker", "PipelineArn"),
    ("aws:sagemaker/domain:Domain", {"domainName": "mlops-studio"}, "sagemaker", "DomainArn"),
    ("aws:sagemaker/userProfile:UserProfile", {"userProfileName": "bob", "domainId": "d-0123456789ab"}, "sagemaker", "UserProfileArn"),
    ("aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig", {"studioLifecycleConfigName": "x"}, "sagemaker", "StudioLifecycleConfigArn"),
    ("aws:iam/role:Role", {"name": "mlops-user-bob"}, "sagemaker", "RoleArn"),
    ("aws:iam/role:Role", {"name": "mlops-release-sc-demo", "path": "/mlops-product/"}, "sagemaker", "RoleArn"),
    ("aws:lambda/function:Function", {"name": "mlops-model-trigger"}, "lambda", "FunctionArn"),
    ("aws:cloudwatch/eventBus:EventBus", {"name": "mlops-models"}, "events", "EventBusArn"),
    ("aws:ssoadmin/permissionSet:PermissionSet", {"name": "mlops-lead", "instanceArn": INSTANCE}, "sso-admin", "PermissionSetArn"),
    ("aws:codepipeline/pipeline:Pipeline", {"name": "mlops-deploy-weld-gun-pm"}, "codepipeline", "PipelineArn"),
    ("aws:scheduler/schedule:Schedule", {"name": "mlops-weld-gun-pm-build-retrain"}, "scheduler", "ScheduleArn"),
    ("aws:codeconnections/connection:Connection", {"name": "mlops-git"}, "codeconnections", "ConnectionArn"),
    ("aws:appautoscaling/target:Target", {"resourceId": "endpoint/x/variant/AllTraffic"}, "application-autoscaling", "AmazonResourceName"),
    ("aws:accessanalyzer/analyzer:Analyzer", {"analyzerName": "mlops"}, "accessanalyzer", "AnalyzerArn"),
    ("aws:cloudtrail/trail:Trail", {"name": "mlops-trail"}, "accessanalyzer", "CloudTrailArn"),
    ("aws:kms/key:Key", {}, "apprunner", "KmsKeyArn"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "mlops-weld-gun-pm-dev-5xx-errors"}, "resiliencehubv2", "CloudWatchAlarmArn"),
    ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/sagemaker/Endpoints/mlops-weld-gun-pm-dev"}, "datasync", "LogGroupArn"),
    ("aws:secretsmanager/secret:Secret", {"name": "mlops/data/pseudonymisation-hmac-key"}, "ec2", "SecretArn"),
    ("aws:s3/bucket:Bucket", {"bucket": "mlops-artifacts-222222222222-eu-central-1"}, "appstream", "S3BucketArn"),
    ("aws:sqs/queue:Queue", {"name": "mlops-model-trigger-failures"}, "scheduler", "DeadLetterConfigArnString"),
    ("aws:sns/topic:Topic", {"name": "mlops-release-approvals"}, "sagemaker", "NotificationTopicArn"),
    ("aws:guardduty/detector:Detector", {}, "guardduty", "GuardDutyArn"),
    ("aws:ecr/repository:Repository", {"name": "mlops/inference"}, "inspector2", "ClusterForImageFilterCriteriaResourceIdString"),
]
#: IDs with a shape AWS gives them: (type, the shape).
ID_CASES = [
    ("aws:servicecatalog/portfolio:Portfolio", r"port-[a-z0-9]{13}"),
    ("aws:servicecatalog/product:Product", r"prod-[a-z0-9]{13}"),
    ("aws:sagemaker/domain:Domain", r"d-[a-z0-9]{12}"),
    ("aws:apigateway/restApi:RestApi", r"[a-z0-9]{10}"),
]
#: ARNs in formats AWS never returns: the patterns must refuse each (the check can fail).
WRONG = [
    ("lambda", "FunctionArn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function/mlops-model-trigger"),
    ("sagemaker", "EndpointConfigArn", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-configuration/x"),
    ("events", "EventBusArn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:event-bus/mlops-models"),
    ("sso-admin", "PermissionSetArn", f"arn:aws:ssoadmin:{REGION}:{ACCOUNT}:permission-set/mlops-lead"),
    ("resiliencehubv2", "CloudWatchAlarmArn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:metric-alarm/x"),
]


@cache
def _pattern(service: str, shape: str) -> re.Pattern[str]:
    model = botocore.session.get_session().get_service_model(service)
    pattern = model.shape_for(shape).metadata.get("pattern")
    assert pattern, f"botocore {service} {shape} documents no pattern"
    return re.compile(pattern)


@pytest.mark.parametrize(("type_token", "inputs", "service", "shape"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_the_mock_arn_has_the_format_botocore_documents(type_token, inputs, service, shape) -> None:
    _, computed = fake_state(type_token, "r", inputs, ACCOUNT, REGION)
    arn = computed.get("arn", "")
    assert _pattern(service, shape).fullmatch(arn), f"{type_token}: mock ARN {arn!r} does not match botocore {service} {shape}"


@pytest.mark.parametrize(("type_token", "shape"), ID_CASES, ids=[c[0] for c in ID_CASES])
def test_the_mock_id_has_the_shape_aws_gives_it(type_token, shape) -> None:
    resource_id, _ = fake_state(type_token, "r", {"name": "Some Name"}, ACCOUNT, REGION)
    assert re.fullmatch(shape, resource_id), f"{type_token}: mock ID {resource_id!r} is not {shape}"


@pytest.mark.parametrize(("service", "shape", "arn"), WRONG, ids=[w[1] for w in WRONG])
def test_the_patterns_refuse_formats_aws_never_returns(service, shape, arn) -> None:
    assert not _pattern(service, shape).fullmatch(arn), f"botocore {service} {shape} accepts {arn!r}"


def test_a_type_without_an_arn_gets_none() -> None:
    _, computed = fake_state("aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "b"}, ACCOUNT, REGION)
    assert "arn" not in computed, f"a bucket policy has no ARN in AWS, the mock gave {computed.get('arn')!r}"


def test_every_planned_type_is_classified(platform_model) -> None:
    planned = {r.type for r in platform_model.records.values() if not r.name.startswith(("exp:", "res:"))}
    unclassified = sorted(planned - set(mock_arns.ARNS) - mock_arns.NO_ARN - {"aws:iam/role:Role", "aws:iam/policy:Policy", "aws:s3/bucket:Bucket"})
    assert not unclassified, f"planned types with no ARN rule in mlops_platform/mock_arns.py (ARNS or NO_ARN): {unclassified}"
