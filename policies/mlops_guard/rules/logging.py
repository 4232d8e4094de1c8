"""Logging and audit: CloudTrail, AWS Config, flow logs, retention, access logs, data capture (§2.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_guard.checks import require, require_present, require_true
from mlops_guard.define import resource_policy
from mlops_guard.model import Report, Resource
from mlops_guard.normalize import as_bool, is_present, is_unknown, lookup


@resource_policy(
    name="cloudtrail-trail-secure",
    control="LOG-CLOUDTRAIL",
    description="CloudTrail trails are multi-region, validate log files, are KMS-encrypted, feed CloudWatch Logs and log.",
    severity="high",
    types=("aws:cloudtrail/trail:Trail",),
    refs=("SH:CloudTrail.1", "SH:CloudTrail.2", "SH:CloudTrail.4", "SH:CloudTrail.5", "CIS:3.1", "CIS:3.2", "CIS:3.5", "CKV:CKV_AWS_67", "CKV:CKV_AWS_36", "CKV:CKV_AWS_35"),
    remediation="Set isMultiRegionTrail, enableLogFileValidation, kmsKeyId and cloudWatchLogsGroupArn.",
)
def cloudtrail_trail_secure(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_true(report, res, "isMultiRegionTrail", "isMultiRegionTrail is not true")
    require_true(report, res, "enableLogFileValidation", "enableLogFileValidation is not true")
    require_present(report, res, "kmsKeyId", "the trail KMS key (kmsKeyId)")
    require_present(report, res, "cloudWatchLogsGroupArn", "cloudWatchLogsGroupArn")
    require(report, res, "enableLogging", lambda v: as_bool(v) is not False, "logging is switched off", missing_ok=True)


@resource_policy(
    name="config-recorder-all-resources",
    control="LOG-CONFIG",
    description="AWS Config records all supported resources, is switched on and delivers to a KMS-encrypted bucket.",
    severity="medium",
    types=("aws:cfg/recorder:Recorder", "aws:cfg/recorderStatus:RecorderStatus", "aws:cfg/deliveryChannel:DeliveryChannel"),
    refs=("SH:Config.1", "CIS:3.3", "CKV:CKV2_AWS_45", "CKV:CKV2_AWS_48"),
    remediation="recordingGroup.allSupported=True; RecorderStatus isEnabled=True; DeliveryChannel s3KmsKeyArn.",
)
def config_recorder_all_resources(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:cfg/recorder:Recorder":
        require(
            report,
            res,
            "recordingGroup.allSupported",
            lambda v: as_bool(v) is not False,
            "recordingGroup.allSupported is false",
            missing_ok=True,
        )
    elif res.type == "aws:cfg/recorderStatus:RecorderStatus":
        require_true(report, res, "isEnabled", "the recorder is not enabled")
    else:
        require_present(report, res, "s3KmsKeyArn", "the delivery KMS key (s3KmsKeyArn)")


@resource_policy(
    name="vpc-flow-log-all-traffic",
    control="LOG-FLOWLOGS",
    description="Flow logs capture ALL traffic to a destination.",
    severity="medium",
    types=("aws:ec2/flowLog:FlowLog",),
    refs=("SH:EC2.6", "CIS:3.7", "CKV:CKV2_AWS_11"),
    remediation="Set trafficType='ALL' and logDestination (a KMS-encrypted log group).",
)
def vpc_flow_log_all_traffic(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require(report, res, "trafficType", lambda v: v == "ALL", "trafficType must be ALL")
    if not (is_present(lookup(res.props, "logDestination")) or is_present(lookup(res.props, "logGroupName"))):
        report.violation(f"{res.name}: the flow log has no destination")


@resource_policy(
    name="cloudwatch-log-retention",
    control="LOG-RETENTION",
    description="Log groups keep logs at least the configured number of days (0 / unset = forever).",
    severity="medium",
    types=("aws:cloudwatch/logGroup:LogGroup",),
    refs=("SH:CloudWatch.16", "CKV:CKV_AWS_66", "CKV:CKV_AWS_338"),
    remediation="Set retentionInDays to 365 or more.",
    config={"minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 365}},
)
def cloudwatch_log_retention(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    minimum = int(config.get("minimumRetentionDays", 365))
    require(
        report,
        res,
        "retentionInDays",
        lambda v: isinstance(v, int | float) and (v == 0 or v >= minimum),
        f"retentionInDays must be at least {minimum}",
        missing_ok=True,
    )


@resource_policy(
    name="s3-access-logging-target",
    control="LOG-S3-ACCESS",
    description="S3 server access logging configurations name a target bucket.",
    severity="medium",
    types=("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"),
    refs=("SH:S3.9", "CIS:3.4", "CKV:CKV_AWS_18"),
    remediation="Set targetBucket to the account's access-log bucket.",
)
def s3_access_logging_target(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    require_present(report, res, "targetBucket", "targetBucket")


@resource_policy(
    name="sagemaker-endpoint-data-capture",
    control="LOG-SM-CAPTURE",
    description="Endpoint configurations capture requests and responses, encrypted, to S3 (feeds Model Monitor).",
    severity="medium",
    types=("aws:sagemaker/endpointConfiguration:EndpointConfiguration",),
    remediation="Set dataCaptureConfig with enableCapture=True, destinationS3Uri and kmsKeyId.",
)
def sagemaker_endpoint_data_capture(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if not require_present(report, res, "dataCaptureConfig", "dataCaptureConfig"):
        return
    require_true(report, res, "dataCaptureConfig.enableCapture", "data capture is not enabled")
    require_present(report, res, "dataCaptureConfig.destinationS3Uri", "dataCaptureConfig.destinationS3Uri")


@resource_policy(
    name="apigateway-logging",
    control="LOG-APIGW-CB",
    description="API Gateway stages log access and trace with X-Ray; method logging is on without full request data.",
    severity="medium",
    types=("aws:apigateway/stage:Stage", "aws:apigateway/methodSettings:MethodSettings", "aws:apigatewayv2/stage:Stage"),
    refs=("SH:APIGateway.1", "SH:APIGateway.3", "SH:APIGateway.9", "CKV:CKV_AWS_76", "CKV:CKV_AWS_73"),
    remediation="Set accessLogSettings.destinationArn and xrayTracingEnabled; settings.loggingLevel INFO/ERROR.",
)
def apigateway_logging(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:apigateway/methodSettings:MethodSettings":
        require(report, res, "settings.loggingLevel", lambda v: v in ("INFO", "ERROR"), "settings.loggingLevel must be INFO or ERROR")
        require(report, res, "settings.dataTraceEnabled", lambda v: as_bool(v) is not True, "full request logging (dataTraceEnabled) is on", missing_ok=True)
        return
    require_present(report, res, "accessLogSettings.destinationArn", "accessLogSettings.destinationArn")
    if res.type == "aws:apigateway/stage:Stage":
        require_true(report, res, "xrayTracingEnabled", "xrayTracingEnabled is not true")


@resource_policy(
    name="codebuild-project-logging",
    control="LOG-APIGW-CB",
    description="CodeBuild projects keep build logs (CloudWatch not disabled, or S3 enabled).",
    severity="medium",
    types=("aws:codebuild/project:Project",),
    refs=("SH:CodeBuild.4", "CKV:CKV_AWS_314"),
    remediation="Leave logsConfig.cloudwatchLogs.status ENABLED or enable logsConfig.s3Logs.",
)
def codebuild_project_logging(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    cloudwatch = lookup(res.props, "logsConfig.cloudwatchLogs.status")
    s3 = lookup(res.props, "logsConfig.s3Logs.status")
    if is_unknown(cloudwatch) or is_unknown(s3):
        report.unknown(f"{res.name}: logsConfig is not known until apply")
    elif cloudwatch == "DISABLED" and s3 != "ENABLED":
        report.violation(f"{res.name}: build logs are disabled")


@resource_policy(
    name="threat-detection-enabled",
    control="LOG-DETECT",
    description="GuardDuty detectors are enabled and IAM Access Analyzer covers the account or organisation.",
    severity="medium",
    types=("aws:guardduty/detector:Detector", "aws:accessanalyzer/analyzer:Analyzer"),
    refs=("SH:GuardDuty.1", "CIS:1.20"),
    remediation="GuardDuty enable=True; Access Analyzer type ACCOUNT or ORGANIZATION.",
)
def threat_detection_enabled(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if res.type == "aws:guardduty/detector:Detector":
        require(report, res, "enable", lambda v: as_bool(v) is not False, "the detector is disabled", missing_ok=True)
    else:
        require(
            report, res, "type", lambda v: v in ("ACCOUNT", "ORGANIZATION"), "type must be ACCOUNT or ORGANIZATION", missing_ok=True
        )


@resource_policy(
    name="stepfunctions-logging",
    control="LOG-SFN",
    description="Step Functions state machines log executions (level ALL, ERROR or FATAL) to a CloudWatch log group.",
    severity="medium",
    types=("aws:sfn/stateMachine:StateMachine",),
    refs=("SH:StepFunctions.1", "CKV:CKV_AWS_285"),
    remediation="Set loggingConfiguration.level (ALL or ERROR) and loggingConfiguration.logDestination '<log group ARN>:*'.",
)
def stepfunctions_logging(res: Resource, config: Mapping[str, Any], report: Report) -> None:
    if not require_present(report, res, "loggingConfiguration", "loggingConfiguration"):
        return
    require(report, res, "loggingConfiguration.level", lambda v: v in ("ALL", "ERROR", "FATAL"), "loggingConfiguration.level must be ALL, ERROR or FATAL")
    require_present(report, res, "loggingConfiguration.logDestination", "loggingConfiguration.logDestination")
