"""EXP components with what the committed workspace never has: no stage accounts, no Studio users, a
self-managed GitLab host, a pipeline on sample data (no DATA account) without a retraining schedule."""

from __future__ import annotations

import base64
import json

import pulumi_aws as aws
import pytest

from component_helpers import (
    ACCOUNT, ANYWHERE, KEY_ARN, LOGS_KEY_ARN, PREFIX_LIST_ID, REGION, SECURITY_GROUP_IDS, SUBNET_IDS, TOPIC_ARN, VPC_CIDR,
    VPC_ID, as_list, document, only, statement,
)
from components.build_pipeline import ModelBuildPipeline, ModelBuildPipelineArgs
from components.model_project import ModelProject, ModelProjectArgs, ProjectIdentity, ProjectIdentityArgs
from components.service_catalog import ModelBuildingProduct, ModelBuildingProductArgs, TemplateSettings
from components.studio import Studio, StudioArgs, StudioUser
from mlops_pipelines import AthenaSource, package_seed_code, sample_data_object
from mlops_platform.harness import DeclarationPlan, plan_declaration

RES_ACCOUNT = "333300000003"
STAGE_ACCOUNT = "444400000004"
BUS_ARN = f"arn:aws:events:{REGION}:{RES_ACCOUNT}:event-bus/acme-models"
EVENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-events-forwarder"
READERS = {STAGE_ACCOUNT: [f"arn:aws:iam::{STAGE_ACCOUNT}:role/acme-serving-pump-pm-*"]}

# ---- ModelProject -----------------------------------------------------------------------------------


