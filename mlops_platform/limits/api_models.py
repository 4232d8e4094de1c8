"""Planned inputs against the constraints of AWS's own service models (botocore's ``service-2.json``).

Each planned resource type is mapped, in :data:`MAPPING` (a small, explicit, reviewed table), to the API
operation(s) the provider calls to create it and, per input property, the operation's input member that
receives the value. The installed botocore's model of that member then says what AWS accepts: string
length (min/max), pattern, enum; list and map sizes; integer ranges. The models are AWS's, not ours: a
check that can only agree with the code it checks proves nothing.

Paths are dotted; lists are walked on both sides (``stages.actions.name`` is every action's name).
Types without an entry are reported as not checked, counted; values unknown until apply are skipped and
counted, never passed silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import botocore
import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from mlops_core.paths import PLAN_CACHE_DIR, SOURCE_CHECKOUT


@dataclass(frozen=True)
class Api:
    """One API operation and which of its input members receives which resource input."""

    service: str
    operation: str
    fields: dict[str, str]
    """Pulumi input path (camelCase, as the engine receives it) -> input member path of the operation."""


# Reviewed against pulumi-aws 7.x input names and the installed botocore (tests resolve every member path).
MAPPING: dict[str, tuple[Api, ...]] = {
    "aws:iam/role:Role": (Api("iam", "CreateRole", {
        "name": "RoleName", "path": "Path", "description": "Description", "assumeRolePolicy": "AssumeRolePolicyDocument",
        "maxSessionDuration": "MaxSessionDuration", "permissionsBoundary": "PermissionsBoundary"}),),
    "aws:iam/rolePolicy:RolePolicy": (Api("iam", "PutRolePolicy", {
        "role": "RoleName", "name": "PolicyName", "policy": "PolicyDocument"}),),
    "aws:iam/policy:Policy": (Api("iam", "CreatePolicy", {
        "name": "PolicyName", "path": "Path", "description": "Description", "policy": "PolicyDocument"}),),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (Api("iam", "AttachRolePolicy", {
        "role": "RoleName", "policyArn": "PolicyArn"}),),
    "aws:kms/key:Key": (Api("kms", "CreateKey", {
        "description": "Description", "policy": "Policy", "keyUsage": "KeyUsage", "customerMasterKeySpec": "KeySpec"}),),
    "aws:kms/alias:Alias": (Api("kms", "CreateAlias", {"name": "AliasName", "targetKeyId": "TargetKeyId"}),),
    "aws:cloudwatch/logGroup:LogGroup": (
        Api("logs", "CreateLogGroup", {"name": "logGroupName", "kmsKeyId": "kmsKeyId"}),
        Api("logs", "PutRetentionPolicy", {"retentionInDays": "retentionInDays"}),
    ),
    "aws:lambda/function:Function": (
        Api("lambda", "CreateFunction", {
            "name": "FunctionName", "runtime": "Runtime", "role": "Role", "handler": "Handler",
            "description": "Description", "timeout": "Timeout", "memorySize": "MemorySize", "kmsKeyArn": "KMSKeyArn",
            "architectures": "Architectures", "vpcConfig.subnetIds": "VpcConfig.SubnetIds",
            "vpcConfig.securityGroupIds": "VpcConfig.SecurityGroupIds", "tracingConfig.mode": "TracingConfig.Mode",
            "loggingConfig.logGroup": "LoggingConfig.LogGroup", "loggingConfig.logFormat": "LoggingConfig.LogFormat"}),
        Api("lambda", "PutFunctionConcurrency", {"reservedConcurrentExecutions": "ReservedConcurrentExecutions"}),
    ),
    "aws:lambda/permission:Permission": (Api("lambda", "AddPermission", {
        "function": "FunctionName", "action": "Action", "principal": "Principal", "sourceArn": "SourceArn",
        "sourceAccount": "SourceAccount"}),),
    "aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig": (Api("sagemaker", "CreateStudioLifecycleConfig", {
        "studioLifecycleConfigName": "StudioLifecycleConfigName",
        "studioLifecycleConfigContent": "StudioLifecycleConfigContent",
        "studioLifecycleConfigAppType": "StudioLifecycleConfigAppType"}),),
    "aws:sagemaker/userProfile:UserProfile": (Api("sagemaker", "CreateUserProfile", {
        "domainId": "DomainId", "userProfileName": "UserProfileName",
        "userSettings.executionRole": "UserSettings.ExecutionRole",
        "userSettings.securityGroups": "UserSettings.SecurityGroups"}),),
    "aws:sagemaker/domain:Domain": (Api("sagemaker", "CreateDomain", {
        "domainName": "DomainName", "authMode": "AuthMode", "appNetworkAccessType": "AppNetworkAccessType",
        "subnetIds": "SubnetIds", "vpcId": "VpcId", "kmsKeyId": "KmsKeyId",
        "defaultUserSettings.executionRole": "DefaultUserSettings.ExecutionRole"}),),
    "aws:sagemaker/pipeline:Pipeline": (Api("sagemaker", "CreatePipeline", {
        "pipelineName": "PipelineName", "pipelineDisplayName": "PipelineDisplayName",
        "pipelineDefinition": "PipelineDefinition", "pipelineDescription": "PipelineDescription", "roleArn": "RoleArn"}),),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (Api("sagemaker", "CreateModelPackageGroup", {
        "modelPackageGroupName": "ModelPackageGroupName",
        "modelPackageGroupDescription": "ModelPackageGroupDescription"}),),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": (Api("sagemaker", "PutModelPackageGroupPolicy", {
        "modelPackageGroupName": "ModelPackageGroupName", "resourcePolicy": "ResourcePolicy"}),),
    "aws:sagemaker/model:Model": (Api("sagemaker", "CreateModel", {
        "name": "ModelName", "executionRoleArn": "ExecutionRoleArn", "vpcConfig.subnets": "VpcConfig.Subnets",
        "vpcConfig.securityGroupIds": "VpcConfig.SecurityGroupIds",
        "primaryContainer.modelPackageName": "PrimaryContainer.ModelPackageName"}),),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (Api("sagemaker", "CreateEndpointConfig", {
        "name": "EndpointConfigName", "kmsKeyArn": "KmsKeyId",
        "productionVariants": "ProductionVariants",
        "productionVariants.variantName": "ProductionVariants.VariantName",
        "productionVariants.modelName": "ProductionVariants.ModelName",
        "productionVariants.instanceType": "ProductionVariants.InstanceType",
        "productionVariants.initialInstanceCount": "ProductionVariants.InitialInstanceCount",
        "dataCaptureConfig.initialSamplingPercentage": "DataCaptureConfig.InitialSamplingPercentage",
        "dataCaptureConfig.destinationS3Uri": "DataCaptureConfig.DestinationS3Uri"}),),
    "aws:sagemaker/endpoint:Endpoint": (Api("sagemaker", "CreateEndpoint", {
        "name": "EndpointName", "endpointConfigName": "EndpointConfigName"}),),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": (Api("sagemaker", "CreateMonitoringSchedule", {
        "name": "MonitoringScheduleName",
        "monitoringScheduleConfig.monitoringType": "MonitoringScheduleConfig.MonitoringType",
        "monitoringScheduleConfig.monitoringJobDefinitionName": "MonitoringScheduleConfig.MonitoringJobDefinitionName",
        "monitoringScheduleConfig.scheduleConfig.scheduleExpression":
            "MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression"}),),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (Api("sagemaker", "CreateDataQualityJobDefinition", {
        "name": "JobDefinitionName", "roleArn": "RoleArn"}),),
    "aws:codebuild/project:Project": (Api("codebuild", "CreateProject", {
        "name": "name", "description": "description", "serviceRole": "serviceRole", "buildTimeout": "timeoutInMinutes",
        "queuedTimeout": "queuedTimeoutInMinutes", "encryptionKey": "encryptionKey",
        "environment.computeType": "environment.computeType", "environment.type": "environment.type",
        "environment.image": "environment.image", "environment.imagePullCredentialsType":
            "environment.imagePullCredentialsType", "source.type": "source.type",
        "vpcConfig.subnets": "vpcConfig.subnets", "vpcConfig.securityGroupIds": "vpcConfig.securityGroupIds"}),),
    "aws:codepipeline/pipeline:Pipeline": (Api("codepipeline", "CreatePipeline", {
        "name": "pipeline.name", "roleArn": "pipeline.roleArn", "pipelineType": "pipeline.pipelineType",
        "executionMode": "pipeline.executionMode", "stages.name": "pipeline.stages.name",
        "stages.actions": "pipeline.stages.actions", "stages.actions.name": "pipeline.stages.actions.name",
        "stages.actions.category": "pipeline.stages.actions.actionTypeId.category",
        "stages.actions.owner": "pipeline.stages.actions.actionTypeId.owner",
        "stages.actions.provider": "pipeline.stages.actions.actionTypeId.provider",
        "stages.actions.version": "pipeline.stages.actions.actionTypeId.version",
        "stages.actions.runOrder": "pipeline.stages.actions.runOrder",
        "stages.actions.namespace": "pipeline.stages.actions.namespace",
        "stages.actions.inputArtifacts": "pipeline.stages.actions.inputArtifacts",
        "stages.actions.outputArtifacts": "pipeline.stages.actions.outputArtifacts"}),),
    "aws:ecr/repository:Repository": (Api("ecr", "CreateRepository", {
        "name": "repositoryName", "imageTagMutability": "imageTagMutability"}),),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (Api("ecr", "PutLifecyclePolicy", {
        "repository": "repositoryName", "policy": "lifecyclePolicyText"}),),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": (Api("ecr", "SetRepositoryPolicy", {
        "repository": "repositoryName", "policy": "policyText"}),),
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": (Api("ecr", "CreatePullThroughCacheRule", {
        "ecrRepositoryPrefix": "ecrRepositoryPrefix", "upstreamRegistryUrl": "upstreamRegistryUrl"}),),
    "aws:cloudwatch/eventRule:EventRule": (Api("events", "PutRule", {
        "name": "Name", "eventBusName": "EventBusName", "eventPattern": "EventPattern",
        "scheduleExpression": "ScheduleExpression", "description": "Description", "roleArn": "RoleArn",
        "state": "State"}),),
    "aws:cloudwatch/eventTarget:EventTarget": (Api("events", "PutTargets", {
        "rule": "Rule", "eventBusName": "EventBusName", "targetId": "Targets.Id", "arn": "Targets.Arn",
        "roleArn": "Targets.RoleArn", "input": "Targets.Input"}),),
    "aws:cloudwatch/eventBus:EventBus": (Api("events", "CreateEventBus", {
        "name": "Name", "description": "Description", "kmsKeyIdentifier": "KmsKeyIdentifier"}),),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": (Api("events", "PutPermission", {
        "eventBusName": "EventBusName", "policy": "Policy"}),),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (Api("cloudwatch", "PutMetricAlarm", {
        "name": "AlarmName", "alarmDescription": "AlarmDescription", "namespace": "Namespace",
        "metricName": "MetricName", "statistic": "Statistic", "period": "Period",
        "evaluationPeriods": "EvaluationPeriods", "comparisonOperator": "ComparisonOperator",
        "alarmActions": "AlarmActions", "treatMissingData": "TreatMissingData"}),),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (Api("ec2", "CreateVpcEndpoint", {
        "vpcEndpointType": "VpcEndpointType", "serviceName": "ServiceName", "policy": "PolicyDocument"}),),
    "aws:ec2/vpc:Vpc": (Api("ec2", "CreateVpc", {"cidrBlock": "CidrBlock", "instanceTenancy": "InstanceTenancy"}),),
    "aws:ec2/flowLog:FlowLog": (Api("ec2", "CreateFlowLogs", {
        "trafficType": "TrafficType", "logDestinationType": "LogDestinationType",
        "maxAggregationInterval": "MaxAggregationInterval"}),),
    "aws:glue/job:Job": (Api("glue", "CreateJob", {
        "name": "Name", "description": "Description", "roleArn": "Role", "glueVersion": "GlueVersion",
        "workerType": "WorkerType", "numberOfWorkers": "NumberOfWorkers", "timeout": "Timeout",
        "securityConfiguration": "SecurityConfiguration", "maxRetries": "MaxRetries"}),),
    "aws:glue/catalogDatabase:CatalogDatabase": (Api("glue", "CreateDatabase", {
        "name": "DatabaseInput.Name", "description": "DatabaseInput.Description"}),),
    "aws:glue/catalogTable:CatalogTable": (Api("glue", "CreateTable", {
        "name": "TableInput.Name", "databaseName": "DatabaseName", "description": "TableInput.Description",
        "tableType": "TableInput.TableType",
        "storageDescriptor.columns.name": "TableInput.StorageDescriptor.Columns.Name",
        "storageDescriptor.columns.type": "TableInput.StorageDescriptor.Columns.Type",
        "storageDescriptor.location": "TableInput.StorageDescriptor.Location"}),),
    "aws:glue/trigger:Trigger": (Api("glue", "CreateTrigger", {
        "name": "Name", "type": "Type", "schedule": "Schedule", "description": "Description"}),),
    "aws:glue/connection:Connection": (Api("glue", "CreateConnection", {
        "name": "ConnectionInput.Name", "connectionType": "ConnectionInput.ConnectionType"}),),
    "aws:glue/securityConfiguration:SecurityConfiguration": (Api("glue", "CreateSecurityConfiguration", {"name": "Name"}),),
    "aws:athena/workgroup:Workgroup": (Api("athena", "CreateWorkGroup", {"name": "Name", "description": "Description"}),),
    "aws:codeartifact/domain:Domain": (Api("codeartifact", "CreateDomain", {
        "domain": "domain", "encryptionKey": "encryptionKey"}),),
    "aws:codeartifact/repository:Repository": (Api("codeartifact", "CreateRepository", {
        "repository": "repository", "domain": "domain", "description": "description"}),),
    "aws:servicecatalog/portfolio:Portfolio": (Api("servicecatalog", "CreatePortfolio", {
        "name": "DisplayName", "description": "Description", "providerName": "ProviderName"}),),
    "aws:servicecatalog/product:Product": (Api("servicecatalog", "CreateProduct", {
        "name": "Name", "owner": "Owner", "description": "Description", "distributor": "Distributor",
        "type": "ProductType", "supportDescription": "SupportDescription", "supportEmail": "SupportEmail",
        "provisioningArtifactParameters.name": "ProvisioningArtifactParameters.Name",
        "provisioningArtifactParameters.description": "ProvisioningArtifactParameters.Description",
        "provisioningArtifactParameters.type": "ProvisioningArtifactParameters.Type"}),),
    "aws:servicecatalog/constraint:Constraint": (Api("servicecatalog", "CreateConstraint", {
        "type": "Type", "parameters": "Parameters", "description": "Description"}),),
    "aws:secretsmanager/secret:Secret": (Api("secretsmanager", "CreateSecret", {
        "name": "Name", "description": "Description", "kmsKeyId": "KmsKeyId"}),),
    "aws:scheduler/schedule:Schedule": (Api("scheduler", "CreateSchedule", {
        "name": "Name", "scheduleExpression": "ScheduleExpression", "description": "Description",
        "groupName": "GroupName", "state": "State", "kmsKeyArn": "KmsKeyArn", "target.arn": "Target.Arn",
        "target.roleArn": "Target.RoleArn", "target.input": "Target.Input"}),),
    "aws:sfn/stateMachine:StateMachine": (Api("stepfunctions", "CreateStateMachine", {
        "name": "name", "definition": "definition", "roleArn": "roleArn", "type": "type"}),),
    "aws:cloudtrail/trail:Trail": (Api("cloudtrail", "CreateTrail", {
        "name": "Name", "s3BucketName": "S3BucketName", "kmsKeyId": "KmsKeyId"}),),
    "aws:sns/topicSubscription:TopicSubscription": (Api("sns", "Subscribe", {"protocol": "Protocol"}),),
    "aws:lakeformation/dataCellsFilter:DataCellsFilter": (Api("lakeformation", "CreateDataCellsFilter", {
        "tableData.name": "TableData.Name", "tableData.databaseName": "TableData.DatabaseName",
        "tableData.tableName": "TableData.TableName", "tableData.columnNames": "TableData.ColumnNames",
        "tableData.rowFilter.filterExpression": "TableData.RowFilter.FilterExpression"}),),
    "aws:lakeformation/permissions:Permissions": (Api("lakeformation", "GrantPermissions", {
        "permissions": "Permissions", "principal": "Principal.DataLakePrincipalIdentifier"}),),
    "aws:accessanalyzer/analyzer:Analyzer": (Api("accessanalyzer", "CreateAnalyzer", {
        "analyzerName": "analyzerName", "type": "type"}),),
    "aws:guardduty/detector:Detector": (Api("guardduty", "CreateDetector", {
        "findingPublishingFrequency": "FindingPublishingFrequency"}),),
    "aws:budgets/budget:Budget": (Api("budgets", "CreateBudget", {
        "name": "Budget.BudgetName", "budgetType": "Budget.BudgetType", "timeUnit": "Budget.TimeUnit"}),),
    "aws:apigateway/restApi:RestApi": (Api("apigateway", "CreateRestApi", {"name": "name", "description": "description"}),),
    "aws:apigateway/method:Method": (Api("apigateway", "PutMethod", {
        "httpMethod": "httpMethod", "authorization": "authorizationType"}),),
    "aws:apigateway/integration:Integration": (Api("apigateway", "PutIntegration", {
        "type": "type", "timeoutMilliseconds": "timeoutInMillis"}),),
    "aws:appautoscaling/target:Target": (Api("application-autoscaling", "RegisterScalableTarget", {
        "serviceNamespace": "ServiceNamespace", "scalableDimension": "ScalableDimension", "resourceId": "ResourceId"}),),
    "aws:appautoscaling/policy:Policy": (Api("application-autoscaling", "PutScalingPolicy", {
        "name": "PolicyName", "policyType": "PolicyType", "serviceNamespace": "ServiceNamespace",
        "scalableDimension": "ScalableDimension", "resourceId": "ResourceId"}),),
    "aws:s3/bucket:Bucket": (Api("s3", "CreateBucket", {"bucket": "Bucket"}),),
    "aws:s3/bucketPolicy:BucketPolicy": (Api("s3", "PutBucketPolicy", {"bucket": "Bucket", "policy": "Policy"}),),
    "aws:s3/bucketVersioning:BucketVersioning": (Api("s3", "PutBucketVersioning", {
        "bucket": "Bucket", "versioningConfiguration.status": "VersioningConfiguration.Status"}),),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (Api("s3", "PutBucketOwnershipControls", {
        "bucket": "Bucket", "rule.objectOwnership": "OwnershipControls.Rules.ObjectOwnership"}),),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Api("s3", "PutBucketEncryption", {
            "bucket": "Bucket",
            "rules.applyServerSideEncryptionByDefault.sseAlgorithm":
                "ServerSideEncryptionConfiguration.Rules.ApplyServerSideEncryptionByDefault.SSEAlgorithm",
            "rules.applyServerSideEncryptionByDefault.kmsMasterKeyId":
                "ServerSideEncryptionConfiguration.Rules.ApplyServerSideEncryptionByDefault.KMSMasterKeyID"}),),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (Api("s3", "PutBucketLifecycleConfiguration", {
        "bucket": "Bucket", "rules.id": "LifecycleConfiguration.Rules.ID",
        "rules.status": "LifecycleConfiguration.Rules.Status"}),),
    "aws:s3/bucketLogging:BucketLogging": (Api("s3", "PutBucketLogging", {
        "bucket": "Bucket", "targetBucket": "BucketLoggingStatus.LoggingEnabled.TargetBucket",
        "targetPrefix": "BucketLoggingStatus.LoggingEnabled.TargetPrefix"}),),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (Api("s3", "PutPublicAccessBlock", {"bucket": "Bucket"}),),
    "aws:s3/bucketObjectv2:BucketObjectv2": (Api("s3", "PutObject", {
        "bucket": "Bucket", "key": "Key", "serverSideEncryption": "ServerSideEncryption", "kmsKeyId": "SSEKMSKeyId"}),),
    "aws:sns/topic:Topic": (Api("sns", "CreateTopic", {"name": "Name"}),),
    "aws:sqs/queue:Queue": (Api("sqs", "CreateQueue", {"name": "QueueName"}),),
    "aws:ec2/securityGroup:SecurityGroup": (Api("ec2", "CreateSecurityGroup", {
        "name": "GroupName", "description": "Description", "vpcId": "VpcId"}),),
    "aws:ec2/subnet:Subnet": (Api("ec2", "CreateSubnet", {
        "cidrBlock": "CidrBlock", "availabilityZoneId": "AvailabilityZoneId", "vpcId": "VpcId"}),),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (Api("ec2", "AuthorizeSecurityGroupIngress", {
        "securityGroupId": "GroupId", "ipProtocol": "IpPermissions.IpProtocol", "fromPort": "IpPermissions.FromPort",
        "toPort": "IpPermissions.ToPort", "description": "IpPermissions.IpRanges.Description"}),),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (Api("ec2", "AuthorizeSecurityGroupEgress", {
        "securityGroupId": "GroupId", "ipProtocol": "IpPermissions.IpProtocol", "fromPort": "IpPermissions.FromPort",
        "toPort": "IpPermissions.ToPort", "description": "IpPermissions.IpRanges.Description"}),),
    "aws:codeconnections/connection:Connection": (Api("codeconnections", "CreateConnection", {
        "name": "ConnectionName", "providerType": "ProviderType"}),),
    "aws:cfg/recorder:Recorder": (Api("config", "PutConfigurationRecorder", {
        "name": "ConfigurationRecorder.name", "roleArn": "ConfigurationRecorder.roleARN"}),),
    "aws:cfg/deliveryChannel:DeliveryChannel": (Api("config", "PutDeliveryChannel", {
        "name": "DeliveryChannel.name", "s3BucketName": "DeliveryChannel.s3BucketName",
        "s3KeyPrefix": "DeliveryChannel.s3KeyPrefix", "s3KmsKeyArn": "DeliveryChannel.s3KmsKeyArn",
        "snsTopicArn": "DeliveryChannel.snsTopicARN"}),),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (Api("lambda", "PutFunctionEventInvokeConfig", {
        "functionName": "FunctionName", "maximumRetryAttempts": "MaximumRetryAttempts",
        "maximumEventAgeInSeconds": "MaximumEventAgeInSeconds"}),),
    "aws:securityhub/standardsSubscription:StandardsSubscription": (Api("securityhub", "BatchEnableStandards", {
        "standardsArn": "StandardsSubscriptionRequests.StandardsArn"}),),
    "aws:apigateway/stage:Stage": (Api("apigateway", "CreateStage", {
        "stageName": "stageName", "description": "description"}),),
    "aws:apigateway/resource:Resource": (Api("apigateway", "CreateResource", {"pathPart": "pathPart"}),),
    "aws:ec2/routeTable:RouteTable": (Api("ec2", "CreateRouteTable", {"vpcId": "VpcId"}),),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (Api("ec2", "AssociateRouteTable", {
        "subnetId": "SubnetId", "routeTableId": "RouteTableId"}),),
    "aws:ebs/defaultKmsKey:DefaultKmsKey": (Api("ec2", "ModifyEbsDefaultKmsKeyId", {"keyArn": "KmsKeyId"}),),
    "aws:sns/topicPolicy:TopicPolicy": (Api("sns", "SetTopicAttributes", {"arn": "TopicArn", "policy": "AttributeValue"}),),
    "aws:sqs/queuePolicy:QueuePolicy": (Api("sqs", "SetQueueAttributes", {"queueUrl": "QueueUrl"}),),
    "aws:securityhub/account:Account": (Api("securityhub", "EnableSecurityHub", {
        "controlFindingGenerator": "ControlFindingGenerator"}),),
    "aws:inspector2/enabler:Enabler": (Api("inspector2", "Enable", {
        "accountIds": "accountIds", "resourceTypes": "resourceTypes"}),),
    "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings": (Api("glue", "PutDataCatalogEncryptionSettings", {
        "dataCatalogEncryptionSettings.encryptionAtRest.catalogEncryptionMode":
            "DataCatalogEncryptionSettings.EncryptionAtRest.CatalogEncryptionMode",
        "dataCatalogEncryptionSettings.encryptionAtRest.sseAwsKmsKeyId":
            "DataCatalogEncryptionSettings.EncryptionAtRest.SseAwsKmsKeyId"}),),
    "aws:lakeformation/resource:Resource": (Api("lakeformation", "RegisterResource", {
        "arn": "ResourceArn", "roleArn": "RoleArn"}),),
    "aws:lakeformation/dataLakeSettings:DataLakeSettings": (Api("lakeformation", "PutDataLakeSettings", {
        "admins": "DataLakeSettings.DataLakeAdmins"}),),
    "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation": (
        Api("servicecatalog", "AssociatePrincipalWithPortfolio", {
            "portfolioId": "PortfolioId", "principalArn": "PrincipalARN", "principalType": "PrincipalType"}),),
    "aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation": (
        Api("servicecatalog", "AssociateProductWithPortfolio", {"portfolioId": "PortfolioId", "productId": "ProductId"}),),
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": (
        Api("ecr", "PutRegistryScanningConfiguration", {"scanType": "scanType", "rules": "rules"}),),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": (Api("ecr", "CreateRepositoryCreationTemplate", {
        "prefix": "prefix", "description": "description", "imageTagMutability": "imageTagMutability",
        "appliedFors": "appliedFor", "repositoryPolicy": "repositoryPolicy", "lifecyclePolicy": "lifecyclePolicy"}),),
    "aws:cfg/recorderStatus:RecorderStatus": (Api("config", "StartConfigurationRecorder", {
        "name": "ConfigurationRecorderName"}),),
    "aws:apigateway/deployment:Deployment": (Api("apigateway", "CreateDeployment", {"description": "description"}),),
}


@dataclass(frozen=True)
class Rule:
    """What a model member allows (only the parts its shape states)."""

    type_name: str
    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()

    @classmethod
    def of(cls, shape: Shape) -> Rule:
        meta = shape.metadata
        return cls(shape.type_name, meta.get("min"), meta.get("max"), meta.get("pattern"),
                   tuple(getattr(shape, "enum", None) or ()))


@dataclass(frozen=True)
class Constraint:
    source: str
    """``service Operation Member.Path`` (where the rule comes from)."""
    rule: Rule


@lru_cache(maxsize=None)
def _service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def member_shape(service: str, operation: str, path: str) -> Shape:
    """The model shape of an operation's input member path; KeyError naming the first missing step."""
    shape: Shape = _service_model(service).operation_model(operation).input_shape
    for part in path.split("."):
        while isinstance(shape, ListShape):
            shape = shape.member
        if isinstance(shape, MapShape):
            shape = shape.value
        if not isinstance(shape, StructureShape) or part not in shape.members:
            raise KeyError(f"{service} {operation}: no input member {part!r} in {path!r}")
        shape = shape.members[part]
    return shape


