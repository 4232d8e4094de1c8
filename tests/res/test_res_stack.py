"""`plan --stack res`: registry, model bus, trigger, promotion pipelines, image pipeline, product, approvers.

Assertions are on the inputs the engine would receive (mock run of the real program).
"""

from __future__ import annotations

import json

import pytest

from components.promotion_pipeline import PIPELINE_VARIABLE
from mlops_functions.model_trigger import event_pattern
from mlops_core import naming

from .conftest import as_list, children, doc, statements

REPOSITORY = "aws:ecr/repository:Repository"
PIPELINE = "aws:codepipeline/pipeline:Pipeline"
PROJECT = "aws:codebuild/project:Project"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
#: The promotion order the issue pins (written out here, not taken from the code under test).
EXPECTED_STAGES = ["Source", "DeployDev", "TestDev", "ApproveInt", "DeployInt", "TestInt", "ApproveProd", "DeployProd"]


def repositories(res) -> dict[str, dict]:
    return {r.inputs["name"]: r for r in res.of_type(REPOSITORY)}


def deploy_pipelines(res, org) -> dict[str, dict]:
    by_name = {r.inputs["name"]: r for r in res.of_type(PIPELINE)}
    return {p.name: by_name.get(naming.deploy_pipeline_name(org, p.name)) for p in org.model_projects}


# ---- registry -------------------------------------------------------------------------------


def test_release_and_quarantine_repositories_exist_for_both_images(res) -> None:
    assert set(repositories(res)) == {"mlops/deploy", "mlops/inference", "mlops/quarantine/deploy", "mlops/quarantine/inference"}


@pytest.mark.parametrize("field,expected", [("imageTagMutability", "IMMUTABLE")])
def test_repositories_have_immutable_tags(res, field, expected) -> None:
    for name, repo in repositories(res).items():
        assert repo.inputs[field] == expected, f"{repo.urn}: {field}"


def test_repositories_scan_on_push(res) -> None:
    for repo in repositories(res).values():
        assert repo.inputs["imageScanningConfiguration"]["scanOnPush"] is True, repo.urn


def test_repositories_are_kms_encrypted_with_the_release_key(res) -> None:
    (release_key,) = [k for k in res.of_type("aws:kms/key:Key") if k.name == "res-release-key"]
    for repo in repositories(res).values():
        (config,) = repo.inputs["encryptionConfigurations"]
        assert config["encryptionType"] == "KMS" and config["kmsKey"].startswith("arn:aws:kms:"), repo.urn
        assert release_key.urn in repo.property_dependencies.get("encryptionConfigurations", []), repo.urn


