"""The serving components with the options the committed stage defaults do not combine: no blue/green, a
canary, no autoscaling, an NVMe instance type, no Model Monitor baseline, another region."""

from __future__ import annotations

import json

import pytest

from component_helpers import (
    ACCOUNT, KEY_ARN, LOGS_KEY_ARN, PEER_ACCOUNT, REGION, SECURITY_GROUP_IDS, SUBNET_IDS, TOPIC_ARN, depends_on, document, only, statement,
)
from components.batch_inference import BatchInference, BatchInferenceArgs
from components.model_endpoint import BlueGreenPolicy, ModelEndpoint, ModelEndpointArgs, ScalingPolicy
from components.model_monitor import ModelMonitor, ModelMonitorArgs
from components.private_api import PrivateApi, PrivateApiArgs
from mlops_platform.harness import DeclarationPlan, plan_declaration

PACKAGE = f"arn:aws:sagemaker:{REGION}:{PEER_ACCOUNT}:model-package/pump-pm/3"
MODEL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-serving-pump-pm-model"
VPCE = "vpce-0aaaabbbbccccdddd"

# ---- ModelEndpoint ----------------------------------------------------------------------------------


def endpoint_plan(**overrides) -> DeclarationPlan:
    args = dict(
        endpoint_name="acme-pump-pm-prod", model_package_arn=PACKAGE, execution_role_arn=MODEL_ROLE, subnet_ids=SUBNET_IDS,
        security_group_ids=SECURITY_GROUP_IDS, kms_key_arn=KEY_ARN, logs_key_arn=LOGS_KEY_ARN, alarm_topic_arn=TOPIC_ARN,
        capture_bucket_name="acme-pump-pm-capture", access_log_bucket="acme-access-logs", instance_type="ml.m5.large",
        initial_instance_count=1,
    )
    args.update(overrides)

    def declare():
        ModelEndpoint("ep", ModelEndpointArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def plain_endpoint() -> DeclarationPlan:
    return endpoint_plan()


@pytest.fixture(scope="module")
def canary_endpoint() -> DeclarationPlan:
    return endpoint_plan(blue_green=BlueGreenPolicy(traffic_routing="CANARY", canary_percent=20),
                         scaling=ScalingPolicy(min_capacity=2, max_capacity=6, target_invocations_per_instance=150))


def test_endpoint_without_blue_green_has_no_deployment_config(plain_endpoint) -> None:
    endpoint = only(plain_endpoint, "aws:sagemaker/endpoint:Endpoint")
    assert "deploymentConfig" not in endpoint.inputs, f"{endpoint.name}: blue_green=None updates without a deployment policy"


def test_canary_shifts_the_configured_share_first(canary_endpoint) -> None:
    policy = only(canary_endpoint, "aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    assert (routing["type"], routing["canarySize"]) == ("CANARY", {"type": "CAPACITY_PERCENT", "value": 20}), routing


def test_blue_green_rolls_back_on_the_endpoint_alarms(canary_endpoint) -> None:
    alarms = only(canary_endpoint, "aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    declared = sorted(a.inputs["name"] for a in canary_endpoint.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    assert sorted(a["alarmName"] for a in alarms) == declared, f"rollback must watch the declared alarms {declared}, got {alarms}"


def test_endpoint_without_scaling_registers_no_target(plain_endpoint) -> None:
    assert not plain_endpoint.of_type("aws:appautoscaling/target:Target"), "scaling=None: no scalable target"


def test_scaling_target_follows_the_policy(canary_endpoint) -> None:
    target = only(canary_endpoint, "aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"], target.inputs["resourceId"]) == (
        2, 6, "endpoint/acme-pump-pm-prod/variant/AllTraffic"
    ), target.inputs


def test_scaling_tracks_invocations_per_instance(canary_endpoint) -> None:
    tracking = only(canary_endpoint, "aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]
    assert (tracking["targetValue"], tracking["predefinedMetricSpecification"]["predefinedMetricType"]) == (
        150, "SageMakerVariantInvocationsPerInstance"
    ), tracking


def test_volume_is_encrypted_on_ebs_instances(plain_endpoint) -> None:
    config = only(plain_endpoint, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert config.inputs["kmsKeyArn"] == KEY_ARN, f"{config.name}: ml.m5.large volumes are encrypted with the stage key"


def test_nvme_instances_get_no_volume_key() -> None:
    config = only(endpoint_plan(instance_type="ml.g5.xlarge"), "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert "kmsKeyArn" not in config.inputs, f"{config.name}: SageMaker refuses a volume key for NVMe instance types"


def test_volume_key_is_kept_on_inferentia2_which_has_no_instance_store() -> None:
    config = only(endpoint_plan(instance_type="ml.inf2.xlarge"), "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert config.inputs.get("kmsKeyArn") == KEY_ARN, f"{config.name}: ml.inf2 volumes are EBS and must carry the stage key"


def test_volume_key_is_dropped_on_g6_which_has_nvme_instance_store() -> None:
    config = only(endpoint_plan(instance_type="ml.g6.xlarge"), "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert "kmsKeyArn" not in config.inputs, f"{config.name}: CreateEndpointConfig rejects a volume key on ml.g6 (NVMe)"


def test_nvme_instances_still_encrypt_captured_data() -> None:
    config = only(endpoint_plan(instance_type="ml.g5.xlarge"), "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    assert config.inputs["dataCaptureConfig"]["kmsKeyId"] == KEY_ARN, f"{config.name}: captured data is always KMS-encrypted"


def test_model_runs_network_isolated_in_the_vpc(plain_endpoint) -> None:
    model = only(plain_endpoint, "aws:sagemaker/model:Model")
    assert (model.inputs["enableNetworkIsolation"], model.inputs["vpcConfig"]["subnets"]) == (True, SUBNET_IDS), model.inputs


def test_model_name_starts_with_the_endpoint_name(plain_endpoint) -> None:
    name = only(plain_endpoint, "aws:sagemaker/model:Model").inputs["name"]
    assert name.startswith("acme-pump-pm-prod-") and len(name) <= 63, f"models are named after the endpoint (IAM scope), got {name}"


def test_endpoint_log_group_is_encrypted(plain_endpoint) -> None:
    group = only(plain_endpoint, "aws:cloudwatch/logGroup:LogGroup")
    assert (group.inputs["name"], group.inputs["kmsKeyId"]) == ("/aws/sagemaker/Endpoints/acme-pump-pm-prod", LOGS_KEY_ARN), group.inputs


def test_alarms_notify_the_stage_topic(plain_endpoint) -> None:
    actions = {tuple(a.inputs["alarmActions"]) for a in plain_endpoint.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert actions == {(TOPIC_ARN,)}, f"endpoint alarms go to {TOPIC_ARN}, got {actions}"


# ---- BatchInference ---------------------------------------------------------------------------------


def batch_plan(**overrides) -> DeclarationPlan:
    args = dict(
        state_machine_name="acme-pump-pm-prod-batch", model_name="acme-pump-pm-prod-model", job_name_prefix="pump-pm-",
        state_machine_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-serving-pump-pm-batch",
        schedule_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-serving-pump-pm-batch-schedule", kms_key_arn=KEY_ARN,
        logs_key_arn=LOGS_KEY_ARN, alarm_topic_arn=TOPIC_ARN, input_bucket_name="acme-pump-pm-batch-in",
        output_bucket_name="acme-pump-pm-batch-out", access_log_bucket="acme-access-logs", schedule_expression="cron(0 4 * * ? *)",
        instance_type="ml.m5.large",
    )
    args.update(overrides)

    def declare():
        BatchInference("batch", BatchInferenceArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def batch() -> DeclarationPlan:
    return batch_plan()


def transform(plan: DeclarationPlan) -> dict:
    return document(only(plan, "aws:sfn/stateMachine:StateMachine"), "definition")["States"]["Transform"]


def test_transform_waits_for_the_job(batch) -> None:
    assert transform(batch)["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync", "the .sync integration fails with the job"


def test_transform_volume_is_encrypted(batch) -> None:
    assert transform(batch)["Parameters"]["TransformResources"]["VolumeKmsKeyId"] == KEY_ARN, "transform volumes use the stage key"


def test_nvme_transform_has_no_volume_key() -> None:
    resources = transform(batch_plan(volume_kms=False, instance_type="ml.g5.xlarge"))["Parameters"]["TransformResources"]
    assert "VolumeKmsKeyId" not in resources, f"volume_kms=False: SageMaker refuses a volume key, got {resources}"


def test_nvme_transform_still_encrypts_its_output() -> None:
    output = transform(batch_plan(volume_kms=False, instance_type="ml.g5.xlarge"))["Parameters"]["TransformOutput"]
    assert output["KmsKeyId"] == KEY_ARN, f"transform output is always KMS-encrypted, got {output}"


def test_transform_reads_and_writes_its_own_buckets(batch) -> None:
    parameters = transform(batch)["Parameters"]
    uris = (parameters["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"], parameters["TransformOutput"]["S3OutputPath"])
    assert uris == ("s3://acme-pump-pm-batch-in/input/", "s3://acme-pump-pm-batch-out/output/"), uris


def test_state_machine_data_is_encrypted_with_the_stage_key(batch) -> None:
    encryption = only(batch, "aws:sfn/stateMachine:StateMachine").inputs["encryptionConfiguration"]
    assert (encryption["type"], encryption["kmsKeyId"]) == ("CUSTOMER_MANAGED_KMS_KEY", KEY_ARN), encryption


def test_state_machine_logs_without_execution_data(batch) -> None:
    logging = only(batch, "aws:sfn/stateMachine:StateMachine").inputs["loggingConfiguration"]
    assert (logging["level"], logging["includeExecutionData"]) == ("ALL", False), f"model inputs must not reach the logs: {logging}"


def test_state_machine_log_group_is_vended_and_encrypted(batch) -> None:
    group = only(batch, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"].startswith("/aws/vendedlogs/states/") and group.inputs["kmsKeyId"] == LOGS_KEY_ARN, group.inputs


def test_schedule_is_encrypted_and_starts_the_state_machine(batch) -> None:
    schedule = only(batch, "aws:scheduler/schedule:Schedule")
    assert schedule.inputs["kmsKeyArn"] == KEY_ARN and depends_on(schedule, "target", only(batch, "aws:sfn/stateMachine:StateMachine")), (
        f"{schedule.name}: KMS-encrypted, targets the state machine"
    )


def test_every_failed_run_kind_alarms(batch) -> None:
    metrics = sorted(a.inputs["metricName"] for a in batch.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    assert metrics == ["ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"], metrics


def test_state_machine_name_beyond_the_schedule_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="exceeds the schedule's 64 characters"):
        batch_plan(state_machine_name="acme-" + "x" * 60)


# ---- ModelMonitor -----------------------------------------------------------------------------------


def monitor_plan(**overrides) -> DeclarationPlan:
    args = dict(
        endpoint_name="acme-pump-pm-prod", schedule_name="acme-pump-pm-prod-monitor", role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-monitor",
        image_uri=f"468650794304.dkr.ecr.{REGION}.amazonaws.com/sagemaker-model-monitor-analyzer", subnet_ids=SUBNET_IDS,
        security_group_ids=SECURITY_GROUP_IDS, kms_key_arn=KEY_ARN, report_s3_uri="s3://acme-pump-pm-monitor/reports",
        alarm_topic_arn=TOPIC_ARN,
    )
    args.update(overrides)

    def declare():
        ModelMonitor("monitor", ModelMonitorArgs(**args))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def monitor() -> DeclarationPlan:
    return monitor_plan()


def test_monitor_without_baseline_has_no_baseline_config(monitor) -> None:
    job = only(monitor, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert "dataQualityBaselineConfig" not in job.inputs, f"{job.name}: no baseline, statistics only"


def test_monitor_with_baseline_checks_against_it() -> None:
    job = only(monitor_plan(baseline_constraints_uri="s3://b/constraints.json", baseline_statistics_uri="s3://b/statistics.json"),
               "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert job.inputs["dataQualityBaselineConfig"]["constraintsResource"] == {"s3Uri": "s3://b/constraints.json"}, job.inputs


def test_half_a_baseline_is_rejected() -> None:
    with pytest.raises(ValueError, match="given together"):
        monitor_plan(baseline_constraints_uri="s3://b/constraints.json")


def test_monitoring_job_is_isolated_and_encrypts_traffic(monitor) -> None:
    network = only(monitor, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs["networkConfig"]
    assert (network["enableNetworkIsolation"], network["enableInterContainerTrafficEncryption"]) == (True, True), network


def test_monitoring_job_encrypts_volume_and_reports(monitor) -> None:
    job = only(monitor, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    keys = (job["jobResources"]["clusterConfig"]["volumeKmsKeyId"], job["dataQualityJobOutputConfig"]["kmsKeyId"])
    assert keys == (KEY_ARN, KEY_ARN), f"monitoring volume and reports use the stage key, got {keys}"


def test_violations_of_this_schedule_notify_the_topic(monitor) -> None:
    rule = only(monitor, "aws:cloudwatch/eventRule:EventRule")
    environment = json.loads(rule.inputs["eventPattern"])["detail"]["Environment"]
    target = only(monitor, "aws:cloudwatch/eventTarget:EventTarget")
    assert (environment, target.inputs["arn"]) == ({"sagemaker_monitoring_schedule_name": ["acme-pump-pm-prod-monitor"]}, TOPIC_ARN), (
        f"{rule.name}: runs of this schedule only, to the alert topic"
    )


# ---- PrivateApi ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> DeclarationPlan:
    def declare():
        private = PrivateApi(
            "api",
            PrivateApiArgs(
                api_name="acme-pump-pm-prod", function_name="acme-pump-pm-prod-api", endpoint_name="acme-pump-pm-prod",
                function_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-serving-pump-pm-api", vpc_endpoint_id=VPCE,
                subnet_ids=SUBNET_IDS, security_group_ids=SECURITY_GROUP_IDS, kms_key_arn=KEY_ARN, logs_key_arn=LOGS_KEY_ARN,
                account_id=ACCOUNT, region=REGION,
            ),
        )
        return {"invokeUrl": private.invoke_url, "apiId": private.api_id}

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_api_is_private_to_the_stage_vpc_endpoint(api) -> None:
    configuration = only(api, "aws:apigateway/restApi:RestApi").inputs["endpointConfiguration"]
    assert configuration == {"types": "PRIVATE", "vpcEndpointIds": [VPCE]}, configuration


def test_api_policy_denies_every_other_network_path(api) -> None:
    deny = statement(document(only(api, "aws:apigateway/restApiPolicy:RestApiPolicy")), "DenyOtherNetworkPaths")
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"StringNotEquals": {"aws:SourceVpce": VPCE}}), deny


def test_api_policy_names_the_regional_execute_api_arn(api) -> None:
    allow = statement(document(only(api, "aws:apigateway/restApiPolicy:RestApiPolicy")), "InvokeThroughStageVpcEndpoint")
    assert allow["Resource"].startswith(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:"), allow


def test_invocations_need_iam_authorization(api) -> None:
    method = only(api, "aws:apigateway/method:Method")
    assert (method.inputs["httpMethod"], method.inputs["authorization"]) == ("POST", "AWS_IAM"), method.inputs


def test_invoke_url_follows_the_region(api) -> None:
    assert api.outputs["invokeUrl"] == f"https://{api.outputs['apiId']}.execute-api.{REGION}.amazonaws.com/v1/invocations", api.outputs


def test_integration_calls_the_lambda_in_the_region(api) -> None:
    uri = only(api, "aws:apigateway/integration:Integration").inputs["uri"]
    assert uri.startswith(f"arn:aws:apigateway:{REGION}:lambda:path/"), uri


def test_stage_traces_with_xray(api) -> None:
    assert only(api, "aws:apigateway/stage:Stage").inputs["xrayTracingEnabled"] is True, "API stage: X-Ray tracing (APIGateway.3)"


def test_request_bodies_never_reach_the_logs(api) -> None:
    settings = only(api, "aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert settings["dataTraceEnabled"] is False, f"model inputs must not be logged: {settings}"


def test_every_api_log_group_is_encrypted(api) -> None:
    plain = [g.inputs["name"] for g in api.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs.get("kmsKeyId") != LOGS_KEY_ARN]
    assert len(api.of_type("aws:cloudwatch/logGroup:LogGroup")) == 3 and not plain, f"API log groups {plain} must use the logs key"


def test_lambda_runs_in_the_vpc(api) -> None:
    config = only(api, "aws:lambda/function:Function").inputs["vpcConfig"]
    assert config == {"subnetIds": SUBNET_IDS, "securityGroupIds": SECURITY_GROUP_IDS}, config


def test_lambda_environment_is_encrypted(api) -> None:
    function = only(api, "aws:lambda/function:Function")
    assert function.inputs["kmsKeyArn"] == KEY_ARN, f"{function.name}: environment under the stage key"


def test_only_this_apis_post_may_invoke_the_lambda(api) -> None:
    permission = only(api, "aws:lambda/permission:Permission")
    assert (permission.inputs["principal"], permission.inputs["sourceArn"]) == (
        "apigateway.amazonaws.com", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.outputs['apiId']}/*/POST/invocations"
    ), permission.inputs
