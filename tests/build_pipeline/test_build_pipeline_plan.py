"""`plan --stack exp`: per config-driven project the pipeline, its code, schedule and failure alert."""

from __future__ import annotations

import json

import pytest
from build_pipeline_helpers import (
    EVENT_RULE,
    EVENT_TARGET,
    OBJECT,
    ROLE,
    SCHEDULE,
    children,
    combined,
    definition_of,
    document,
    matches_pattern,
    one,
    pipeline_of,
    role_documents,
    step_of_type,
)

from components.exp_policies import allows
from mlops_core.config import load_organization
from mlops_platform.harness import fake_state

ORG = load_organization()
PROJECTS = [p.name for p in ORG.model_projects]
SCHEDULED = [p.name for p in ORG.model_projects if p.retrain_schedule is not None]
UNSCHEDULED = [p.name for p in ORG.model_projects if p.retrain_schedule is None]
WITH_DATA = [p.name for p in ORG.model_projects if p.data_access]
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
KEY = "aws:kms/key:Key"


def project_role_arn(plan, project: str) -> str:
    return f"arn:aws:iam::{plan.account_id}:role/{ORG.platform_name}-project-{project}"


# ---- the pipeline ----------------------------------------------------------------------------------


@pytest.mark.parametrize("project", PROJECTS)
def test_each_project_has_its_named_pipeline(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    assert pipeline.inputs["pipelineName"] == f"{ORG.platform_name}-{project}-build", pipeline.urn


@pytest.mark.parametrize("project", PROJECTS)
def test_pipeline_runs_as_the_project_role(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    assert pipeline.inputs["roleArn"] == project_role_arn(exp_plan, project), pipeline.urn


@pytest.mark.parametrize("project", PROJECTS)
def test_definition_is_json_in_the_2020_12_01_format(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    definition = definition_of(pipeline)
    assert definition["Version"] == "2020-12-01", f"{pipeline.urn}: definition version {definition.get('Version')!r}"


@pytest.mark.parametrize("project", PROJECTS)
def test_definition_has_the_build_steps(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    types = [step["Type"] for step in definition_of(pipeline)["Steps"]]
    assert types == ["Processing", "Training", "Processing", "QualityCheck", "Condition"], f"{pipeline.urn}: steps {types}"


@pytest.mark.parametrize("project", PROJECTS)
def test_condition_threshold_is_the_projects_metric_threshold(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    condition = step_of_type(definition_of(pipeline), "Condition")
    rights = [c["RightValue"] for c in condition["Arguments"]["Conditions"]]
    assert ORG.project(project).metric_threshold in rights, f"{pipeline.urn}: condition thresholds {rights}"


@pytest.mark.parametrize("project", PROJECTS)
def test_pipeline_registers_into_the_projects_group(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    register = step_of_type(definition_of(pipeline), "RegisterModel")
    assert register["Arguments"]["ModelPackageGroupName"] == project, pipeline.urn


@pytest.mark.parametrize("project", PROJECTS)
def test_jobs_run_in_the_projects_security_group_and_the_exp_subnets(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    tagged = [r for r in exp_plan.of_type(SECURITY_GROUP) if (r.inputs.get("tags") or {}).get("mlops:project") == project]
    group = one([r for r in tagged if "mlops:user" not in r.inputs["tags"]], f"job security group of {project}")
    group_id, _ = fake_state(SECURITY_GROUP, group.name, group.inputs, exp_plan.account_id, exp_plan.region)
    vpc = step_of_type(definition_of(pipeline), "Training")["Arguments"]["VpcConfig"]
    assert sorted(vpc["Subnets"]) == sorted(exp_plan.outputs["subnetIds"]), f"{pipeline.urn}: subnets {vpc['Subnets']}"
    assert vpc["SecurityGroupIds"] == [group_id], f"{pipeline.urn}: security groups {vpc['SecurityGroupIds']}, expected {group.urn}"


# ---- code objects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("project", PROJECTS)
def test_code_objects_are_what_the_definition_names(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    text = pipeline.inputs["pipelineDefinition"]
    objects = children(exp_plan, project, OBJECT)
    uris = {f"s3://{o.inputs['bucket']}/{o.inputs['key']}" for o in objects}
    assert len(objects) == 3, [o.urn for o in objects]
    missing = sorted(uri for uri in uris if json.dumps(uri) not in text)
    assert not missing, f"{pipeline.urn}: uploaded objects the definition does not name: {missing}"


def project_key_arn(plan, project: str) -> str:
    """ARN of the one KMS key tagged with the project (the workspace's project key), as the mocks give it."""
    key = one([r for r in plan.of_type(KEY) if (r.inputs.get("tags") or {}).get("mlops:project") == project], f"key of {project}")
    key_id, _ = fake_state(KEY, key.name, key.inputs, plan.account_id, plan.region)
    return f"arn:aws:kms:{plan.region}:{plan.account_id}:key/{key_id}"


@pytest.mark.parametrize("project", PROJECTS)
def test_code_objects_are_encrypted_with_the_project_key(exp_plan, project: str) -> None:
    key_arn = project_key_arn(exp_plan, project)
    for obj in children(exp_plan, project, OBJECT):
        assert obj.inputs.get("serverSideEncryption") == "aws:kms", f"{obj.urn}: not SSE-KMS"
        assert obj.inputs.get("kmsKeyId") == key_arn, f"{obj.urn}: encrypted with {obj.inputs.get('kmsKeyId')}, not {key_arn}"


@pytest.mark.parametrize("project", PROJECTS)
def test_jobs_use_the_project_key(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    training = step_of_type(definition_of(pipeline), "Training")["Arguments"]
    keys = {training["OutputDataConfig"]["KmsKeyId"], training["ResourceConfig"]["VolumeKmsKeyId"]}
    assert keys == {project_key_arn(exp_plan, project)}, f"{pipeline.urn}: training keys {keys}"


@pytest.mark.parametrize("project", PROJECTS)
def test_code_keys_are_content_hashed_under_the_project_prefix(exp_plan, project: str) -> None:
    for obj in children(exp_plan, project, OBJECT):
        parts = obj.inputs["key"].split("/")
        assert parts[:2] == ["code", project] and len(parts[2]) == 16, f"{obj.urn}: key {obj.inputs['key']!r}"


# ---- the project role can do what the pipeline does ------------------------------------------------------


@pytest.mark.parametrize("project", PROJECTS)
def test_project_role_may_pull_every_image_of_the_definition(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    policy = combined(role_documents(exp_plan, f"{ORG.platform_name}-project-{project}"))
    text = pipeline.inputs["pipelineDefinition"]
    images = {value for key, value in _pairs(json.loads(text)) if key in ("Image", "ImageUri", "TrainingImage")}
    assert images, f"{pipeline.urn}: no images found"
    for image in images:
        account, _, rest = image.partition(".dkr.ecr.")
        region, _, path = rest.partition(".amazonaws.com/")
        repository = f"arn:aws:ecr:{region}:{account}:repository/{path.split(':')[0].split('@')[0]}"
        assert allows(policy, "ecr:BatchGetImage", repository), f"{pipeline.urn}: project role cannot pull {image}"


@pytest.mark.parametrize(
    "action, resource",
    [
        ("sagemaker:CreateProcessingJob", "arn:aws:sagemaker:{region}:{account}:processing-job/preprocess-1"),
        ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:{region}:{account}:training-job/train-1"),
        ("sagemaker:CreateModelPackage", "arn:aws:sagemaker:{region}:{account}:model-package-group/{project}"),
        ("iam:PassRole", "arn:aws:iam::{account}:role/{platform}-project-{project}"),
        ("ecr:GetAuthorizationToken", "*"),
    ],
)
@pytest.mark.parametrize("project", PROJECTS)
def test_project_role_may_run_the_pipeline(exp_plan, project: str, action: str, resource: str) -> None:
    policy = combined(role_documents(exp_plan, f"{ORG.platform_name}-project-{project}"))
    target = resource.format(region=exp_plan.region, account=exp_plan.account_id, project=project, platform=ORG.platform_name)
    assert allows(policy, action, target), f"project role of {project} lacks {action} on {target}"


@pytest.mark.parametrize(
    "action, resource",
    [
        ("athena:StartQueryExecution", "arn:aws:athena:{region}:{account}:workgroup/{workgroup}"),
        ("glue:GetTable", "arn:aws:glue:{region}:{account}:table/{database}/welding_sensors_curated"),
        ("lakeformation:GetDataAccess", "*"),
    ],
)
@pytest.mark.parametrize("project", WITH_DATA)
def test_project_role_may_run_the_athena_input(exp_plan, project: str, action: str, resource: str) -> None:
    raw = step_of_type(definition_of(pipeline_of(exp_plan, project)), "Processing")["Arguments"]["ProcessingInputs"][0]
    athena = raw["DatasetDefinition"]["AthenaDatasetDefinition"]
    policy = combined(role_documents(exp_plan, f"{ORG.platform_name}-project-{project}"))
    target = resource.format(region=exp_plan.region, account=exp_plan.account_id, workgroup=athena["WorkGroup"], database=athena["Database"])
    assert allows(policy, action, target), f"project role of {project} lacks {action} on {target}"


@pytest.mark.parametrize("project", PROJECTS)
def test_project_role_may_read_the_code_objects(exp_plan, project: str) -> None:
    policy = combined(role_documents(exp_plan, f"{ORG.platform_name}-project-{project}"))
    for obj in children(exp_plan, project, OBJECT):
        arn = f"arn:aws:s3:::{obj.inputs['bucket']}/{obj.inputs['key']}"
        assert allows(policy, "s3:GetObject", arn), f"project role of {project} cannot read {obj.urn}"


def _pairs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _pairs(item)


# ---- Athena input (the DATA account exists) ----------------------------------------------------------------


@pytest.mark.parametrize("project", WITH_DATA)
def test_input_is_the_shared_data_set_through_the_projects_workgroup(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    (raw,) = step_of_type(definition_of(pipeline), "Processing")["Arguments"]["ProcessingInputs"][:1]
    athena = raw["DatasetDefinition"]["AthenaDatasetDefinition"]
    workgroups = {r.inputs["name"] for r in exp_plan.of_type("aws:athena/workgroup:Workgroup")}
    links = {r.inputs["name"] for r in exp_plan.of_type("aws:glue/catalogDatabase:CatalogDatabase")}
    assert athena["WorkGroup"] in workgroups and athena["WorkGroup"].endswith(project), f"{pipeline.urn}: workgroup {athena['WorkGroup']!r} not one of {workgroups}"
    assert athena["Database"] in links, f"{pipeline.urn}: database {athena['Database']!r} is not a resource link of the stack ({links})"


@pytest.mark.parametrize("project", WITH_DATA)
def test_query_selects_exactly_the_granted_columns(exp_plan, project: str) -> None:
    pipeline = pipeline_of(exp_plan, project)
    raw = step_of_type(definition_of(pipeline), "Processing")["Arguments"]["ProcessingInputs"][0]
    query = raw["DatasetDefinition"]["AthenaDatasetDefinition"]["QueryString"]
    access = ORG.project(project).data_access[0]
    granted = access.columns or [c.name for d in ORG.data_sets if d.name == access.data_set for c in d.columns if not c.pii]
    selected = query.split(" FROM ")[0].removeprefix("SELECT ").replace('"', "").split(", ")
    assert sorted(selected) == sorted(granted), f"{pipeline.urn}: query {query!r}"


@pytest.mark.parametrize("project", PROJECTS)
def test_no_sample_data_is_uploaded_when_the_lake_provides_the_data(exp_plan, project: str) -> None:
    keys = [o.inputs["key"] for o in children(exp_plan, project, OBJECT)]
    assert not [k for k in keys if k.startswith("data/")], f"exp-{project}-build uploads sample data: {keys}"


# ---- sample data input (no DATA account) -------------------------------------------------------------------


@pytest.mark.parametrize("project", PROJECTS)
def test_without_data_account_the_sample_is_uploaded_and_read(exp_plan_without_data, project: str) -> None:
    plan = exp_plan_without_data
    pipeline = pipeline_of(plan, project)
    sample = one([o for o in children(plan, project, OBJECT) if o.inputs["key"].startswith(f"data/{project}/")], "sample object")
    raw = step_of_type(definition_of(pipeline), "Processing")["Arguments"]["ProcessingInputs"][0]
    expected = f"s3://{sample.inputs['bucket']}/{sample.inputs['key']}"
    assert raw.get("S3Input", {}).get("S3Uri") == expected, f"{pipeline.urn}: raw input {raw}"


def test_without_data_account_the_sample_is_encrypted(exp_plan_without_data) -> None:
    for project in PROJECTS:
        for obj in children(exp_plan_without_data, project, OBJECT):
            assert obj.inputs.get("serverSideEncryption") == "aws:kms" and obj.inputs.get("kmsKeyId"), f"{obj.urn}: not SSE-KMS"


# ---- retraining schedule -------------------------------------------------------------------------------------


@pytest.mark.parametrize("project", SCHEDULED)
def test_scheduled_project_has_a_schedule_with_its_expression(exp_plan, project: str) -> None:
    schedule = one(children(exp_plan, project, SCHEDULE), f"schedule of {project}")
    assert schedule.inputs["scheduleExpression"] == ORG.project(project).retrain_schedule, schedule.urn


@pytest.mark.parametrize("project", UNSCHEDULED)
def test_project_without_schedule_has_none(exp_plan, project: str) -> None:
    assert children(exp_plan, project, SCHEDULE) == [], f"exp-{project}-build: retrainSchedule is null but a schedule exists"


@pytest.mark.parametrize("project", SCHEDULED)
def test_schedule_starts_the_projects_pipeline(exp_plan, project: str) -> None:
    schedule = one(children(exp_plan, project, SCHEDULE), "schedule")
    pipeline = pipeline_of(exp_plan, project)
    arn = f"arn:aws:sagemaker:{exp_plan.region}:{exp_plan.account_id}:pipeline/{pipeline.inputs['pipelineName']}"
    assert schedule.inputs["target"]["arn"].startswith(arn), f"{schedule.urn}: target {schedule.inputs['target']['arn']}"


@pytest.mark.parametrize("project", SCHEDULED)
def test_schedule_role_trusts_only_this_accounts_scheduler(exp_plan, project: str) -> None:
    role = one(children(exp_plan, project, ROLE), "schedule role")
    (trust,) = document(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}, role.urn
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == exp_plan.account_id, f"{role.urn}: no aws:SourceAccount"


@pytest.mark.parametrize("project", SCHEDULED)
def test_schedule_role_may_only_start_this_pipeline(exp_plan, project: str) -> None:
    role = one(children(exp_plan, project, ROLE), "schedule role")
    schedule = one(children(exp_plan, project, SCHEDULE), "schedule")
    assert schedule.inputs["target"]["roleArn"].endswith(f":role/{role.inputs['name']}"), schedule.urn
    statements = [s for d in role_documents(exp_plan, role.inputs["name"]) for s in d["Statement"]]
    granted = {(s["Effect"], json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in statements}
    assert granted == {("Allow", json.dumps(["sagemaker:StartPipelineExecution"]), json.dumps(schedule.inputs["target"]["arn"]))}, (
        f"{role.urn}: grants {granted}"
    )


# ---- failure alert -----------------------------------------------------------------------------------------


def _failure_event(pipeline_arn: str, status: str) -> dict:
    return {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
        "detail": {"pipelineArn": pipeline_arn, "pipelineExecutionArn": f"{pipeline_arn}/execution/abc", "currentPipelineExecutionStatus": status},
    }


@pytest.mark.parametrize("project", PROJECTS)
def test_failure_rule_matches_a_failed_execution_of_the_pipeline(exp_plan, project: str) -> None:
    rule = one(children(exp_plan, project, EVENT_RULE), "failure rule")
    pattern = document(rule.inputs["eventPattern"])
    arn = pattern["detail"]["pipelineArn"][0]
    assert arn.startswith(f"arn:aws:sagemaker:{exp_plan.region}:{exp_plan.account_id}:pipeline/{pipeline_of(exp_plan, project).inputs['pipelineName']}"), rule.urn
    assert matches_pattern(pattern, _failure_event(arn, "Failed")), f"{rule.urn}: a failed execution does not match"


@pytest.mark.parametrize("project", PROJECTS)
def test_failure_rule_ignores_successes_and_other_pipelines(exp_plan, project: str) -> None:
    rule = one(children(exp_plan, project, EVENT_RULE), "failure rule")
    pattern = document(rule.inputs["eventPattern"])
    arn = pattern["detail"]["pipelineArn"][0]
    assert not matches_pattern(pattern, _failure_event(arn, "Succeeded")), f"{rule.urn}: matches a succeeded execution"
    assert not matches_pattern(pattern, _failure_event(arn + "-other", "Failed")), f"{rule.urn}: matches another pipeline"


@pytest.mark.parametrize("project", PROJECTS)
def test_failures_go_to_the_accounts_alerts_topic(exp_plan, project: str) -> None:
    target = one(children(exp_plan, project, EVENT_TARGET), "failure rule target")
    assert target.inputs["arn"] == exp_plan.outputs["alertsTopicArn"], f"{target.urn}: target {target.inputs['arn']}"


# ---- exports ---------------------------------------------------------------------------------------------


def test_each_project_stack_exports_its_pipeline(exp_plan) -> None:
    exported = {project: stack.get("modelBuildPipelineArn") for project, stack in exp_plan.outputs["projectStacks"].items()}
    assert sorted(p for p, arn in exported.items() if arn) == sorted(PROJECTS), exported
