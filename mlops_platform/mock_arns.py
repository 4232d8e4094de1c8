"""The IDs and ARNs the offline harness gives planned resources: in the format AWS uses for each type.

The access model (``mlops_platform.access``) and the programs' own policies use these ARNs, so a
journey's resource means what it says only if each ARN has AWS's shape: ``function:<name>`` for a
Lambda function, ``stateMachine:<name>`` under ``states`` for a state machine, the pipeline name
right after the account for CodePipeline, ``events`` (not ``cloudwatch``) for buses and rules,
``catalog`` with ``port-``/``prod-`` IDs for Service Catalog, ``sso`` without region or account for
Identity Center permission sets... Types AWS gives no ARN (policies, attachments, settings,
associations) get none. tests/access/test_mock_arns.py checks every type family against
botocore's documented ARN patterns where its service model has one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

#: Type -> prefix of the generated ID (``<prefix>-<17 hex>``), as EC2 and friends name theirs.
HEX_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}
#: Type -> (prefix, length, alphabet) of IDs AWS draws from its own alphabet.
_SHAPED_IDS = {
    "aws:sagemaker/domain:Domain": ("d-", 12, "0123456789abcdefghijklmnopqrstuvwxyz"),
    "aws:servicecatalog/portfolio:Portfolio": ("port-", 13, "0123456789abcdefghijklmnopqrstuvwxyz"),
    "aws:servicecatalog/product:Product": ("prod-", 13, "0123456789abcdefghijklmnopqrstuvwxyz"),
    "aws:servicecatalog/constraint:Constraint": ("cons-", 13, "0123456789abcdefghijklmnopqrstuvwxyz"),
    "aws:apigateway/restApi:RestApi": ("", 10, "0123456789abcdefghijklmnopqrstuvwxyz"),
    "aws:guardduty/detector:Detector": ("", 32, "0123456789abcdef"),
    "aws:ssoadmin/permissionSet:PermissionSet": ("ps-", 16, "0123456789abcdef"),
}
#: Types whose ID is a UUID.
_UUID_IDS = ("aws:kms/key:Key", "aws:codeconnections/connection:Connection", "aws:codestarconnections/connection:Connection")

Arn = Callable[[str, str, str, str, Mapping[str, Any]], str]
"""(region, account, physical name, ID, inputs) -> ARN."""


def _plain(service: str, resource: str) -> Arn:
    """``arn:aws:<service>:<region>:<account>:<resource>`` with ``{name}``/``{id}`` filled in."""
    return lambda region, account, name, rid, inputs: f"arn:aws:{service}:{region}:{account}:{resource.format(name=name, id=rid)}"


def _rule(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    bus = str(inputs.get("eventBusName") or "default")
    bus = bus.rsplit("/", 1)[-1]
    return f"arn:aws:events:{region}:{account}:rule/{name}" if bus == "default" else f"arn:aws:events:{region}:{account}:rule/{bus}/{name}"


def _secret(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    # Secrets Manager appends a hyphen and six random characters.
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{_drawn(name, 6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}"


def _bucket_object(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    return f"arn:aws:s3:::{inputs.get('bucket')}/{inputs.get('key')}"


def _permission_set(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    instance = str(inputs.get("instanceArn", "")).rsplit("/", 1)[-1] or "ssoins-0000000000000000"
    return f"arn:aws:sso:::permissionSet/{instance}/{rid}"


def _user_profile(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:user-profile/{inputs.get('domainId')}/{name}"


def _schedule(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule/{inputs.get('groupName') or 'default'}/{name}"


def _codeartifact_repository(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    return f"arn:aws:codeartifact:{region}:{account}:repository/{inputs.get('domain')}/{inputs.get('repository', name)}"


def _glue_table(region: str, account: str, name: str, rid: str, inputs: Mapping[str, Any]) -> str:
    return f"arn:aws:glue:{region}:{account}:table/{inputs.get('databaseName')}/{name}"


#: Type -> its ARN, for every planned type AWS gives one.
ARNS: dict[str, Arn] = {
    "aws:accessanalyzer/analyzer:Analyzer": _plain("access-analyzer", "analyzer/{name}"),
    "aws:apigateway/restApi:RestApi": lambda region, account, name, rid, inputs: f"arn:aws:apigateway:{region}::/restapis/{rid}",
    "aws:apigateway/stage:Stage": lambda region, account, name, rid, inputs: f"arn:aws:apigateway:{region}::/restapis/{inputs.get('restApi')}/stages/{inputs.get('stageName')}",
    "aws:appautoscaling/target:Target": _plain("application-autoscaling", "scalable-target/{id}"),
    "aws:appautoscaling/policy:Policy": lambda region, account, name, rid, inputs: (
        f"arn:aws:autoscaling:{region}:{account}:scalingPolicy:{uuid.UUID(hex=_digest(account, name, length=32))}:"
        f"resource/{inputs.get('serviceNamespace')}/{inputs.get('resourceId')}:policyName/{name}"
    ),
    "aws:athena/workgroup:Workgroup": _plain("athena", "workgroup/{name}"),
    "aws:budgets/budget:Budget": lambda region, account, name, rid, inputs: f"arn:aws:budgets::{account}:budget/{name}",
    "aws:cloudtrail/trail:Trail": _plain("cloudtrail", "trail/{name}"),
    "aws:cloudwatch/eventBus:EventBus": _plain("events", "event-bus/{name}"),
    "aws:cloudwatch/eventRule:EventRule": _rule,
    "aws:cloudwatch/logGroup:LogGroup": _plain("logs", "log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _plain("cloudwatch", "alarm:{name}"),
    "aws:codeartifact/domain:Domain": lambda region, account, name, rid, inputs: f"arn:aws:codeartifact:{region}:{account}:domain/{inputs.get('domain', name)}",
    "aws:codeartifact/repository:Repository": _codeartifact_repository,
    "aws:codebuild/project:Project": _plain("codebuild", "project/{name}"),
    "aws:codeconnections/connection:Connection": _plain("codeconnections", "connection/{id}"),
    "aws:codestarconnections/connection:Connection": _plain("codestar-connections", "connection/{id}"),
    "aws:codepipeline/pipeline:Pipeline": _plain("codepipeline", "{name}"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _plain("ec2", "security-group/{id}"),
    "aws:ec2/flowLog:FlowLog": _plain("ec2", "vpc-flow-log/{id}"),
    "aws:ec2/routeTable:RouteTable": _plain("ec2", "route-table/{id}"),
    "aws:ec2/securityGroup:SecurityGroup": _plain("ec2", "security-group/{id}"),
    "aws:ec2/subnet:Subnet": _plain("ec2", "subnet/{id}"),
    "aws:ec2/vpc:Vpc": _plain("ec2", "vpc/{id}"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _plain("ec2", "vpc-endpoint/{id}"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _plain("ec2", "security-group-rule/{id}"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _plain("ec2", "security-group-rule/{id}"),
    "aws:ecr/repository:Repository": _plain("ecr", "repository/{name}"),
    "aws:glue/catalogDatabase:CatalogDatabase": _plain("glue", "database/{name}"),
    "aws:glue/catalogTable:CatalogTable": _glue_table,
    "aws:glue/connection:Connection": _plain("glue", "connection/{name}"),
    "aws:glue/job:Job": _plain("glue", "job/{name}"),
    "aws:glue/trigger:Trigger": _plain("glue", "trigger/{name}"),
    "aws:guardduty/detector:Detector": _plain("guardduty", "detector/{id}"),
    "aws:kms/alias:Alias": _plain("kms", "{name}"),
    "aws:kms/key:Key": _plain("kms", "key/{id}"),
    "aws:lambda/function:Function": _plain("lambda", "function:{name}"),
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:s3/bucketObject:BucketObject": _bucket_object,
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _plain("sagemaker", "data-quality-job-definition/{name}"),
    "aws:sagemaker/domain:Domain": _plain("sagemaker", "domain/{id}"),
    "aws:sagemaker/endpoint:Endpoint": _plain("sagemaker", "endpoint/{name}"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _plain("sagemaker", "endpoint-config/{name}"),
    "aws:sagemaker/model:Model": _plain("sagemaker", "model/{name}"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _plain("sagemaker", "model-package-group/{name}"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _plain("sagemaker", "monitoring-schedule/{name}"),
    "aws:sagemaker/pipeline:Pipeline": _plain("sagemaker", "pipeline/{name}"),
    "aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig": _plain("sagemaker", "studio-lifecycle-config/{name}"),
    "aws:sagemaker/userProfile:UserProfile": _user_profile,
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:securityhub/account:Account": _plain("securityhub", "hub/default"),
    "aws:servicecatalog/portfolio:Portfolio": _plain("catalog", "portfolio/{id}"),
    "aws:servicecatalog/product:Product": _plain("catalog", "product/{id}"),
    "aws:sfn/stateMachine:StateMachine": _plain("states", "stateMachine:{name}"),
    "aws:sns/topic:Topic": _plain("sns", "{name}"),
    "aws:sns/topicSubscription:TopicSubscription": lambda region, account, name, rid, inputs: f"{inputs.get('topic')}:{uuid.UUID(hex=_digest(account, name, length=32))}",
    "aws:sqs/queue:Queue": _plain("sqs", "{name}"),
    "aws:ssoadmin/permissionSet:PermissionSet": _permission_set,
}


#: Planned types AWS gives no ARN of their own (policies, attachments, settings, associations...).
NO_ARN = frozenset({
    "aws:apigateway/account:Account", "aws:apigateway/deployment:Deployment", "aws:apigateway/integration:Integration",
    "aws:apigateway/method:Method", "aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/resource:Resource",
    "aws:apigateway/restApiPolicy:RestApiPolicy", "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorder:Recorder",
    "aws:cfg/recorderStatus:RecorderStatus", "aws:cloudwatch/eventBusPolicy:EventBusPolicy", "aws:cloudwatch/eventTarget:EventTarget",
    "aws:ebs/defaultKmsKey:DefaultKmsKey", "aws:ebs/encryptionByDefault:EncryptionByDefault",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "aws:glue/securityConfiguration:SecurityConfiguration",
    "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:inspector2/enabler:Enabler",
    "aws:lakeformation/dataCellsFilter:DataCellsFilter", "aws:lakeformation/dataLakeSettings:DataLakeSettings",
    "aws:lakeformation/permissions:Permissions", "aws:lakeformation/resource:Resource",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "aws:lambda/permission:Permission",
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketNotification:BucketNotification",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketVersioning:BucketVersioning",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
    "aws:sagemaker/servicecatalogPortfolioStatus:ServicecatalogPortfolioStatus",
    "aws:securityhub/standardsSubscription:StandardsSubscription", "aws:servicecatalog/constraint:Constraint",
    "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation",
    "aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation", "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy", "aws:ssoadmin/accountAssignment:AccountAssignment",
    "aws:ssoadmin/instanceAccessControlAttributes:InstanceAccessControlAttributes",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment", "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
})


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _drawn(seed: str, length: int, alphabet: str) -> str:
    value = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    out = []
    for _ in range(length):
        value, index = divmod(value, len(alphabet))
        out.append(alphabet[index])
    return "".join(out)


def mock_id(type_token: str, name: str, physical: str, account: str) -> str:
    """The ID AWS would return: EC2-style hex IDs, AWS's own shapes, UUIDs, else the physical name."""
    if type_token in HEX_ID_PREFIX:
        return f"{HEX_ID_PREFIX[type_token]}-{_digest(account, type_token, name)}"
    if type_token in _SHAPED_IDS:
        prefix, length, alphabet = _SHAPED_IDS[type_token]
        return prefix + _drawn(f"{account}/{type_token}/{name}", length, alphabet)
    if type_token in _UUID_IDS:
        return str(uuid.UUID(hex=_digest(account, name, length=32)))
    return physical


def mock_arn(type_token: str, physical: str, resource_id: str, inputs: Mapping[str, Any], account: str, region: str) -> str | None:
    """The ARN AWS would return for this type, or None where AWS gives the type none."""
    if type_token.startswith("aws:s3/bucket:"):
        return f"arn:aws:s3:::{physical}"
    if type_token.startswith("aws:iam/") and type_token.rpartition(":")[2] in ("Role", "Policy", "User", "Group", "InstanceProfile"):
        kind = {"InstanceProfile": "instance-profile"}.get(type_token.rpartition(":")[2], type_token.rpartition(":")[2].lower())
        path = str(inputs.get("path") or "/")
        return f"arn:aws:iam::{account}:{kind}{path}{physical}"
    rule = ARNS.get(type_token)
    if rule is not None:
        return rule(region, account, physical, resource_id, inputs)
    if type_token in NO_ARN:
        return None
    # A type not classified yet (tests/access/test_mock_arns.py asks for every planned one).
    module, _, resource = type_token.partition(":")[2].partition("/")
    return f"arn:aws:{module}:{region}:{account}:{resource.partition(':')[0]}/{resource_id}"
