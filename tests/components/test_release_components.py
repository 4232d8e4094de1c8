"""RES release components in another region: registry (with and without enhanced scanning), image pipeline,
promotion pipeline, the Model Deployment product (with and without launchers) and the model trigger."""

from __future__ import annotations

import json

import pytest

from component_helpers import (
    ACCOUNT, KEY_ARN, LOGS_KEY_ARN, PEER_ACCOUNT, REGION, SECURITY_GROUP_IDS, SUBNET_IDS, TOPIC_ARN, VPC_ID,
    as_list, document, only, statement,
)
from components.deployment_product import DeploymentProduct, DeploymentProductArgs
from components.image_pipeline import ImagePipeline, ImagePipelineArgs
from components.model_trigger import ModelTrigger, ModelTriggerArgs
from components.promotion_pipeline import PromotionPipeline, PromotionPipelineArgs, PromotionSettings
from components.registry import ContainerRegistry, ContainerRegistryArgs, ImagePull, ImageRepositorySpec
from mlops_platform.harness import DeclarationPlan, plan_declaration

PUSHER = f"arn:aws:iam::{ACCOUNT}:role/acme-image-builder"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/acme-serving-deployer"
PROMOTION = PromotionSettings(
    platform_name="acme", artifact_bucket="acme-release", bundle_key="deployer/bundle.zip", kms_key_arn=KEY_ARN,
    logs_key_arn=LOGS_KEY_ARN, deployer_role_arn=DEPLOYER, approval_topic_arn=TOPIC_ARN,
    deploy_image=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/acme/deploy:1.0.0", vpc_id=VPC_ID, subnet_ids=SUBNET_IDS,
    security_group_ids=SECURITY_GROUP_IDS, backend_url=f"s3://acme-state?region={REGION}",
)

# ---- ContainerRegistry ------------------------------------------------------------------------------