def test_every_repository_has_a_lifecycle_policy(res) -> None:
    for repo in repositories(res).values():
        (policy,) = children(res, repo, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
        assert json.loads(policy.inputs["policy"])["rules"], repo.urn


def _repo_policy(res, repo) -> dict:
    (policy,) = children(res, repo, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    return doc(policy.inputs["policy"])


def test_only_the_image_pipeline_role_may_push(res) -> None:
    builder = "arn:aws:iam::333333333333:role/mlops-image-builder"
    for repo in repositories(res).values():
        denies = [s for s in statements(_repo_policy(res, repo)) if s["Effect"] == "Deny" and "ecr:PutImage" in s["Action"]]
        assert denies, f"{repo.urn}: no Deny on ecr:PutImage"
        assert denies[0]["Principal"] == {"AWS": "*"} and denies[0]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": builder}}, repo.urn


def test_inference_image_is_pulled_only_by_stage_serving_roles(res) -> None:
    repo = repositories(res)["mlops/inference"]
    allows = [s for s in statements(_repo_policy(res, repo)) if s["Effect"] == "Allow"]
    principals = sorted(s["Principal"]["AWS"] for s in allows)
    assert principals == [f"arn:aws:iam::{a}:root" for a in ("444444444444", "555555555555", "666666666666")], repo.urn
    for item in allows:
        account = item["Principal"]["AWS"].split(":")[4]
        assert item["Condition"] == {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{account}:role/mlops-serving-*"]}}, repo.urn
        assert "ecr:PutImage" not in item["Action"], repo.urn


def test_quarantine_repositories_admit_no_pulls(res) -> None:
    for name, repo in repositories(res).items():
        if "/quarantine/" in name:
            assert not [s for s in statements(_repo_policy(res, repo)) if s["Effect"] == "Allow"], repo.urn


def test_registry_uses_enhanced_scanning(res) -> None:
    (config,) = res.of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert config.inputs["scanType"] == "ENHANCED", config.urn
    filters = [f["filter"] for rule in config.inputs["rules"] for f in rule["repositoryFilters"]]
    assert "mlops/*" in filters, config.urn


def test_base_images_come_through_a_pull_through_cache(res) -> None:
    (rule,) = res.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert rule.inputs["upstreamRegistryUrl"] == "public.ecr.aws", rule.urn
    (template,) = res.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert template.inputs["prefix"] == rule.inputs["ecrRepositoryPrefix"], template.urn
    assert template.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS", template.urn


# ---- event bus --------------------------------------------------------------------------------


def test_model_bus_is_named_by_convention_and_encrypted(res, org) -> None:
    (bus,) = res.of_type("aws:cloudwatch/eventBus:EventBus")
    assert bus.inputs["name"] == naming.event_bus_name(org), bus.urn
    assert bus.inputs["kmsKeyIdentifier"].startswith("arn:aws:kms:"), bus.urn


def test_bus_policy_admits_only_the_exp_forwarder_role(res, org) -> None:
    (policy,) = res.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy")
    (item,) = statements(doc(policy.inputs["policy"]))
    assert item["Effect"] == "Allow" and item["Action"] == ["events:PutEvents"], policy.urn
    assert item["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}, policy.urn
    forwarder = naming.role_arn(org.accounts.exp, naming.events_forwarder_role_name(org))
    assert item["Condition"] == {"ArnEquals": {"aws:PrincipalArn": forwarder}}, policy.urn
    assert item["Resource"] == naming.event_bus_arn(org), policy.urn


# ---- trigger ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trigger(res):
    (function,) = res.of_type("aws:lambda/function:Function")
    return function


def test_trigger_runs_the_shared_handler_code(trigger) -> None:
    assets = trigger.inputs["code"]["assets"]
    assert list(assets) == ["model_trigger.py"] and assets["model_trigger.py"]["path"].endswith("mlops_functions/model_trigger.py"), trigger.urn
    assert trigger.inputs["handler"] == "model_trigger.handler", trigger.urn


def test_trigger_is_in_the_vpc_with_encrypted_environment(trigger) -> None:
    assert trigger.inputs["vpcConfig"]["subnetIds"] and trigger.inputs["vpcConfig"]["securityGroupIds"], trigger.urn
    assert trigger.inputs["kmsKeyArn"].startswith("arn:aws:kms:"), trigger.urn
    assert trigger.inputs["environment"]["variables"] == {"PLATFORM_NAME": "mlops", "EXP_ACCOUNT_ID": "222222222222"}, trigger.urn


def test_trigger_has_reserved_concurrency(trigger) -> None:
    assert 1 <= trigger.inputs["reservedConcurrentExecutions"] <= 10, trigger.urn


def test_trigger_logs_to_its_own_retained_encrypted_group(res, trigger) -> None:
    groups = {g.inputs["name"]: g for g in res.of_type(LOG_GROUP)}
    group = groups[f"/aws/lambda/{trigger.inputs['name']}"]
    assert trigger.inputs["loggingConfig"]["logGroup"] == group.inputs["name"], trigger.urn
    assert group.inputs["retentionInDays"] >= 365 and group.inputs["kmsKeyId"], group.urn


def test_trigger_rule_on_the_model_bus_uses_the_creation_pattern(res, org) -> None:
    rules = [r for r in res.of_type("aws:cloudwatch/eventRule:EventRule") if r.inputs.get("eventBusName") == naming.event_bus_name(org)]
    (rule,) = rules
    assert json.loads(rule.inputs["eventPattern"]) == event_pattern(org.accounts.exp), rule.urn


def test_failures_go_to_an_encrypted_queue(res, trigger) -> None:
    (queue,) = res.of_type("aws:sqs/queue:Queue")
    assert queue.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:"), queue.urn
    (invoke_config,) = res.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"].endswith("mlops-model-trigger-failures"), invoke_config.urn
    (target,) = [t for t in res.of_type("aws:cloudwatch/eventTarget:EventTarget") if trigger.urn in t.property_dependencies.get("arn", [])]
    assert target.inputs["deadLetterConfig"]["arn"].endswith("mlops-model-trigger-failures"), target.urn


def test_trigger_may_start_only_deploy_pipelines(res) -> None:
    (policy,) = [p for p in res.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "res-model-trigger-role-policy"]
    start = [s for s in statements(doc(policy.inputs["policy"])) if "codepipeline:StartPipelineExecution" in s["Action"]]
    assert [s["Resource"] for s in start] == ["arn:aws:codepipeline:eu-central-1:333333333333:mlops-deploy-*"], policy.urn


# ---- promotion pipelines -----------------------------------------------------------------------


def test_one_deploy_pipeline_per_config_driven_project(res, org) -> None:
    missing = [project for project, pipeline in deploy_pipelines(res, org).items() if pipeline is None]
    assert not missing, f"res: no deploy pipeline for {missing}"


def test_deploy_pipelines_are_v2_queued_with_the_package_variable(res, org) -> None:
    for pipeline in deploy_pipelines(res, org).values():
        assert pipeline.inputs["pipelineType"] == "V2" and pipeline.inputs["executionMode"] == "QUEUED", pipeline.urn
        assert [v["name"] for v in pipeline.inputs["variables"]] == [PIPELINE_VARIABLE], pipeline.urn


def test_deploy_pipeline_artifacts_are_kms_encrypted(res, org) -> None:
    for pipeline in deploy_pipelines(res, org).values():
        (store,) = pipeline.inputs["artifactStores"]
        assert store["encryptionKey"]["type"] == "KMS" and store["encryptionKey"]["id"].startswith("arn:aws:kms:"), pipeline.urn


def test_stage_order(res, org) -> None:
    for pipeline in deploy_pipelines(res, org).values():
        assert [s["name"] for s in pipeline.inputs["stages"]] == EXPECTED_STAGES, pipeline.urn


def _actions(pipeline, stage: str) -> list[dict]:
    (found,) = [s for s in pipeline.inputs["stages"] if s["name"] == stage]
    return found["actions"]


def test_both_tests_are_codebuild_test_actions(res, org) -> None:
    for pipeline in deploy_pipelines(res, org).values():
        for stage in ("TestDev", "TestInt"):
            (action,) = _actions(pipeline, stage)
            assert (action["category"], action["provider"]) == ("Test", "CodeBuild"), f"{pipeline.urn}: {stage}"


def test_both_approvals_are_manual_and_notify_the_encrypted_topic(res, org) -> None:
    (topic,) = [t for t in res.of_type("aws:sns/topic:Topic") if t.inputs["name"] == "mlops-release-approvals"]
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:"), topic.urn
    for pipeline in deploy_pipelines(res, org).values():
        for stage in ("ApproveInt", "ApproveProd"):
            (action,) = _actions(pipeline, stage)
            assert (action["category"], action["provider"]) == ("Approval", "Manual"), f"{pipeline.urn}: {stage}"
            assert action["configuration"]["NotificationArn"] == "arn:aws:sns:eu-central-1:333333333333:mlops-release-approvals", pipeline.urn


def test_source_is_the_deployer_bundle_without_polling(res, org) -> None:
    (bundle,) = [o for o in res.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name == "res-deployer-bundle"]
    shipped = set(bundle.inputs["source"]["assets"])
    assert "serving/__main__.py" in shipped and "organization.yaml" in shipped, bundle.urn
    assert not [n for n in shipped if "__pycache__" in n or n.endswith(".pyc")], f"{bundle.urn}: ships byte code"
    assert not [n for n in shipped if n.split("/")[0] == "platform"], f"{bundle.urn}: platform/ would shadow the stdlib module"
    for pipeline in deploy_pipelines(res, org).values():
        (action,) = _actions(pipeline, "Source")
        assert action["configuration"] == {"S3Bucket": bundle.inputs["bucket"], "S3ObjectKey": bundle.inputs["key"],
                                           "PollForSourceChanges": "false"}, pipeline.urn


@pytest.mark.parametrize("archive", ["res-deployer-bundle", "res-image-sources"])
def test_source_archives_ship_no_sample_data(res, archive) -> None:
    (bundle,) = [o for o in res.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.name == archive]
    shipped = bundle.inputs["source"]["assets"]
    data = [n for n in shipped if "sample/" in n or (n.startswith("etl/") and not n.startswith("etl/mlops_etl/"))]
    assert not data, f"{bundle.urn}: ships the raw sample or the Glue job beside the ETL package: {data}"


def _projects(res) -> dict[str, dict]:
    return {p.inputs["name"]: p for p in res.of_type(PROJECT)}


def test_deploy_actions_run_the_deployer_for_their_stage(res, org) -> None:
    projects = _projects(res)
    for project, pipeline in deploy_pipelines(res, org).items():
        for stage in ("dev", "int", "prod"):
            (action,) = _actions(pipeline, f"Deploy{stage.capitalize()}")
            build = projects[action["configuration"]["ProjectName"]]
            spec = json.loads(build.inputs["source"]["buildspec"])
            command = spec["phases"]["build"]["commands"][-1]
            assert command == f'mlops-platform deploy model --project {project} --stage {stage} --model-package-arn "$MODEL_PACKAGE_ARN"', build.urn
            variables = json.loads(action["configuration"]["EnvironmentVariables"])
            assert {"name": "MODEL_PACKAGE_ARN", "value": "#{variables.MODEL_PACKAGE_ARN}", "type": "PLAINTEXT"} in variables, pipeline.urn


def test_release_builds_are_hardened(res) -> None:
    for name, build in _projects(res).items():
        if name.startswith("mlops-image-"):
            continue
        env = build.inputs["environment"]
        assert build.inputs["vpcConfig"]["subnets"] and build.inputs["vpcConfig"]["securityGroupIds"], build.urn
        assert build.inputs["encryptionKey"].startswith("arn:aws:kms:"), build.urn
        assert env["image"].startswith("333333333333.dkr.ecr.eu-central-1.amazonaws.com/mlops/deploy:"), build.urn
        assert env["imagePullCredentialsType"] == "SERVICE_ROLE" and not env.get("privilegedMode"), build.urn
        assert {"name": "PULUMI_SKIP_UPDATE_CHECK", "value": "true", "type": "PLAINTEXT"} in env["environmentVariables"], build.urn
        state = {"name": "PULUMI_BACKEND_URL", "value": "s3://mlops-pulumi-state-333333333333-eu-central-1?region=eu-central-1",
                 "type": "PLAINTEXT"}
        assert state in env["environmentVariables"], f"{build.urn}: not on the RES state bucket"
        assert build.inputs["serviceRole"] == "arn:aws:iam::333333333333:role/mlops-serving-deployer", build.urn


def test_every_build_logs_to_a_precreated_retained_group(res) -> None:
    groups = {g.inputs["name"]: g for g in res.of_type(LOG_GROUP)}
    for build in res.of_type(PROJECT):
        name = build.inputs["logsConfig"]["cloudwatchLogs"]["groupName"]
        group = groups.get(name)
        assert group is not None, f"{build.urn}: log group {name} is not declared"
        assert group.inputs["retentionInDays"] >= 365 and group.inputs["kmsKeyId"], group.urn


def test_deploy_image_uri_carries_the_committed_version(res) -> None:
    from pathlib import Path

    version = (Path(__file__).resolve().parents[2] / "images" / "deploy" / "VERSION").read_text().strip()
    for name, build in _projects(res).items():
        if not name.startswith("mlops-image-"):
            assert build.inputs["environment"]["image"].endswith(f":{version}"), build.urn


# ---- serving deployer ---------------------------------------------------------------------------


def test_serving_deployer_may_assume_only_the_stage_deployment_roles(res) -> None:
    (policy,) = [p for p in res.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "res-release-roles-deployer-policy"]
    assumed = [r for s in statements(doc(policy.inputs["policy"])) if "sts:AssumeRole" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert sorted(assumed) == [f"arn:aws:iam::{a}:role/mlops-serving-deploy" for a in ("444444444444", "555555555555", "666666666666")], policy.urn


# ---- image pipeline -----------------------------------------------------------------------------


def test_image_pipeline_builds_scans_then_promotes(res) -> None:
    (pipeline,) = [p for p in res.of_type(PIPELINE) if p.inputs["name"] == "mlops-images"]
    assert [s["name"] for s in pipeline.inputs["stages"]] == ["Source", "BuildAndTest", "ScanGate", "Promote"], pipeline.urn
    sources = [a["configuration"]["S3ObjectKey"] for a in _actions(pipeline, "Source")]
    assert sources == ["images/source.zip", "toolchain/pulumi-toolchain.zip"], pipeline.urn


def test_only_the_image_build_project_is_privileged(res) -> None:
    privileged = sorted(p.inputs["name"] for p in res.of_type(PROJECT) if p.inputs["environment"].get("privilegedMode"))
    assert privileged == ["mlops-image-build"], privileged


def test_image_builder_role_is_the_pusher_named_in_the_repository_policies(res, org) -> None:
    roles = {r.inputs.get("name"): r for r in res.of_type("aws:iam/role:Role")}
    assert naming.image_pipeline_role_name(org) in roles
    (gate,) = [p for p in res.of_type(PROJECT) if p.inputs["name"] == "mlops-image-scan-gate"]
    assert gate.inputs["source"]["buildspec"] == "images/buildspecs/scan-gate.yml", gate.urn


# ---- product -------------------------------------------------------------------------------------


def test_model_deployment_product_is_in_a_portfolio_with_a_launch_constraint(res) -> None:
    (product,) = res.of_type("aws:servicecatalog/product:Product")
    assert product.inputs["name"] == "Model Deployment" and product.inputs["type"] == "CLOUD_FORMATION_TEMPLATE", product.urn
    (constraint,) = res.of_type("aws:servicecatalog/constraint:Constraint")
    assert constraint.inputs["type"] == "LAUNCH", constraint.urn
    (launch_role,) = [r for r in res.of_type("aws:iam/role:Role") if r.inputs.get("name") == "mlops-deployment-product-launch"]
    assert launch_role.urn in constraint.property_dependencies["parameters"], constraint.urn
    assert json.loads(constraint.inputs["parameters"])["RoleArn"].endswith("/mlops-deployment-product-launch"), constraint.urn


def test_launch_role_creates_roles_only_with_the_boundary_under_its_path(res) -> None:
    (role,) = [r for r in res.of_type("aws:iam/role:Role") if r.inputs.get("name") == "mlops-deployment-product-launch"]
    assert role.inputs["path"] == "/mlops-product/", role.urn
    (policy,) = children(res, role, "aws:iam/rolePolicy:RolePolicy")
    creates = [s for s in statements(doc(policy.inputs["policy"])) if "iam:CreateRole" in as_list(s["Action"])]
    assert len(creates) == 1, policy.urn
    assert creates[0]["Resource"] == "arn:aws:iam::333333333333:role/mlops-product/*", policy.urn
    assert creates[0]["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::333333333333:policy/mlops-product-boundary"}}, policy.urn


# ---- approvers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage,approval_stage", [("int", "ApproveInt"), ("prod", "ApproveProd")])
def test_release_approvers_answer_only_their_stage(res, stage, approval_stage) -> None:
    (role,) = [r for r in res.of_type("aws:iam/role:Role") if r.inputs.get("name") == f"mlops-release-approver-{stage}"]
    (policy,) = children(res, role, "aws:iam/rolePolicy:RolePolicy")
    resources = [r for s in statements(doc(policy.inputs["policy"])) if "codepipeline:PutApprovalResult" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert resources == [f"arn:aws:codepipeline:eu-central-1:333333333333:mlops-deploy-*/{approval_stage}/Approve"], policy.urn


def test_approvers_sign_in_through_saml(res) -> None:
    for role in res.of_type("aws:iam/role:Role"):
        if str(role.inputs.get("name", "")).startswith("mlops-release-approver-"):
            (item,) = statements(doc(role.inputs["assumeRolePolicy"]))
            assert item["Principal"]["Federated"].endswith(":saml-provider/corporate-idp"), role.urn
            assert item["Condition"]["StringEquals"]["SAML:aud"] == "https://signin.aws.amazon.com/saml", role.urn


def test_serving_deployer_writes_only_serving_stack_state(res) -> None:
    from components.release_roles import PLATFORM_PROJECT, SERVING_PROJECT
    from mlops_platform import harness

    assert (PLATFORM_PROJECT, SERVING_PROJECT) == (harness.PLATFORM_PROJECT, harness.SERVING_PROJECT)
    (policy,) = [p for p in res.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "res-release-roles-deployer-policy"]
    state = "arn:aws:s3:::mlops-pulumi-state-333333333333-eu-central-1/"
    for item in statements(doc(policy.inputs["policy"])):
        if "s3:PutObject" in as_list(item["Action"]):
            for resource in as_list(item["Resource"]):
                if resource.startswith(state):
                    path = resource.removeprefix(state)
                    assert f"/{SERVING_PROJECT}/" in path or path.startswith(".pulumi/locks/"), f"{policy.urn}: writes {path}"