@lru_cache(maxsize=None)
def _pattern(pattern: str) -> re.Pattern | None:
    """The model's pattern as a Python regex; None when Python's engine cannot read it (then not checked)."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def values_at(inputs: Any, path: str) -> Iterator[Any]:
    """Every value at a dotted path, walking lists; absent keys yield nothing."""
    head, _, rest = path.partition(".")
    if isinstance(inputs, list):
        for item in inputs:
            yield from values_at(item, path)
        return
    if not isinstance(inputs, dict) or head not in inputs:
        return
    value = inputs[head]
    if not rest:
        yield value
    else:
        yield from values_at(value, rest)


def _bounds(size: int, rule: Rule, unit: str) -> tuple[str, str] | None:
    if rule.max is not None and size > rule.max:
        return f"{size:,}{unit}", f"{rule.max:,}"
    if rule.min is not None and size < rule.min:
        return f"{size:,}{unit}", f"at least {rule.min:,}"
    return None


def check_value(value: Any, rule: Rule) -> tuple[str, str] | None:
    """``(size, limit)`` when the model rejects ``value``, else None. Only what the model states is checked."""
    if isinstance(value, bool):
        return None
    if rule.type_name == "string" and isinstance(value, str):
        problem = _bounds(len(value), rule, " characters")
        if problem:
            return problem
        if rule.enum and value not in rule.enum:
            return repr(value), f"one of {', '.join(rule.enum[:8])}{', ...' if len(rule.enum) > 8 else ''}"
        pattern = _pattern(rule.pattern) if rule.pattern else None
        if pattern is not None and not pattern.fullmatch(value):
            return repr(value if len(value) <= 80 else value[:77] + "..."), f"pattern {rule.pattern}"
        return None
    if rule.type_name in ("integer", "long") and isinstance(value, (int, float)):
        return _bounds(value, rule, "")
    if rule.type_name in ("list", "map") and isinstance(value, (list, dict)):
        return _bounds(len(value), rule, " items")
    return None


def constraints_for(type_token: str) -> list[tuple[str, Constraint]]:
    """(pulumi input path, constraint) for every mapped field of a type; [] when unmapped."""
    return _all_constraints().get(type_token, [])


def _cache_file() -> Path:
    digest = hashlib.sha256(repr(sorted(MAPPING.items())).encode()).hexdigest()[:12]
    return SOURCE_CHECKOUT / PLAN_CACHE_DIR / f"limits-botocore-{botocore.__version__}-{digest}.json"


@lru_cache(maxsize=None)
def _all_constraints() -> dict[str, list[tuple[str, Constraint]]]:
    """Every mapped field's rule, read from the installed botocore's models once and cached in
    ``.plan-cache/`` by botocore version and mapping (loading ~40 models takes a second or two)."""
    path = _cache_file()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        return {t: [(prop, Constraint(source, Rule(**{**rule, "enum": tuple(rule["enum"])})))
                    for prop, source, rule in fields] for t, fields in cached.items()}
    except (OSError, ValueError, TypeError, KeyError):
        pass
    found: dict[str, list[tuple[str, Constraint]]] = {}
    for type_token, apis in MAPPING.items():
        for api in apis:
            for prop, member in api.fields.items():
                rule = Rule.of(member_shape(api.service, api.operation, member))
                found.setdefault(type_token, []).append((prop, Constraint(f"{api.service} {api.operation} {member}", rule)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({t: [(p, c.source, asdict(c.rule)) for p, c in fields]
                                         for t, fields in found.items()}), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only checkout plans without the cache
    return found