def project_plan(stage_account_ids: list[str], readers: dict[str, list[str]]) -> DeclarationPlan:
    """A project's two parts together: its identity (the account stack's) and its resources (its own stack's)."""
    def declare():
        ProjectIdentity(
            "pump",
            ProjectIdentityArgs(project="pump-pm", account_id=ACCOUNT, role_name="acme-project-pump-pm", vpc_id=VPC_ID,
                                vpc_cidr=VPC_CIDR, s3_prefix_list_id=PREFIX_LIST_ID),
        )
        ModelProject(
            "pump",
            ModelProjectArgs(
                project="pump-pm", description="", platform_name="acme", account_id=ACCOUNT, region=REGION, model_package_group="pump-pm",
                bucket_name="acme-pump-pm", access_log_bucket="acme-access-logs",
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-project-pump-pm", key_alias="alias/acme-project-pump-pm",
                res_account_id=RES_ACCOUNT, stage_account_ids=stage_account_ids, reader_role_patterns=readers,
                exempt_principal_arns=[f"arn:aws:iam::{ACCOUNT}:role/acme-deploy"], event_bus_arn=BUS_ARN, events_role_arn=EVENTS_ROLE,
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def project() -> DeclarationPlan:
    return project_plan([STAGE_ACCOUNT], READERS)


@pytest.fixture(scope="module")
def lone_project() -> DeclarationPlan:
    return project_plan([], {})


TAGGED = ["aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:sagemaker/modelPackageGroup:ModelPackageGroup", "aws:iam/role:Role",
          "aws:ec2/securityGroup:SecurityGroup", "aws:cloudwatch/eventRule:EventRule"]


@pytest.mark.parametrize("type_token", TAGGED)
def test_project_resources_carry_the_project_tag(project, type_token) -> None:
    record = only(project, type_token)
    assert (record.inputs.get("tags") or {}).get("mlops:project") == "pump-pm", f"{record.name}: tagged mlops:project=pump-pm (ABAC)"


def test_stage_readers_may_only_decrypt_through_regional_s3(project) -> None:
    reader = statement(document(only(project, "aws:kms/key:Key")), f"KeyUse1Account{STAGE_ACCOUNT}")
    assert (sorted(reader["Action"]), reader["Condition"]["StringEquals"]) == (
        ["kms:Decrypt", "kms:DescribeKey"], {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}
    ), reader


def test_project_without_readers_admits_only_its_own_account(lone_project) -> None:
    accounts = {s["Principal"]["AWS"] for s in document(only(lone_project, "aws:kms/key:Key"))["Statement"]}
    assert accounts == {f"arn:aws:iam::{ACCOUNT}:root"}, f"no readers: the project key names only {ACCOUNT}, got {accounts}"


def test_registry_without_stage_accounts_lets_only_res_read(lone_project) -> None:
    statements = document(only(lone_project, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"), "resourcePolicy")["Statement"]
    principals = {p for s in statements for p in as_list(s["Principal"]["AWS"])}
    assert principals == {f"arn:aws:iam::{RES_ACCOUNT}:root"}, f"no stage accounts: only RES reads the group, got {principals}"


def test_stage_accounts_may_create_models_from_the_group(project) -> None:
    create = statement(document(only(project, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"), "resourcePolicy"),
                       "StagesCreateModels")
    assert create["Resource"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/pump-pm/*", create


def test_bucket_denies_principals_outside_the_project(project) -> None:
    deny = statement(document(project.named("pump-artifacts-policy")), "DenyPrincipalsOutsideTheProject")
    assert (deny["Effect"], deny["Condition"]["StringEquals"]) == ("Deny", {"aws:PrincipalAccount": ACCOUNT}), deny


def test_project_role_is_trusted_by_sagemaker_of_this_account(project) -> None:
    (trust,) = document(only(project, "aws:iam/role:Role"), "assumeRolePolicy")["Statement"]
    assert (trust["Principal"], trust["Condition"]) == (
        {"Service": "sagemaker.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    ), trust


def test_jobs_reach_only_the_endpoints_s3_and_each_other(project) -> None:
    egress = only(project, "aws:ec2/securityGroup:SecurityGroup").inputs["egress"]
    targets = sorted((tuple(r.get("cidrBlocks") or []), tuple(r.get("prefixListIds") or []), bool(r.get("self"))) for r in egress)
    assert targets == [((), (), True), ((), (PREFIX_LIST_ID,), False), ((VPC_CIDR,), (), False)], (
        f"jobs security group: egress to the VPC endpoints, the S3 gateway and the group itself only, got {targets}"
    )


def test_new_versions_of_this_group_only_are_forwarded(project) -> None:
    pattern = json.loads(only(project, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert pattern["detail"]["ModelPackageGroupName"] == ["pump-pm"], pattern


def test_new_versions_go_to_the_res_bus(project) -> None:
    target = only(project, "aws:cloudwatch/eventTarget:EventTarget")
    assert (target.inputs["arn"], target.inputs["roleArn"]) == (BUS_ARN, EVENTS_ROLE), target.inputs


# ---- Studio -----------------------------------------------------------------------------------------


def studio_plan(users: list[StudioUser], idle: int = 60, max_idle: int = 240) -> DeclarationPlan:
    def declare():
        Studio("studio", StudioArgs(domain_name="acme-studio", vpc_id=VPC_ID, vpc_cidr=VPC_CIDR, subnet_ids=SUBNET_IDS,
                                    s3_prefix_list_id=PREFIX_LIST_ID, kms_key_arn=KEY_ARN,
                                    default_execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-studio-default", users=users,
                                    idle_timeout_minutes=idle, max_idle_timeout_minutes=max_idle))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


ZOE = StudioUser(name="zoe", execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-user-zoe", lifecycle_script="#!/bin/bash\necho zoe\n",
                 tags={"mlops:project": "pump-pm"})


@pytest.fixture(scope="module")
def empty_studio() -> DeclarationPlan:
    return studio_plan([])


@pytest.fixture(scope="module")
def studio() -> DeclarationPlan:
    return studio_plan([ZOE], idle=120, max_idle=480)


def test_domain_is_vpc_only_in_every_subnet(empty_studio) -> None:
    domain = only(empty_studio, "aws:sagemaker/domain:Domain")
    assert (domain.inputs["appNetworkAccessType"], domain.inputs["subnetIds"]) == ("VpcOnly", SUBNET_IDS), domain.inputs


def test_domain_volumes_use_the_platform_key(empty_studio) -> None:
    assert only(empty_studio, "aws:sagemaker/domain:Domain").inputs["kmsKeyId"] == KEY_ARN, "Studio EFS and volumes under the platform key"


def test_domain_disables_docker_and_notebook_sharing(empty_studio) -> None:
    domain = only(empty_studio, "aws:sagemaker/domain:Domain").inputs
    flags = (domain["domainSettings"]["dockerSettings"]["enableDockerAccess"],
             domain["defaultUserSettings"]["sharingSettings"]["notebookOutputOption"])
    assert flags == ("DISABLED", "Disabled"), f"Studio: no Docker, no shared notebook outputs, got {flags}"


def test_studio_without_users_declares_no_profiles(empty_studio) -> None:
    declared = empty_studio.of_type("aws:sagemaker/userProfile:UserProfile") + empty_studio.of_type(
        "aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig")
    assert not declared, f"no users: only the domain, got {[r.name for r in declared]}"


def test_each_user_runs_as_an_own_role(studio) -> None:
    settings = only(studio, "aws:sagemaker/userProfile:UserProfile").inputs["userSettings"]
    assert settings["executionRole"] == ZOE.execution_role_arn, f"zoe's profile runs as her own role, got {settings['executionRole']}"


def test_each_user_gets_an_own_security_group(studio) -> None:
    profile, group = studio.named("studio-zoe-profile"), studio.named("studio-zoe-sg")
    assert group.urn in profile.property_dependencies["userSettings"], "zoe's profile uses her own security group"


def test_lifecycle_configuration_carries_the_script(studio) -> None:
    content = only(studio, "aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig").inputs["studioLifecycleConfigContent"]
    assert base64.b64decode(content).decode() == ZOE.lifecycle_script, "the lifecycle configuration is the user's script, base64"


def idle_settings(settings: dict) -> dict:
    return settings["jupyterLabAppSettings"]["appLifecycleManagement"]["idleSettings"]


def test_domain_idle_shutdown_follows_the_configured_timeouts(studio) -> None:
    idle = idle_settings(only(studio, "aws:sagemaker/domain:Domain").inputs["defaultUserSettings"])
    timeouts = (idle["lifecycleManagement"], idle["idleTimeoutInMinutes"], idle["minIdleTimeoutInMinutes"], idle["maxIdleTimeoutInMinutes"])
    # SageMaker's floor for all three is 60 minutes (botocore: IdleTimeoutInMinutes min 60).
    assert timeouts == ("ENABLED", 120, 60, 480), f"Studio domain: idle shutdown after 120 min, users may choose 60-480, got {timeouts}"


def test_user_idle_shutdown_matches_the_domain(studio) -> None:
    user = idle_settings(only(studio, "aws:sagemaker/userProfile:UserProfile").inputs["userSettings"])
    domain = idle_settings(only(studio, "aws:sagemaker/domain:Domain").inputs["defaultUserSettings"])
    assert user == domain, f"zoe's profile must not loosen the domain's idle shutdown: {user} vs {domain}"


def test_studio_security_groups_never_reach_the_internet(studio) -> None:
    open_rules = [g.name for g in studio.of_type("aws:ec2/securityGroup:SecurityGroup") for r in g.inputs["egress"]
                  if ANYWHERE & set(r.get("cidrBlocks") or [])]
    assert len(studio.of_type("aws:ec2/securityGroup:SecurityGroup")) == 2 and not open_rules, f"Studio groups {open_rules} reach anywhere"


# ---- ModelBuildingProduct -------------------------------------------------------------------------------

SETTINGS = TemplateSettings(
    platform_name="acme", account_id=ACCOUNT, region=REGION, res_account_id=RES_ACCOUNT, stage_account_ids=[STAGE_ACCOUNT],
    vpc_id=VPC_ID, subnet_ids=SUBNET_IDS, security_group_ids=SECURITY_GROUP_IDS, kms_key_arn=KEY_ARN, logs_key_arn=LOGS_KEY_ARN,
    artifacts_bucket="acme-sc-art", boundary_arn=f"arn:aws:iam::{ACCOUNT}:policy/acme-sc-boundary",
    guardrail_policy_arns=[f"arn:aws:iam::{ACCOUNT}:policy/acme-sagemaker-deny-network"],
    connection_arn=f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/0f0f0f0f", source_provider_type="GitLabSelfManaged",
    repository_host="https://git.acme.internal", event_bus_arn=BUS_ARN, events_role_arn=EVENTS_ROLE, codeartifact_domain="acme",
    codeartifact_repository="team",
)


def building_plan(launchers: list[str], patterns: list[str]) -> DeclarationPlan:
    def declare():
        product = ModelBuildingProduct("sc", ModelBuildingProductArgs(platform_name="acme", account_id=ACCOUNT, region=REGION,
                                                                      settings=SETTINGS, template_bucket="acme-sc-art"))
        product.associate_launchers(launchers, patterns)

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def building() -> DeclarationPlan:
    lead_sso_roles = "arn:aws:iam:::role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_acme-lead_*"
    return building_plan([f"arn:aws:iam::{ACCOUNT}:role/acme-lead"], [lead_sso_roles])


def template(plan: DeclarationPlan) -> dict:
    return json.loads(only(plan, "aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"])


def test_self_managed_gitlab_builds_from_the_own_host(building) -> None:
    source = template(building)["Resources"]["Build"]["Properties"]["Source"]
    assert (source["Type"], source["Location"]) == ("GITLAB_SELF_MANAGED", {"Fn::Sub": "https://git.acme.internal/${RepositoryId}.git"}), source


def test_builds_authenticate_through_the_connection(building) -> None:
    auth = template(building)["Resources"]["Build"]["Properties"]["Source"]["Auth"]
    assert auth == {"Type": "CODECONNECTIONS", "Resource": SETTINGS.connection_arn}, auth


def test_product_builds_run_in_the_vpc(building) -> None:
    vpc = template(building)["Resources"]["Build"]["Properties"]["VpcConfig"]
    assert vpc["Subnets"] == sorted(SUBNET_IDS), f"product builds run in the three EXP subnets, got {vpc}"


@pytest.mark.parametrize("role", ["PipelineRole", "BuildRole"])
def test_product_roles_carry_boundary_and_guardrails(building, role) -> None:
    properties = template(building)["Resources"][role]["Properties"]
    assert (properties["PermissionsBoundary"], properties["ManagedPolicyArns"]) == (SETTINGS.boundary_arn, SETTINGS.guardrail_policy_arns), properties


def test_product_without_launchers_is_shared_with_nobody() -> None:
    plan = building_plan([], [])
    assert not plan.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation"), "no launchers, no associations"


def test_launchers_are_associated_by_arn_and_by_pattern(building) -> None:
    associations = building.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")
    kinds = sorted(a.inputs["principalType"] for a in associations)
    assert kinds == ["IAM", "IAM_PATTERN"], kinds


def test_product_is_visible_in_studio(building) -> None:
    tags = only(building, "aws:servicecatalog/product:Product").inputs["tags"]
    assert tags == {"sagemaker:studio-visibility": "true"}, tags


def test_template_url_names_the_region(building) -> None:
    url = only(building, "aws:servicecatalog/product:Product").inputs["provisioningArtifactParameters"]["templateUrl"]
    assert url.startswith(f"https://acme-sc-art.s3.{REGION}.amazonaws.com/model-building/"), url


def test_launch_role_creates_roles_only_with_the_boundary(building) -> None:
    create = statement(document(building.named("sc-launch-policy")), "CreateRolesOnlyWithBoundary")
    assert create["Condition"] == {"ArnEquals": {"iam:PermissionsBoundary": SETTINGS.boundary_arn}}, create


def test_studio_projects_are_enabled(building) -> None:
    status = only(building, "aws:sagemaker/servicecatalogPortfolioStatus:ServicecatalogPortfolioStatus")
    assert status.inputs["status"] == "Enabled", f"{status.name}: SageMaker projects need the portfolio status Enabled"


# ---- ModelBuildPipeline ------------------------------------------------------------------------------
# Preview with the project role declared here: its ARN is unknown, so the definition (SageMaker SDK,
# seconds) is not built; every input these tests read is known.


def pipeline_plan(*, retrain: str | None, athena: AthenaSource | None = None) -> DeclarationPlan:
    def declare():
        role = aws.iam.Role("project-role", aws.iam.RoleArgs(name="acme-project-pump-pm", assume_role_policy="{}"))
        ModelBuildPipeline(
            "build",
            ModelBuildPipelineArgs(
                project="pump-pm", pipeline_name="acme-pump-pm-build", account_id=ACCOUNT, region=REGION, role_arn=role.arn,
                role_name=role.name, bucket_name="acme-pump-pm", kms_key_arn=KEY_ARN, subnet_ids=SUBNET_IDS,
                security_group_ids=SECURITY_GROUP_IDS, model_package_group_name="pump-pm",
                seed_code=package_seed_code(key_prefix="code/pump-pm"), alerts_topic_arn=TOPIC_ARN,
                sample_data=None if athena else sample_data_object(key_prefix="data/pump-pm"), athena=athena,
                retrain_schedule=retrain,
            ),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION, preview=True)


@pytest.fixture(scope="module")
def sample_pipeline() -> DeclarationPlan:
    return pipeline_plan(retrain=None)


@pytest.fixture(scope="module")
def scheduled_pipeline() -> DeclarationPlan:
    return pipeline_plan(retrain="rate(3 days)", athena=AthenaSource(database="acme_pumps_link", query='SELECT "fault" FROM "t"'))


def test_without_retraining_there_is_no_schedule(sample_pipeline) -> None:
    declared = sample_pipeline.of_type("aws:scheduler/schedule:Schedule") + [
        r for r in sample_pipeline.of_type("aws:iam/role:Role") if r.name != "project-role"]
    assert not declared, f"retrain_schedule=None: no schedule and no schedule role, got {[r.name for r in declared]}"


def test_without_a_data_account_the_sample_is_uploaded(sample_pipeline) -> None:
    keys = [o.inputs["key"] for o in sample_pipeline.of_type("aws:s3/bucketObjectv2:BucketObjectv2")]
    assert [k for k in keys if k.startswith("data/pump-pm/")], f"no Athena source: the sample CSV goes to the project bucket, got {keys}"


def test_with_athena_no_sample_is_uploaded(scheduled_pipeline) -> None:
    keys = [o.inputs["key"] for o in scheduled_pipeline.of_type("aws:s3/bucketObjectv2:BucketObjectv2")]
    assert not [k for k in keys if k.startswith("data/")], f"Athena input: nothing but code is uploaded, got {keys}"


def test_pipeline_objects_are_kms_encrypted(sample_pipeline) -> None:
    plain = [o.name for o in sample_pipeline.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.inputs.get("kmsKeyId") != KEY_ARN]
    assert len(sample_pipeline.of_type("aws:s3/bucketObjectv2:BucketObjectv2")) == 4 and not plain, f"objects {plain} need the project key"


def test_schedule_follows_the_retrain_expression(scheduled_pipeline) -> None:
    schedule = only(scheduled_pipeline, "aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(3 days)", schedule.inputs


def test_only_this_schedule_in_this_region_may_use_its_role(scheduled_pipeline) -> None:
    role = scheduled_pipeline.named("build-schedule-role")
    condition = document(role, "assumeRolePolicy")["Statement"][0]["Condition"]
    assert condition["ArnLike"] == {"aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/acme-pump-pm-build-retrain"}, condition


def test_failures_alert_the_topic(sample_pipeline) -> None:
    assert only(sample_pipeline, "aws:cloudwatch/eventTarget:EventTarget").inputs["arn"] == TOPIC_ARN, "failed executions -> alerts topic"


def test_pipeline_needs_exactly_one_input() -> None:
    with pytest.raises(ValueError, match="exactly one of sample_data and athena"):
        ModelBuildPipelineArgs(
            project="pump-pm", pipeline_name="acme-pump-pm-build", account_id=ACCOUNT, region=REGION, role_arn="r", role_name="r",
            bucket_name="acme-pump-pm", kms_key_arn=KEY_ARN, subnet_ids=SUBNET_IDS, security_group_ids=SECURITY_GROUP_IDS,
            model_package_group_name="pump-pm", seed_code=package_seed_code(key_prefix="code/pump-pm"), alerts_topic_arn=TOPIC_ARN,
        )
