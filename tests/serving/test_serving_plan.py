"""The serving stacks ``weld-gun-pm-<stage>`` under mocks: what each stage declares, and how securely.

One property per test, on the inputs the engine would receive; messages name the resource.
"""

from __future__ import annotations

import json

import pytest

from mlops_platform.harness import PlanError, plan_stack
from serving_helpers import PROJECT, run_serving

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
SCHEDULE = "aws:scheduler/schedule:Schedule"
REST_API = "aws:apigateway/restApi:RestApi"
REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
METHOD = "aws:apigateway/method:Method"
API_STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
FUNCTION = "aws:lambda/function:Function"
JOB_DEFINITION = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def one(plan, type_token):
    records = plan.of_type(type_token)
    assert len(records) == 1, f"{plan.stack}: expected one {type_token}, found {[r.urn for r in records]}"
    return records[0]


def platform_outputs(stage: str) -> dict:
    return plan_stack(stage).outputs


# ---- the model, its configuration and endpoint ----------------------------------------------------


def test_model_serves_the_given_package(prod_plan) -> None:
    model = one(prod_plan, MODEL)
    assert model.inputs["primaryContainer"]["modelPackageName"] == prod_plan.outputs["modelPackageArn"], model.urn


def test_model_runs_in_the_stage_vpc_with_the_serving_security_group(prod_plan) -> None:
    model, outputs = one(prod_plan, MODEL), platform_outputs("prod")
    assert model.inputs["vpcConfig"]["subnets"] == outputs["subnetIds"], model.urn
    assert model.inputs["vpcConfig"]["securityGroupIds"] == [outputs["servingSecurityGroupId"]], model.urn


def test_model_has_network_isolation(prod_plan) -> None:
    model = one(prod_plan, MODEL)
    assert model.inputs["enableNetworkIsolation"] is True, model.urn


def test_model_runs_as_the_projects_model_role(prod_plan) -> None:
    model = one(prod_plan, MODEL)
    assert model.inputs["executionRoleArn"] == f"arn:aws:iam::666666666666:role/mlops-serving-{PROJECT}-model", model.urn


def test_endpoint_configuration_uses_a_name_prefix(prod_plan) -> None:
    config = one(prod_plan, CONFIG)
    assert config.inputs["namePrefix"] == "mlops-weld-gun-pm-prod-", config.urn
    assert "name" not in config.inputs, f"{config.urn}: a fixed name would block replacing the immutable config"


def test_endpoint_configuration_encrypts_volume_with_the_stage_key(prod_plan) -> None:
    config = one(prod_plan, CONFIG)
    assert config.inputs["kmsKeyArn"] == platform_outputs("prod")["platformKeyArn"], config.urn


def test_endpoint_configuration_captures_data_encrypted_to_its_bucket(prod_plan) -> None:
    capture = one(prod_plan, CONFIG).inputs["dataCaptureConfig"]
    assert capture["enableCapture"] is True
    assert capture["kmsKeyId"] == platform_outputs("prod")["platformKeyArn"], "data capture is not KMS-encrypted"
    assert capture["destinationS3Uri"] == "s3://mlops-weld-gun-pm-cap-666666666666-eu-central-1/capture"


