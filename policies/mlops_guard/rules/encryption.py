"""Encryption at rest with customer managed KMS keys (guardrails.md §2.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_guard.allowlists import NVME_INSTANCE_TYPES
from mlops_guard.checks import (
    matches_any,
    require,
    require_customer_key,
    require_not_true,
    require_present,
    require_true,
)
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, as_bool, as_list, is_present, is_unknown, lookup

S3_SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@resource_policy(
    name="s3-sse-customer-managed-key",
    control="ENC-S3-KMS",
    description="An S3 encryption configuration uses SSE-KMS with a customer managed key; SSE-S3 only for the "
    "access-log bucket (checked with the bucket's tag by s3-bucket-encrypted-with-kms).",
    severity="high",
    types=S3_SSE_TYPES,
    refs=("SH:S3.17", "CKV:CKV_AWS_145", "CKV:CKV_AWS_19"),
    remediation="Use components.SecureBucket, or set rules[].applyServerSideEncryptionByDefault to "
    "sseAlgorithm 'aws:kms' with kmsMasterKeyId of a customer managed key and bucketKeyEnabled true.",
)
def s3_sse_customer_managed_key(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    rules = lookup(res.props, "rules")
    if is_unknown(rules):
        report.unknown(f"{res.name}: rules are not known until apply")
        return
    if not as_list(rules):
        report.violation(f"{res.name}: no encryption rule")
        return
    for index, rule in enumerate(as_list(rules)):
        path = f"rules.{index}.applyServerSideEncryptionByDefault"
        algorithm = lookup(res.props, f"{path}.sseAlgorithm")
        if is_unknown(algorithm):
            report.unknown(f"{res.name}: {path}.sseAlgorithm is not known until apply")
        elif algorithm in KMS_ALGORITHMS:
            require_customer_key(report, res, f"{path}.kmsMasterKeyId", "the KMS key (kmsMasterKeyId)")
        elif algorithm != "AES256":
            report.violation(f"{res.name}: sseAlgorithm {algorithm!r} is not SSE-KMS")


@resource_policy(
    name="kms-key-rotation-enabled",
    control="ENC-KMS-ROTATION",
    description="Symmetric customer managed KMS keys rotate yearly.",
    severity="medium",
    types=("aws:kms/key:Key",),
    refs=("SH:KMS.4", "CIS:3.6", "CKV:CKV_AWS_7"),
    remediation="Set enableKeyRotation=True on the key (components.Encryption does).",
)
def kms_key_rotation(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    usage = lookup(res.props, "keyUsage")
    spec = lookup(res.props, "customerMasterKeySpec")
    if is_unknown(usage) or is_unknown(spec):
        report.unknown(f"{res.name}: the key usage/spec is not known until apply")
        return
    if usage not in (MISSING, None, "ENCRYPT_DECRYPT") or spec not in (MISSING, None, "SYMMETRIC_DEFAULT"):
        return  # asymmetric and HMAC keys cannot rotate automatically
    require_true(report, res, "enableKeyRotation", "key rotation (enableKeyRotation) is not enabled")


@resource_policy(
    name="kms-key-deletion-window",
    control="ENC-KMS-DELETION",
    description="KMS keys keep a deletion window of at least the configured days and are not disabled.",
    severity="medium",
    types=("aws:kms/key:Key",),
    refs=("SH:KMS.3", "CKV:CKV_AWS_227"),
    remediation="Set deletionWindowInDays to 30 and leave isEnabled unset or true.",
    config={"minimumDeletionWindowInDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30}},
)
def kms_key_deletion_window(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    minimum = int(config.get("minimumDeletionWindowInDays", 30))
    require(
        report,
        res,
        "deletionWindowInDays",
        lambda v: isinstance(v, int | float) and v >= minimum,
        f"deletionWindowInDays must be at least {minimum} (the AWS default when unset is 30)",
        missing_ok=True,
    )
    require(report, res, "isEnabled", lambda v: as_bool(v) is not False, "the key is disabled", missing_ok=True)


@resource_policy(
    name="sagemaker-domain-encrypted",
    control="ENC-SM-DOMAIN",
    description="A SageMaker Studio domain encrypts its EFS and space volumes with a customer key, and shared "
    "notebook output is disabled or encrypted.",
    severity="high",
    types=("aws:sagemaker/domain:Domain", "aws:sagemaker/userProfile:UserProfile"),
    refs=("CKV:CKV_AWS_187",),
    remediation="Set kmsKeyId on the domain; set sharingSettings.notebookOutputOption='Disabled' or s3KmsKeyId.",
)
def sagemaker_domain_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:sagemaker/domain:Domain":
        require_present(report, res, "kmsKeyId", "the domain KMS key (kmsKeyId)")
        settings = "defaultUserSettings"
    else:
        settings = "userSettings"
    sharing = lookup(res.props, f"{settings}.sharingSettings")
    if sharing is MISSING or sharing is None:
        return  # no sharing settings: the API default is Disabled
    option = lookup(res.props, f"{settings}.sharingSettings.notebookOutputOption")
    if is_unknown(option):
        report.unknown(f"{res.name}: {settings}.sharingSettings.notebookOutputOption is not known until apply")
    elif option == "Allowed":
        require_present(report, res, f"{settings}.sharingSettings.s3KmsKeyId", "the shared notebook output key")


def _all_nvme(instance_types: list[Any], patterns: list[str]) -> bool | None:
    if any(is_unknown(t) for t in instance_types):
        return None
    return bool(instance_types) and all(isinstance(t, str) and matches_any(t, patterns) for t in instance_types)


@resource_policy(
    name="sagemaker-endpoint-config-encrypted",
    control="ENC-SM-ENDPOINT",
    description="Endpoint configurations encrypt their storage volume (unless every variant is an NVMe instance), "
    "captured data and async inference output with customer keys.",
    severity="high",
    types=("aws:sagemaker/endpointConfiguration:EndpointConfiguration",),
    refs=("CKV:CKV_AWS_98",),
    remediation="Set kmsKeyArn (omit it only for NVMe instance types), dataCaptureConfig.kmsKeyId and "
    "asyncInferenceConfig.outputConfig.kmsKeyId.",
    config=NVME_INSTANCE_TYPES,
)
def sagemaker_endpoint_config_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    variants = as_list(lookup(res.props, "productionVariants"))
    types = [v.get("instanceType") for v in variants if isinstance(v, Mapping) and v.get("instanceType")]
    serverless = variants and all(isinstance(v, Mapping) and v.get("serverlessConfig") for v in variants)
    nvme = _all_nvme(types, list(config.get("nvmeInstanceTypes", [])))
    if not is_present(lookup(res.props, "kmsKeyArn")) and not serverless:
        if nvme is None:
            report.unknown(f"{res.name}: instance types are not known until apply")
        elif not nvme:
            report.violation(f"{res.name}: the storage volume KMS key (kmsKeyArn) is not set")
    if is_present(lookup(res.props, "dataCaptureConfig")):
        require_present(report, res, "dataCaptureConfig.kmsKeyId", "the data capture KMS key")
    if is_present(lookup(res.props, "asyncInferenceConfig")):
        require_present(report, res, "asyncInferenceConfig.outputConfig.kmsKeyId", "the async output KMS key")


def _job_keys(res: Resource, report: Report, prefix: str, nvme_patterns: list[str], volume_path: str) -> None:
    require_present(report, res, f"{prefix}outputDataConfig.kmsKeyId", "the output KMS key")
    volume = lookup(res.props, f"{prefix}{volume_path}.volumeKmsKeyId")
    if is_present(volume):
        return
    instance_type = lookup(res.props, f"{prefix}{volume_path}.instanceType")
    nvme = _all_nvme([instance_type] if instance_type is not MISSING else [], nvme_patterns)
    if nvme is None:
        report.unknown(f"{res.name}: the instance type is not known until apply")
    elif not nvme:
        report.violation(f"{res.name}: the volume KMS key ({prefix}{volume_path}.volumeKmsKeyId) is not set")


@resource_policy(
    name="sagemaker-training-encrypted",
    control="ENC-SM-TRAINING",
    description="Training and tuning jobs encrypt their ML storage volumes (except NVMe instance types) and output.",
    severity="high",
    types=("aws:sagemaker/trainingJob:TrainingJob", "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob"),
    remediation="Set resourceConfig.volumeKmsKeyId and outputDataConfig.kmsKeyId.",
    config=NVME_INSTANCE_TYPES,
)
def sagemaker_training_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    patterns = list(config.get("nvmeInstanceTypes", []))
    if res.type == "aws:sagemaker/trainingJob:TrainingJob":
        _job_keys(res, report, "", patterns, "resourceConfig")
        return
    definitions = [("trainingJobDefinition.", lookup(res.props, "trainingJobDefinition"))]
    definitions += [
        (f"trainingJobDefinitions.{i}.", d) for i, d in enumerate(as_list(lookup(res.props, "trainingJobDefinitions")))
    ]
    for prefix, definition in definitions:
        if definition is MISSING or definition is None:
            continue
        resource_path = "resourceConfig" if is_present(lookup(res.props, f"{prefix}resourceConfig")) else "hyperParameterTuningResourceConfig"
        _job_keys(res, report, prefix, patterns, resource_path)


@resource_policy(
    name="sagemaker-monitoring-encrypted",
    control="ENC-SM-MONITOR",
    description="Model Monitor schedules and data-quality job definitions encrypt volumes and output.",
    severity="high",
    types=(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    ),
    refs=("CKV:CKV_AWS_367", "CKV:CKV_AWS_368"),
    remediation="Set the monitoring output kmsKeyId and clusterConfig.volumeKmsKeyId.",
)
def sagemaker_monitoring_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
        require_present(report, res, "dataQualityJobOutputConfig.kmsKeyId", "the output KMS key")
        require_present(report, res, "jobResources.clusterConfig.volumeKmsKeyId", "the volume KMS key")
        return
    definition = "monitoringScheduleConfig.monitoringJobDefinition"
    if not is_present(lookup(res.props, definition)):
        return  # the schedule refers to a job definition resource, checked on its own
    require_present(report, res, f"{definition}.monitoringOutputConfig.kmsKeyId", "the output KMS key")
    require_present(report, res, f"{definition}.monitoringResources.clusterConfig.volumeKmsKeyId", "the volume KMS key")


@resource_policy(
    name="sagemaker-inter-container-encryption",
    control="ENC-SM-ICT",
    description="Distributed training, tuning and monitoring jobs encrypt traffic between containers.",
    severity="medium",
    types=(
        "aws:sagemaker/trainingJob:TrainingJob",
        "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    ),
    refs=("SH:SageMaker.9", "SH:SageMaker.22", "CKV:CKV_AWS_369"),  # data quality job definitions, monitoring schedules
    remediation="Set enableInterContainerTrafficEncryption=True (networkConfig for monitoring).",
)
def sagemaker_inter_container_encryption(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    paths = {
        "aws:sagemaker/trainingJob:TrainingJob": ["enableInterContainerTrafficEncryption"],
        "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": [
            "trainingJobDefinition.enableInterContainerTrafficEncryption"
        ],
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": [
            "networkConfig.enableInterContainerTrafficEncryption"
        ],
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule": [
            "monitoringScheduleConfig.monitoringJobDefinition.networkConfig.enableInterContainerTrafficEncryption"
        ],
    }[res.type]
    if res.type.endswith("MonitoringSchedule") and not is_present(
        lookup(res.props, "monitoringScheduleConfig.monitoringJobDefinition")
    ):
        return
    if res.type.endswith("HyperParameterTuningJob"):
        paths = paths if is_present(lookup(res.props, "trainingJobDefinition")) else []
        paths += [
            f"trainingJobDefinitions.{i}.enableInterContainerTrafficEncryption"
            for i, _ in enumerate(as_list(lookup(res.props, "trainingJobDefinitions")))
        ]
    for path in paths:
        require_true(report, res, path, f"{path} is not true")


@resource_policy(
    name="sagemaker-feature-group-encrypted",
    control="ENC-SM-FEATURESTORE",
    description="Feature groups encrypt the offline store (S3) and the online store with customer keys.",
    severity="high",
    types=("aws:sagemaker/featureGroup:FeatureGroup",),
    refs=("SH:SageMaker.17", "SH:SageMaker.18"),
    remediation="Set offlineStoreConfig.s3StorageConfig.kmsKeyId and onlineStoreConfig.securityConfig.kmsKeyId.",
)
def sagemaker_feature_group_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if is_present(lookup(res.props, "offlineStoreConfig")):
        require_present(report, res, "offlineStoreConfig.s3StorageConfig.kmsKeyId", "the offline store KMS key")
    if is_present(lookup(res.props, "onlineStoreConfig")) and as_bool(
        lookup(res.props, "onlineStoreConfig.enableOnlineStore")
    ) is not False:
        require_present(report, res, "onlineStoreConfig.securityConfig.kmsKeyId", "the online store KMS key")


@resource_policy(
    name="sagemaker-notebook-encrypted",
    control="ENC-SM-NOTEBOOK",
    description="Notebook instances encrypt their storage volume with a customer key.",
    severity="high",
    types=("aws:sagemaker/notebookInstance:NotebookInstance",),
    refs=("SH:SageMaker.21", "CKV:CKV_AWS_22"),
    remediation="Set kmsKeyId, or better use Studio in VpcOnly mode instead of notebook instances.",
)
def sagemaker_notebook_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_present(report, res, "kmsKeyId", "the volume KMS key (kmsKeyId)")


@resource_policy(
    name="ecr-repository-kms",
    control="ENC-ECR-KMS",
    description="ECR repositories encrypt images with a customer KMS key.",
    severity="medium",
    types=("aws:ecr/repository:Repository",),
    refs=("SH:ECR.5", "CKV:CKV_AWS_136"),
    remediation="Set encryptionConfigurations=[{encryptionType: 'KMS', kmsKey: <key arn>}] (cannot change after creation).",
)
def ecr_repository_kms(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    configs = lookup(res.props, "encryptionConfigurations")
    if is_unknown(configs):
        report.unknown(f"{res.name}: encryptionConfigurations are not known until apply")
        return
    if not as_list(configs):
        report.violation(f"{res.name}: encryptionConfigurations is not set (AES256 by default)")
        return
    require(report, res, "encryptionConfigurations.0.encryptionType", lambda v: v in ("KMS", "KMS_DSSE"), "encryptionType must be KMS")
    require_customer_key(report, res, "encryptionConfigurations.0.kmsKey", "the KMS key (kmsKey)")


@resource_policy(
    name="cloudwatch-log-group-kms",
    control="ENC-CW-LOGS",
    description="CloudWatch log groups are encrypted with a customer KMS key.",
    severity="medium",
    types=("aws:cloudwatch/logGroup:LogGroup",),
    refs=("CKV:CKV_AWS_158",),
    remediation="Set kmsKeyId; the key policy must allow logs.<region>.amazonaws.com.",
)
def cloudwatch_log_group_kms(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_present(report, res, "kmsKeyId", "the KMS key (kmsKeyId)")


@resource_policy(
    name="codebuild-project-encrypted",
    control="ENC-CICD",
    description="CodeBuild projects encrypt artifacts with a customer key and never disable artifact or S3 log encryption.",
    severity="medium",
    types=("aws:codebuild/project:Project",),
    refs=("SH:CodeBuild.3", "CKV:CKV_AWS_147", "CKV:CKV_AWS_78", "CKV:CKV_AWS_311"),
    remediation="Set encryptionKey; leave artifacts.encryptionDisabled and logsConfig.s3Logs.encryptionDisabled unset.",
)
def codebuild_project_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_customer_key(report, res, "encryptionKey", "the artifact KMS key (encryptionKey)")
    require_not_true(report, res, "artifacts.encryptionDisabled")
    for index, _ in enumerate(as_list(lookup(res.props, "secondaryArtifacts"))):
        require_not_true(report, res, f"secondaryArtifacts.{index}.encryptionDisabled")
    require_not_true(report, res, "logsConfig.s3Logs.encryptionDisabled")


@resource_policy(
    name="codepipeline-artifacts-kms",
    control="ENC-CICD",
    description="CodePipeline artifact stores are encrypted with a customer KMS key.",
    severity="medium",
    types=("aws:codepipeline/pipeline:Pipeline",),
    refs=("CKV:CKV_AWS_219",),
    remediation="Set artifactStores[].encryptionKey = {type: 'KMS', id: <key arn>}.",
)
def codepipeline_artifacts_kms(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    stores = lookup(res.props, "artifactStores")
    if is_unknown(stores):
        report.unknown(f"{res.name}: artifactStores are not known until apply")
        return
    for index, _ in enumerate(as_list(stores)):
        if require_present(report, res, f"artifactStores.{index}.encryptionKey.id", f"artifactStores[{index}] KMS key"):
            require(report, res, f"artifactStores.{index}.encryptionKey.type", lambda v: v == "KMS", "encryptionKey.type must be KMS")


@resource_policy(
    name="codeartifact-domain-kms",
    control="ENC-CICD",
    description="CodeArtifact domains are encrypted with a customer KMS key.",
    severity="medium",
    types=("aws:codeartifact/domain:Domain",),
    refs=("CKV:CKV_AWS_221",),
    remediation="Set encryptionKey to a customer managed key ARN.",
)
def codeartifact_domain_kms(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_customer_key(report, res, "encryptionKey", "the KMS key (encryptionKey)")


@resource_policy(
    name="glue-data-catalog-encrypted",
    control="ENC-GLUE-CATALOG",
    description="The Glue Data Catalog encrypts metadata and connection passwords with KMS.",
    severity="medium",
    types=("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",),
    refs=("CKV:CKV_AWS_94",),
    remediation="Set encryptionAtRest.catalogEncryptionMode='SSE-KMS' with sseAwsKmsKeyId and "
    "connectionPasswordEncryption.returnConnectionPasswordEncrypted=True with awsKmsKeyId.",
)
def glue_data_catalog_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    base = "dataCatalogEncryptionSettings"
    require(
        report,
        res,
        f"{base}.encryptionAtRest.catalogEncryptionMode",
        lambda v: v in ("SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE"),
        "catalogEncryptionMode must be SSE-KMS",
    )
    require_present(report, res, f"{base}.encryptionAtRest.sseAwsKmsKeyId", "the catalog KMS key")
    require_true(report, res, f"{base}.connectionPasswordEncryption.returnConnectionPasswordEncrypted")
    require_present(report, res, f"{base}.connectionPasswordEncryption.awsKmsKeyId", "the connection password KMS key")


@resource_policy(
    name="glue-jobs-encrypted",
    control="ENC-GLUE-SECCFG",
    description="Glue security configurations use KMS for S3, CloudWatch and job bookmarks; jobs and crawlers use one.",
    severity="medium",
    types=("aws:glue/securityConfiguration:SecurityConfiguration", "aws:glue/job:Job", "aws:glue/crawler:Crawler"),
    refs=("CKV:CKV_AWS_99", "CKV:CKV_AWS_195"),
    remediation="Create a SecurityConfiguration with SSE-KMS/CSE-KMS modes and set securityConfiguration on jobs and crawlers.",
)
def glue_jobs_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type != "aws:glue/securityConfiguration:SecurityConfiguration":
        require_present(report, res, "securityConfiguration", "securityConfiguration")
        return
    base = "encryptionConfiguration"
    require(report, res, f"{base}.s3Encryption.s3EncryptionMode", lambda v: v == "SSE-KMS", "S3 encryption must be SSE-KMS")
    require(
        report, res, f"{base}.cloudwatchEncryption.cloudwatchEncryptionMode", lambda v: v == "SSE-KMS", "CloudWatch encryption must be SSE-KMS"
    )
    require(
        report, res, f"{base}.jobBookmarksEncryption.jobBookmarksEncryptionMode", lambda v: v == "CSE-KMS", "job bookmarks must use CSE-KMS"
    )
    for part in ("s3Encryption", "cloudwatchEncryption", "jobBookmarksEncryption"):
        require_present(report, res, f"{base}.{part}.kmsKeyArn", f"{part}.kmsKeyArn")


@resource_policy(
    name="messaging-encrypted",
    control="ENC-MSG",
    description="SNS topics, SQS queues, Secrets Manager secrets and custom event buses use customer KMS keys.",
    severity="medium",
    types=(
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
        "aws:secretsmanager/secret:Secret",
        "aws:cloudwatch/eventBus:EventBus",
    ),
    refs=("SH:SNS.1", "SH:SQS.1", "CKV:CKV_AWS_26", "CKV:CKV_AWS_27", "CKV:CKV_AWS_149", "CKV:CKV2_AWS_73"),
    remediation="Set kmsMasterKeyId (SNS/SQS), kmsKeyId (secret) or kmsKeyIdentifier (event bus) to a customer key.",
)
def messaging_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    path = {
        "aws:sns/topic:Topic": "kmsMasterKeyId",
        "aws:sqs/queue:Queue": "kmsMasterKeyId",
        "aws:secretsmanager/secret:Secret": "kmsKeyId",
        "aws:cloudwatch/eventBus:EventBus": "kmsKeyIdentifier",
    }[res.type]
    if res.type == "aws:cloudwatch/eventBus:EventBus" and lookup(res.props, "name") == "default":
        return  # the default bus cannot take a key
    require_customer_key(report, res, path, f"the KMS key ({path})")


@resource_policy(
    name="lambda-environment-encrypted",
    control="ENC-LAMBDA-ENV",
    description="Lambda functions with environment variables encrypt them with a customer key.",
    severity="medium",
    types=("aws:lambda/function:Function",),
    refs=("CKV:CKV_AWS_173",),
    remediation="Set kmsKeyArn on the function.",
)
def lambda_environment_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if is_present(lookup(res.props, "environment.variables")):
        require_customer_key(report, res, "kmsKeyArn", "the environment KMS key (kmsKeyArn)")


@resource_policy(
    name="ebs-encryption-by-default",
    control="ENC-EBS-DEFAULT",
    description="EBS encryption by default is enabled, with a customer key when one is set.",
    severity="medium",
    types=("aws:ebs/encryptionByDefault:EncryptionByDefault", "aws:ebs/defaultKmsKey:DefaultKmsKey"),
    refs=("SH:EC2.7", "CIS:2.2.1", "CKV:CKV_AWS_106"),
    remediation="Declare aws.ebs.EncryptionByDefault(enabled=True) (AccountBaseline does).",
)
def ebs_encryption_by_default(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:ebs/defaultKmsKey:DefaultKmsKey":
        require_customer_key(report, res, "keyArn", "the default EBS key (keyArn)")
        return
    require(report, res, "enabled", lambda v: as_bool(v) is not False, "EBS encryption by default is disabled", missing_ok=True)


@resource_policy(
    name="efs-encrypted",
    control="ENC-EFS",
    description="EFS file systems are encrypted with a customer key.",
    severity="high",
    types=("aws:efs/fileSystem:FileSystem",),
    refs=("SH:EFS.1", "CIS:2.4.1", "CKV:CKV_AWS_42", "CKV:CKV_AWS_184"),
    remediation="Set encrypted=True and kmsKeyId.",
)
def efs_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_true(report, res, "encrypted", "encrypted is not true")
    require_customer_key(report, res, "kmsKeyId", "the KMS key (kmsKeyId)")


@resource_policy(
    name="apigateway-cache-encrypted",
    control="ENC-APIGW-CACHE",
    description="API Gateway method caches are encrypted.",
    severity="medium",
    types=("aws:apigateway/methodSettings:MethodSettings",),
    refs=("SH:APIGateway.5", "CKV:CKV_AWS_308"),
    remediation="Set settings.cacheDataEncrypted=True wherever settings.cachingEnabled is true.",
)
def apigateway_cache_encrypted(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    caching = lookup(res.props, "settings.cachingEnabled")
    if is_unknown(caching):
        report.unknown(f"{res.name}: settings.cachingEnabled is not known until apply")
    elif as_bool(caching):
        require_true(report, res, "settings.cacheDataEncrypted", "the cache is not encrypted")