def registry_plan(enhanced_scanning: bool) -> DeclarationPlan:
    spec = ImageRepositorySpec(image="inference", release_name="acme/inference", quarantine_name="acme/quarantine/inference",
                               pulls=[ImagePull(PEER_ACCOUNT, [f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-serving-*"])])

    def declare():
        ContainerRegistry("registry", ContainerRegistryArgs(account_id=ACCOUNT, region=REGION, platform_name="acme", kms_key_arn=KEY_ARN,
                                                            images=[spec], pusher_role_arn=PUSHER, enhanced_scanning=enhanced_scanning))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def registry() -> DeclarationPlan:
    return registry_plan(enhanced_scanning=True)


@pytest.fixture(scope="module")
def basic_registry() -> DeclarationPlan:
    return registry_plan(enhanced_scanning=False)


def repository_policy(plan: DeclarationPlan, repository: str) -> dict:
    (record,) = [r for r in plan.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") if r.name == f"{repository}-policy"]
    return document(record)


def test_basic_scanning_enables_no_inspector(basic_registry) -> None:
    declared = basic_registry.of_type("aws:inspector2/enabler:Enabler") + basic_registry.of_type(
        "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert not declared, f"enhanced_scanning=False: no Inspector enabler or registry scanning configuration, got {[r.name for r in declared]}"


def test_enhanced_scanning_scans_platform_repositories_continuously(registry) -> None:
    config = only(registry, "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration").inputs
    continuous = [r["repositoryFilters"] for r in config["rules"] if r["scanFrequency"] == "CONTINUOUS_SCAN"]
    assert (config["scanType"], continuous) == ("ENHANCED", [[{"filter": "acme/*", "filterType": "WILDCARD"}]]), config


@pytest.mark.parametrize("plan_name", ["registry", "basic_registry"])
def test_repositories_are_immutable_scanned_and_encrypted(plan_name, request) -> None:
    repositories = request.getfixturevalue(plan_name).of_type("aws:ecr/repository:Repository")
    weak = [r.inputs["name"] for r in repositories if (r.inputs["imageTagMutability"], r.inputs["imageScanningConfiguration"],
            r.inputs["encryptionConfigurations"]) != ("IMMUTABLE", {"scanOnPush": True}, [{"encryptionType": "KMS", "kmsKey": KEY_ARN}])]
    assert len(repositories) == 2 and not weak, f"repositories {weak}: immutable tags, scan on push, the release key"


def test_only_the_image_pipeline_pushes(registry) -> None:
    deny = statement(repository_policy(registry, "registry-inference"), "OnlyTheImagePipelinePushes")
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"ArnNotEquals": {"aws:PrincipalArn": PUSHER}}), deny


def test_released_image_is_pulled_by_the_named_principals(registry) -> None:
    pull = statement(repository_policy(registry, "registry-inference"), f"Pull{PEER_ACCOUNT}")
    assert pull["Condition"] == {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{PEER_ACCOUNT}:role/acme-serving-*"]}}, pull


def test_quarantined_image_is_pulled_by_nobody(registry) -> None:
    allows = [s for s in repository_policy(registry, "registry-inference-quarantine")["Statement"] if s["Effect"] == "Allow"]
    assert not allows, f"acme/quarantine/inference: no pull statement, got {allows}"


def test_cache_template_role_creates_only_cache_repositories_in_the_region(registry) -> None:
    create = statement(document(registry.named("registry-cache-template-policy")), "CreateCachedRepositories")
    assert create["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/ecr-public/*", create


def test_cached_base_images_are_kms_encrypted(registry) -> None:
    template = only(registry, "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert template.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY_ARN}], template.inputs


# ---- ImagePipeline --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> DeclarationPlan:
    def declare():
        ImagePipeline(
            "images",
            ImagePipelineArgs(platform_name="acme", account_id=ACCOUNT, region=REGION, role_name="acme-image-builder",
                              images={"inference": ("acme/quarantine/inference", "acme/inference")}, artifact_bucket="acme-release",
                              kms_key_arn=KEY_ARN, logs_key_arn=LOGS_KEY_ARN, pipeline_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-release-pipeline",
                              vpc_id=VPC_ID, subnet_ids=SUBNET_IDS, security_group_ids=SECURITY_GROUP_IDS),
        )

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def project_variables(record) -> dict[str, str]:
    return {v["name"]: v["value"] for v in record.inputs["environment"]["environmentVariables"]}


def test_only_the_image_build_project_is_privileged(images) -> None:
    privileged = sorted(p.inputs["name"] for p in images.of_type("aws:codebuild/project:Project") if p.inputs["environment"]["privilegedMode"])
    assert privileged == ["acme-image-build"], f"Docker runs only in acme-image-build, privileged: {privileged}"


def test_images_are_pushed_to_the_regional_registry(images) -> None:
    registries = {project_variables(p)["REGISTRY"] for p in images.of_type("aws:codebuild/project:Project")}
    assert registries == {f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"}, registries


def test_image_builds_run_in_the_vpc(images) -> None:
    configs = [p.inputs["vpcConfig"]["subnets"] for p in images.of_type("aws:codebuild/project:Project")]
    assert configs == [SUBNET_IDS, SUBNET_IDS], f"image builds run in the RES subnets, got {configs}"


def test_image_stages_build_scan_then_promote(images) -> None:
    stages = [s["name"] for s in only(images, "aws:codepipeline/pipeline:Pipeline").inputs["stages"]]
    assert stages == ["Source", "BuildAndTest", "ScanGate", "Promote"], f"nothing is promoted before the scan gate: {stages}"


def test_builder_pushes_only_the_platform_repositories(images) -> None:
    push = statement(document(images.named("images-role-policy")), "PushAndPullPlatformImages")
    assert push["Resource"] == sorted(f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{r}" for r in ("acme/quarantine/inference", "acme/inference")), push


def test_new_source_bundle_starts_the_pipeline(images) -> None:
    pattern = json.loads(only(images, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert pattern["detail"]["bucket"] == {"name": ["acme-release"]}, f"only uploads to the artifact bucket start the image pipeline: {pattern}"


# ---- PromotionPipeline -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promotion() -> DeclarationPlan:
    def declare():
        PromotionPipeline("promote", PromotionPipelineArgs(pipeline_name="acme-deploy-pump-pm", project="pump-pm",
                                                           pipeline_role_arn=f"arn:aws:iam::{ACCOUNT}:role/acme-release-pipeline",
                                                           promotion=PROMOTION))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_promotion_passes_dev_and_int_before_prod(promotion) -> None:
    stages = [s["name"] for s in only(promotion, "aws:codepipeline/pipeline:Pipeline").inputs["stages"]]
    order = ["DeployDev", "TestDev", "ApproveInt", "DeployInt", "TestInt", "ApproveProd", "DeployProd"]
    assert [s for s in stages if s in order] == order, f"acme-deploy-pump-pm: DEV, then INT, then PROD, each after its gate, got {stages}"


def test_versions_queue_instead_of_superseding(promotion) -> None:
    assert only(promotion, "aws:codepipeline/pipeline:Pipeline").inputs["executionMode"] == "QUEUED", (
        "acme-deploy-pump-pm: a waiting approval must not be cancelled by a newer version"
    )


def test_artifact_store_is_encrypted_with_the_release_key(promotion) -> None:
    (store,) = only(promotion, "aws:codepipeline/pipeline:Pipeline").inputs["artifactStores"]
    assert store["encryptionKey"] == {"id": KEY_ARN, "type": "KMS"}, store


def test_approvals_notify_the_approval_topic(promotion) -> None:
    actions = [a for s in only(promotion, "aws:codepipeline/pipeline:Pipeline").inputs["stages"] for a in s["actions"] if a["category"] == "Approval"]
    assert len(actions) == 2 and {a["configuration"]["NotificationArn"] for a in actions} == {TOPIC_ARN}, actions


def test_deploy_builds_run_unprivileged_in_the_vpc_as_the_deployer(promotion) -> None:
    projects = promotion.of_type("aws:codebuild/project:Project")
    odd = [p.inputs["name"] for p in projects if (p.inputs["serviceRole"], p.inputs["environment"]["privilegedMode"],
           p.inputs["vpcConfig"]["subnets"]) != (DEPLOYER, False, SUBNET_IDS)]
    assert len(projects) == 5 and not odd, f"deploy/test projects {odd}: unprivileged, in the RES VPC, as the serving deployer"


def test_build_logs_are_encrypted(promotion) -> None:
    plain = [g.inputs["name"] for g in promotion.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs.get("kmsKeyId") != LOGS_KEY_ARN]
    assert not plain, f"build log groups {plain} must use the logs key"


# ---- DeploymentProduct ------------------------------------------------------------------------------


def product_plan(patterns: list[str]) -> DeclarationPlan:
    def declare():
        DeploymentProduct("deploy-product", DeploymentProductArgs(region=REGION, account_id=ACCOUNT, promotion=PROMOTION,
                                                                   principal_patterns=patterns))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def product() -> DeclarationPlan:
    return product_plan([f"arn:aws:iam::{ACCOUNT}:role/acme-devops"])


def test_product_without_launchers_is_shared_with_nobody() -> None:
    plan = product_plan([])
    assert not plan.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation"), "no patterns, no launchers"


def test_launchers_are_associated_by_pattern(product) -> None:
    (association,) = product.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")
    assert association.inputs["principalType"] == "IAM_PATTERN", association.inputs


def test_template_is_served_from_the_regional_bucket_endpoint(product) -> None:
    url = only(product, "aws:servicecatalog/product:Product").inputs["provisioningArtifactParameters"]["templateUrl"]
    assert url.startswith(f"https://acme-release.s3.{REGION}.amazonaws.com/service-catalog/"), url


def test_launch_role_creates_roles_only_with_the_boundary(product) -> None:
    create = statement(document(product.named("deploy-product-launch-policy")), "CreateRolesOnlyWithTheBoundary")
    assert create["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/acme-product-boundary"}}, create


def test_product_made_pipeline_roles_carry_the_boundary(product) -> None:
    template = json.loads(only(product, "aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"])
    role = template["Resources"]["PipelineRole"]["Properties"]
    assert (role["PermissionsBoundary"], role["Path"]) == (f"arn:aws:iam::{ACCOUNT}:policy/acme-product-boundary", "/acme-product/"), role


def test_product_template_is_kms_encrypted(product) -> None:
    template = only(product, "aws:s3/bucketObjectv2:BucketObjectv2")
    assert (template.inputs["serverSideEncryption"], template.inputs["kmsKeyId"]) == ("aws:kms", KEY_ARN), template.inputs


# ---- ModelTrigger --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trigger() -> DeclarationPlan:
    def declare():
        ModelTrigger("trigger", ModelTriggerArgs(function_name="acme-model-trigger", platform_name="acme", account_id=ACCOUNT, region=REGION,
                                                 exp_account_id=PEER_ACCOUNT, event_bus_name="acme-models", subnet_ids=SUBNET_IDS,
                                                 security_group_ids=SECURITY_GROUP_IDS, kms_key_arn=KEY_ARN, logs_key_arn=LOGS_KEY_ARN))

    return plan_declaration(declare, account=ACCOUNT, region=REGION)


def test_trigger_starts_only_deploy_pipelines_in_the_region(trigger) -> None:
    start = statement(document(trigger.named("trigger-role-policy")), "StartDeployPipelines")
    assert start["Resource"] == f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:acme-deploy-*", start


def test_trigger_listens_on_the_model_bus(trigger) -> None:
    rule = only(trigger, "aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["eventBusName"] == "acme-models", f"{rule.name}: the RES model bus, not the default bus"


def test_trigger_accepts_events_from_exp_only(trigger) -> None:
    pattern = json.loads(only(trigger, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert pattern["account"] == [PEER_ACCOUNT], f"model events come from EXP {PEER_ACCOUNT} only: {pattern}"


def test_trigger_function_runs_in_the_vpc_with_an_encrypted_environment(trigger) -> None:
    function = only(trigger, "aws:lambda/function:Function").inputs
    assert (function["vpcConfig"]["subnetIds"], function["kmsKeyArn"]) == (SUBNET_IDS, KEY_ARN), function


def test_failure_queue_is_encrypted(trigger) -> None:
    queue = only(trigger, "aws:sqs/queue:Queue")
    assert queue.inputs["kmsMasterKeyId"] == KEY_ARN, f"{queue.name}: dead letters under the release key"


def test_only_the_rule_may_dead_letter_into_the_queue(trigger) -> None:
    allow = statement(document(only(trigger, "aws:sqs/queuePolicy:QueuePolicy")), "RuleDeadLetters")
    rule_arn = allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert rule_arn.startswith("arn:aws:") and rule_arn.endswith("acme-model-trigger-model-created"), allow


def test_only_the_rule_may_invoke_the_function(trigger) -> None:
    permission = only(trigger, "aws:lambda/permission:Permission")
    assert (permission.inputs["principal"], permission.inputs["sourceAccount"]) == ("events.amazonaws.com", ACCOUNT), permission.inputs


def test_trigger_role_has_no_unscoped_write(trigger) -> None:
    unscoped = [s["Sid"] for s in document(trigger.named("trigger-role-policy"))["Statement"] if "*" in as_list(s["Resource"])]
    assert unscoped == ["VpcNetworkInterfaces"], f"only the ENI actions (no resource scope) may use '*', got {unscoped}"