def test_capture_bucket_is_a_secure_bucket(prod_plan) -> None:
    bucket = prod_plan.named(f"{PROJECT}-prod-capture-bucket")
    assert bucket.parent and "mlops:storage:SecureBucket" in bucket.parent, bucket.urn
    sse = prod_plan.named(f"{PROJECT}-prod-capture-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse["sseAlgorithm"] == "aws:kms", bucket.urn


def test_production_variant_uses_the_stage_defaults(prod_plan) -> None:
    (variant,) = one(prod_plan, CONFIG).inputs["productionVariants"]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == ("ml.m5.large", 2), variant


def test_endpoint_is_named_by_project_and_stage(prod_plan) -> None:
    endpoint = one(prod_plan, ENDPOINT)
    assert endpoint.inputs["name"] == "mlops-weld-gun-pm-prod", endpoint.urn


def test_endpoint_log_group_is_precreated_with_kms_and_retention(prod_plan) -> None:
    (group,) = [g for g in prod_plan.of_type(LOG_GROUP) if g.inputs["name"] == "/aws/sagemaker/Endpoints/mlops-weld-gun-pm-prod"]
    assert group.inputs["kmsKeyId"] == platform_outputs("prod")["logsKeyArn"], group.urn
    assert group.inputs["retentionInDays"] >= 365, group.urn



# ---- blue/green and alarms ------------------------------------------------------------------------


def test_prod_endpoint_deploys_blue_green_with_a_canary(prod_plan) -> None:
    policy = one(prod_plan, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"]["type"] == "CANARY", policy


def test_prod_endpoint_rolls_back_on_the_5xx_and_latency_alarms(prod_plan) -> None:
    rollback = one(prod_plan, ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    alarm_names = {a.inputs["name"] for a in prod_plan.of_type(ALARM) if a.inputs.get("namespace") == "AWS/SageMaker"}
    assert {a["alarmName"] for a in rollback} == alarm_names == {
        "mlops-weld-gun-pm-prod-5xx-errors",
        "mlops-weld-gun-pm-prod-p99-latency",
    }


def test_endpoint_alarms_watch_5xx_and_p99_latency(prod_plan) -> None:
    metrics = {(a.inputs["metricName"], a.inputs.get("extendedStatistic", a.inputs.get("statistic")))
               for a in prod_plan.of_type(ALARM) if a.inputs.get("namespace") == "AWS/SageMaker"}
    assert metrics == {("Invocation5XXErrors", "Sum"), ("ModelLatency", "p99")}


def test_every_alarm_notifies_the_stage_alert_topic(prod_plan) -> None:
    topic = platform_outputs("prod")["alertsTopicArn"]
    for alarm in prod_plan.of_type(ALARM):
        assert alarm.inputs["alarmActions"] == [topic], f"{alarm.urn} does not notify {topic}"


def test_int_endpoint_deploys_blue_green_all_at_once_with_rollback(int_plan) -> None:
    config = one(int_plan, ENDPOINT).inputs["deploymentConfig"]
    assert config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "ALL_AT_ONCE", config
    assert len(config["autoRollbackConfiguration"]["alarms"]) == 2, config


def test_dev_endpoint_has_no_deployment_policy(dev_plan) -> None:
    endpoint = one(dev_plan, ENDPOINT)
    assert "deploymentConfig" not in endpoint.inputs, endpoint.urn


# ---- autoscaling ----------------------------------------------------------------------------------


def test_prod_registers_the_variant_as_a_scaling_target(prod_plan) -> None:
    target = one(prod_plan, TARGET)
    assert target.inputs["resourceId"] == "endpoint/mlops-weld-gun-pm-prod/variant/AllTraffic", target.urn
    assert target.inputs["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount", target.urn
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6), target.urn


def test_prod_scaling_target_waits_for_the_endpoint(prod_plan) -> None:
    target, endpoint = one(prod_plan, TARGET), one(prod_plan, ENDPOINT)
    assert endpoint.urn in target.property_dependencies.get("resourceId", []), (
        f"{target.urn} may be registered before the endpoint exists"
    )


def test_prod_scales_by_target_tracking_on_invocations(prod_plan) -> None:
    policy = one(prod_plan, SCALING_POLICY)
    assert policy.inputs["policyType"] == "TargetTrackingScaling", policy.urn
    spec = policy.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance", policy.urn


@pytest.mark.parametrize("fixture", ["dev_plan", "int_plan"])
def test_dev_and_int_have_no_autoscaling(fixture, request) -> None:
    plan = request.getfixturevalue(fixture)
    found = plan.of_type(TARGET) + plan.of_type(SCALING_POLICY)
    assert not found, f"{plan.stack} declares autoscaling: {[r.urn for r in found]}"


def test_phase_one_of_an_instance_type_change_deregisters_scaling() -> None:
    plan = run_serving(f"{PROJECT}-prod", {"serving:autoscalingEnabled": "false"})
    assert not plan.of_type(TARGET) and not plan.of_type(SCALING_POLICY), "autoscalingEnabled=false kept scaling"
    assert plan.of_type(ENDPOINT), "phase one must still declare the endpoint"


# ---- batch inference ------------------------------------------------------------------------------


def test_prod_state_machine_runs_a_transform_job_with_sync(prod_plan) -> None:
    machine = one(prod_plan, STATE_MACHINE)
    task = json.loads(machine.inputs["definition"])["States"]["Transform"]
    assert task["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync", machine.urn


def test_transform_job_encrypts_volume_and_output_with_the_stage_key(prod_plan) -> None:
    key = platform_outputs("prod")["platformKeyArn"]
    parameters = json.loads(one(prod_plan, STATE_MACHINE).inputs["definition"])["States"]["Transform"]["Parameters"]
    assert parameters["TransformResources"]["VolumeKmsKeyId"] == key, parameters["TransformResources"]
    assert parameters["TransformOutput"]["KmsKeyId"] == key, parameters["TransformOutput"]


def test_transform_job_runs_the_endpoints_model(prod_plan) -> None:
    parameters = json.loads(one(prod_plan, STATE_MACHINE).inputs["definition"])["States"]["Transform"]["Parameters"]
    assert parameters["ModelName"] == prod_plan.outputs["modelName"], "batch and endpoint serve different models"


def test_state_machine_logs_traces_and_encrypts(prod_plan) -> None:
    machine = one(prod_plan, STATE_MACHINE)
    assert machine.inputs["loggingConfiguration"]["logDestination"].endswith(":*"), machine.urn
    assert machine.inputs["tracingConfiguration"]["enabled"] is True, machine.urn
    encryption = machine.inputs["encryptionConfiguration"]
    assert encryption["type"] == "CUSTOMER_MANAGED_KMS_KEY" and encryption["kmsKeyId"], machine.urn


def test_state_machine_runs_as_the_batch_role(prod_plan) -> None:
    machine = one(prod_plan, STATE_MACHINE)
    assert machine.inputs["roleArn"].endswith(f":role/mlops-serving-{PROJECT}-batch"), machine.urn


def test_schedule_starts_the_state_machine(prod_plan) -> None:
    schedule, machine = one(prod_plan, SCHEDULE), one(prod_plan, STATE_MACHINE)
    assert schedule.inputs["target"]["arn"] == prod_plan.outputs["batchStateMachineArn"], schedule.urn
    assert schedule.inputs["target"]["roleArn"].endswith(f":role/mlops-serving-{PROJECT}-batch-schedule"), schedule.urn
    assert schedule.inputs["kmsKeyArn"], f"{schedule.urn} is not encrypted with a customer key"
    assert machine.urn in schedule.property_dependencies.get("target", []), schedule.urn


def test_failed_batch_runs_alarm(prod_plan) -> None:
    metrics = {a.inputs["metricName"] for a in prod_plan.of_type(ALARM) if a.inputs.get("namespace") == "AWS/States"}
    assert "ExecutionsFailed" in metrics, f"{prod_plan.stack}: no alarm on failed batch runs ({metrics})"


def test_batch_input_and_output_are_secure_buckets(prod_plan) -> None:
    for part in ("input", "output"):
        bucket = prod_plan.named(f"{PROJECT}-prod-batch-{part}-bucket")
        assert "mlops:storage:SecureBucket" in (bucket.parent or ""), bucket.urn


# ---- private API ----------------------------------------------------------------------------------


def test_api_is_private_behind_the_stage_execute_api_endpoint(prod_plan) -> None:
    api = one(prod_plan, REST_API)
    vpce = platform_outputs("prod")["endpointIds"]["execute-api"]
    assert api.inputs["endpointConfiguration"]["types"] in ("PRIVATE", ["PRIVATE"]), api.urn
    assert api.inputs["endpointConfiguration"]["vpcEndpointIds"] == [vpce], api.urn


def test_api_policy_admits_only_the_stage_execute_api_endpoint(prod_plan) -> None:
    vpce = platform_outputs("prod")["endpointIds"]["execute-api"]
    policy = json.loads(one(prod_plan, REST_API_POLICY).inputs["policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert allow and all(s["Condition"]["StringEquals"]["aws:SourceVpce"] == vpce for s in allow), allow
    assert {"StringNotEquals": {"aws:SourceVpce": vpce}} in [s["Condition"] for s in deny], deny


def test_api_policy_names_this_api(prod_plan) -> None:
    policy = json.loads(one(prod_plan, REST_API_POLICY).inputs["policy"])
    api_id = prod_plan.outputs["apiId"]
    for entry in policy["Statement"]:
        assert entry["Resource"] == f"arn:aws:execute-api:eu-central-1:666666666666:{api_id}/*", entry


def test_api_method_requires_iam_authorization(prod_plan) -> None:
    method = one(prod_plan, METHOD)
    assert method.inputs["authorization"] == "AWS_IAM", method.urn


def test_api_stage_logs_access_to_a_kms_log_group_and_traces(prod_plan) -> None:
    stage = one(prod_plan, API_STAGE)
    destination = stage.inputs["accessLogSettings"]["destinationArn"]
    (group,) = [g for g in prod_plan.of_type(LOG_GROUP) if destination.endswith(f"log-group:{g.inputs['name']}")]
    assert group.inputs["kmsKeyId"], f"{group.urn}: access logs are not KMS-encrypted"
    assert stage.inputs["xrayTracingEnabled"] is True, stage.urn


def test_api_is_throttled_without_request_body_logging(prod_plan) -> None:
    settings = one(prod_plan, METHOD_SETTINGS).inputs["settings"]
    assert settings["throttlingRateLimit"] > 0 and settings["throttlingBurstLimit"] > 0, settings
    assert settings["dataTraceEnabled"] is False, settings


def test_api_lambda_runs_the_inference_handler_in_the_vpc(prod_plan) -> None:
    function = one(prod_plan, FUNCTION)
    assert function.inputs["handler"] == "inference_api.handler", function.urn
    assert function.inputs["code"]["assets"]["inference_api.py"]["path"].endswith("mlops_functions/inference_api.py")
    assert function.inputs["vpcConfig"]["subnetIds"] == platform_outputs("prod")["subnetIds"], function.urn


def test_api_lambda_encrypts_env_and_reserves_concurrency(prod_plan) -> None:
    function = one(prod_plan, FUNCTION)
    assert function.inputs["kmsKeyArn"] == platform_outputs("prod")["platformKeyArn"], function.urn
    assert function.inputs["reservedConcurrentExecutions"] >= 1, function.urn
    assert function.inputs["environment"]["variables"] == {"ENDPOINT_NAME": "mlops-weld-gun-pm-prod"}, function.urn


def test_api_lambda_logs_to_its_own_kms_log_group(prod_plan) -> None:
    function = one(prod_plan, FUNCTION)
    (group,) = [g for g in prod_plan.of_type(LOG_GROUP) if g.inputs["name"] == function.inputs["loggingConfig"]["logGroup"]]
    assert group.inputs["name"] == "/aws/lambda/mlops-weld-gun-pm-prod-api" and group.inputs["kmsKeyId"], group.urn


# ---- Model Monitor --------------------------------------------------------------------------------


def test_job_definition_runs_isolated_in_the_vpc(prod_plan) -> None:
    network = one(prod_plan, JOB_DEFINITION).inputs["networkConfig"]
    assert network["enableNetworkIsolation"] is True, network
    assert network["enableInterContainerTrafficEncryption"] is True, network
    assert network["vpcConfig"]["subnets"] == platform_outputs("prod")["subnetIds"], network


def test_job_definition_encrypts_volume_and_reports(prod_plan) -> None:
    job = one(prod_plan, JOB_DEFINITION).inputs
    key = platform_outputs("prod")["platformKeyArn"]
    assert job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == key, job["jobResources"]
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == key, job["dataQualityJobOutputConfig"]


def test_job_definition_reads_the_endpoint_capture(prod_plan) -> None:
    job = one(prod_plan, JOB_DEFINITION).inputs
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "mlops-weld-gun-pm-prod", job


def test_monitoring_schedule_is_hourly_on_the_job_definition(prod_plan) -> None:
    schedule, job = one(prod_plan, MONITORING_SCHEDULE), one(prod_plan, JOB_DEFINITION)
    config = schedule.inputs["monitoringScheduleConfig"]
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)", schedule.urn
    assert config["monitoringType"] == "DataQuality", schedule.urn
    assert job.urn in schedule.property_dependencies.get("monitoringScheduleConfig", []), schedule.urn


def test_monitor_violations_go_to_the_alert_topic(prod_plan) -> None:
    rule, target = one(prod_plan, EVENT_RULE), one(prod_plan, EVENT_TARGET)
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail"]["Environment"] == {"sagemaker_monitoring_schedule_name": ["mlops-weld-gun-pm-prod-monitor"]}
    assert target.inputs["arn"] == platform_outputs("prod")["alertsTopicArn"], target.urn


def test_baseline_from_the_deployer_reaches_the_job_definition() -> None:
    constraints = "s3://mlops-weld-gun-pm-art-222222222222-eu-central-1/baseline/constraints.json"
    statistics = "s3://mlops-weld-gun-pm-art-222222222222-eu-central-1/baseline/statistics.json"
    plan = run_serving(
        f"{PROJECT}-prod",
        {"serving:baselineConstraintsUri": constraints, "serving:baselineStatisticsUri": statistics},
    )
    baseline = one(plan, JOB_DEFINITION).inputs["dataQualityBaselineConfig"]
    assert baseline["constraintsResource"]["s3Uri"] == constraints, baseline
    assert baseline["statisticsResource"]["s3Uri"] == statistics, baseline


@pytest.mark.parametrize("fixture", ["dev_plan", "int_plan"])
def test_extensions_are_off_by_default_outside_prod(fixture, request) -> None:
    plan = request.getfixturevalue(fixture)
    found = [r.urn for t in (STATE_MACHINE, REST_API, FUNCTION, JOB_DEFINITION) for r in plan.of_type(t)]
    assert not found, f"{plan.stack}: extensions declared although off in serving/stages: {found}"


# ---- provider, outputs and config errors ----------------------------------------------------------


def test_every_resource_uses_the_stage_provider(prod_plan) -> None:
    for record in prod_plan.resources:
        if record.custom and not record.type.startswith("pulumi:"):
            assert record.provider and "pulumi:providers:aws::prod-serving" in record.provider, record.urn


def test_provider_assumes_the_stage_deployment_role_in_the_stage_account(prod_plan) -> None:
    provider = one(prod_plan, "pulumi:providers:aws")
    (assume,) = json.loads(provider.inputs["assumeRoles"])
    assert assume["roleArn"] == "arn:aws:iam::666666666666:role/mlops-serving-deploy", provider.urn
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["666666666666"], provider.urn


def test_stack_exports_the_package_it_serves() -> None:
    arn = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/weld-gun-pm/7"
    plan = run_serving(f"{PROJECT}-dev", {"serving:modelPackageArn": arn})
    assert plan.outputs["modelPackageArn"] == arn
    assert one(plan, MODEL).inputs["primaryContainer"]["modelPackageName"] == arn


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("serving:modelPackageArn", "arn:aws:sagemaker:eu-central-1:222222222222:model-package/weld-gun-pm", "serving:modelPackageArn"),
        ("serving:autoscalingEnabled", "maybe", "serving:autoscalingEnabled"),
        ("serving:baselineConstraintsUri", "s3://bucket/constraints.json", "baselineStatisticsUri"),
        ("serving:instanceCount", "3", "serving:instanceCount: unknown key"),
    ],
)
def test_bad_serving_config_is_one_line_and_declares_nothing(key, value, expected) -> None:
    with pytest.raises(PlanError) as caught:
        run_serving(f"{PROJECT}-prod", {key: value})
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert caught.value.records == [], f"resources declared despite bad config: {[r.urn for r in caught.value.records]}"


def test_preview_plan_runs_with_unknown_platform_values() -> None:
    plan = run_serving(f"{PROJECT}-prod", {}, preview=True)
    assert plan.of_type(ENDPOINT) and plan.of_type(STATE_MACHINE) and plan.of_type(MONITORING_SCHEDULE)


# ---- names the stage deployment role is scoped to -------------------------------------------------

NAMED = {
    MODEL: "name", CONFIG: "namePrefix", ENDPOINT: "name", JOB_DEFINITION: "name", MONITORING_SCHEDULE: "name",
    STATE_MACHINE: "name", SCHEDULE: "name", FUNCTION: "name", ALARM: "name", EVENT_RULE: "name",
}


def test_serving_resource_names_start_with_the_platform_prefix(prod_plan) -> None:
    for type_token, key in NAMED.items():
        for record in prod_plan.of_type(type_token):
            assert str(record.inputs.get(key, "")).startswith("mlops-"), (
                f"{record.urn}: {key} {record.inputs.get(key)!r} is outside the deployment role's mlops-* scope"
            )


def test_endpoint_config_prefix_leaves_room_for_sagemakers_suffix(prod_plan) -> None:
    config = one(prod_plan, CONFIG)
    assert len(config.inputs["namePrefix"]) <= 37, config.urn


def test_a_new_package_gets_a_new_model_name(prod_plan) -> None:
    arn = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/weld-gun-pm/2"
    other = run_serving(f"{PROJECT}-prod", {"serving:modelPackageArn": arn})
    before, after = one(prod_plan, MODEL).inputs["name"], one(other, MODEL).inputs["name"]
    assert before != after and len(after) <= 63, (before, after)


def test_without_a_package_arn_the_stack_serves_its_last_exported_version() -> None:
    from mlops_core.paths import REPO_ROOT
    from mlops_platform.harness import SERVING_PROJECT, run_program, serving_stack_config

    name, served = f"{PROJECT}-dev", "arn:aws:sagemaker:eu-central-1:222222222222:model-package/weld-gun-pm/5"
    config, stage, account = serving_stack_config(name, None)
    del config["serving:modelPackageArn"]
    platform = plan_stack(stage)
    records, outputs, _ = run_program(
        REPO_ROOT / "serving", SERVING_PROJECT, name, config, account, platform.region,
        stack_outputs={stage: platform.outputs, name: {"modelPackageArn": served}},
    )
    (model,) = [r for r in records if r.type == MODEL]
    assert model.inputs["primaryContainer"]["modelPackageName"] == served, model.urn
    assert outputs["modelPackageArn"] == served


def test_only_this_apis_post_invocations_may_invoke_the_lambda(prod_plan) -> None:
    permission = one(prod_plan, "aws:lambda/permission:Permission")
    api_id = prod_plan.outputs["apiId"]
    assert permission.inputs["principal"] == "apigateway.amazonaws.com", permission.urn
    assert permission.inputs["sourceArn"] == f"arn:aws:execute-api:eu-central-1:666666666666:{api_id}/*/POST/invocations"
    assert permission.inputs["sourceAccount"] == "666666666666", permission.urn
