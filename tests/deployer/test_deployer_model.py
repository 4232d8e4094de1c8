"""`deploy model`: only its serving stack, registry-status gates, rollback, two-phase PROD instance change."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from mlops_platform.deployer.errors import DeployerError, RefusedError
from mlops_platform.deployer.model import (
    AUTOSCALING_KEY,
    BASELINE_CONSTRAINTS_KEY,
    BASELINE_STATISTICS_KEY,
    MODEL_PACKAGE_KEY,
    deploy_model,
)
from mlops_platform.deployer.progress import JsonProgress

V1 = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/churn/1"
V2 = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/churn/2"


def sagemaker_with_status(status: str | None, arn: str, **extra):
    client = boto3.client("sagemaker", region_name="eu-central-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    stubber = Stubber(client)
    if status is not None:
        stubber.add_response(
            "describe_model_package",
            {"ModelPackageName": "churn", "ModelPackageArn": arn, "CreationTime": "2026-01-01T00:00:00Z",
             "ModelPackageStatus": "Completed", "ModelApprovalStatus": status,
             "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []}, **extra},
            {"ModelPackageName": arn},
        )
    stubber.activate()
    return client, stubber


def run_model(runner, repo, stage, arn=None, rollback=False, status="Approved", status_arn=None, **extra):
    client, stubber = sagemaker_with_status(status, status_arn or arn, **extra)
    regions = []

    def factory(region):
        regions.append(region)
        return client

    outcome = deploy_model(project="churn", stage=stage, model_package_arn=arn, rollback=rollback, runner=runner,
                           sagemaker_client=factory, progress=JsonProgress(io.StringIO()), serving_dir=repo / "serving")
    stubber.assert_no_pending_responses()
    return outcome


def test_deploy_model_touches_only_its_serving_stack(runner, cli, repo):
    run_model(runner, repo, "dev", V1, status="PendingManualApproval")
    assert {call.stack for call in cli.calls} == {"churn-dev"}
    assert all(call.cwd != str(repo) and call.cwd != str(repo / "serving") for call in cli.calls), \
        "deploy model must work on a copy of serving/, not in the repository"


def test_deploy_model_sets_the_package_arn_before_preview_and_up(runner, cli, repo):
    run_model(runner, repo, "dev", V1, status="PendingManualApproval")
    set_calls = [c for c in cli.calls if c.verb == "config set"]
    assert set_calls and all(c.args[2] == MODEL_PACKAGE_KEY and c.args[-1] == V1 for c in set_calls)
    assert [verb for verb, _ in cli.ops("preview", "up")] == ["preview", "up"]


def test_deploy_model_previews_with_the_stage_policy_config(runner, cli, repo):
    run_model(runner, repo, "int", V1, status="PendingManualApproval")
    preview = next(c for c in cli.calls if c.verb == "preview")
    assert preview.values("--policy-pack-config") == [str(repo / "policies/config/int.json")]


def test_prod_refuses_a_package_that_is_not_approved(runner, cli, repo):
    with pytest.raises(RefusedError, match="PendingManualApproval: PROD takes only an Approved package"):
        run_model(runner, repo, "prod", V1, status="PendingManualApproval")
    assert cli.calls == [], "nothing may run for a refused package"


@pytest.mark.parametrize("stage", ["dev", "int", "prod"])
def test_a_rejected_package_is_refused_at_every_stage(runner, cli, repo, stage):
    with pytest.raises(RefusedError, match="Rejected"):
        run_model(runner, repo, stage, V1, status="Rejected")
    assert cli.calls == []


def test_prod_deploys_an_approved_package(runner, cli, repo):
    outcome = run_model(runner, repo, "prod", V1, status="Approved")
    assert (outcome.stack, outcome.phases) == ("churn-prod", ["up"])


def test_rollback_redeploys_the_previous_version_from_history(runner, cli, repo, fake_state):
    fake_state.deployed("mlops-serving", "churn-dev", {MODEL_PACKAGE_KEY: V1})
    fake_state.deployed("mlops-serving", "churn-dev", {MODEL_PACKAGE_KEY: V2})
    outcome = run_model(runner, repo, "dev", rollback=True, status="Approved", status_arn=V1)
    assert outcome.model_package_arn == V1
    assert [c.args[-1] for c in cli.calls if c.verb == "config set"][-1] == V1


def test_rollback_without_an_earlier_version_is_an_error(runner, repo, fake_state):
    fake_state.deployed("mlops-serving", "churn-dev", {MODEL_PACKAGE_KEY: V2})
    with pytest.raises(DeployerError, match="every recorded deploy used"):
        run_model(runner, repo, "dev", rollback=True, status=None)


def test_rollback_to_prod_still_needs_an_approved_package(runner, cli, repo, fake_state):
    fake_state.deployed("mlops-serving", "churn-prod", {MODEL_PACKAGE_KEY: V1})
    fake_state.deployed("mlops-serving", "churn-prod", {MODEL_PACKAGE_KEY: V2})
    with pytest.raises(RefusedError):
        run_model(runner, repo, "prod", rollback=True, status="Rejected", status_arn=V1)


SCALING_TARGET = "urn:pulumi:churn-prod::mlops-serving::aws:appautoscaling/target:Target::churn-prod-scaling"
ENDPOINT_CONFIG_CHANGE = {
    "op": "replace", "urn": "urn:pulumi:churn-prod::mlops-serving::aws:sagemaker/endpointConfiguration:EndpointConfiguration::cfg",
    "type": "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "provider": "",
    "diffs": ["productionVariants"],
    "detailedDiff": {"productionVariants[0].instanceType": {"diffKind": "update-replace", "inputDiff": True}},
}


def prod_instance_change(config):
    """The serving program's plan: with autoscaling off, its scaling target is deleted."""
    steps = [ENDPOINT_CONFIG_CHANGE]
    if config.get(AUTOSCALING_KEY) == "false":
        steps.append({"op": "delete", "urn": SCALING_TARGET, "type": "aws:appautoscaling/target:Target", "provider": ""})
    return steps


def deploy_sequence(cli):
    sequence = []
    for call in cli.calls:
        if call.verb == "preview":
            sequence.append("preview")
        elif call.verb == "up":
            sequence.append(f"up --target {call.values('--target')}" if "--target" in call.args else "up")
        elif call.verb == "config set" and call.args[2] == AUTOSCALING_KEY:
            sequence.append(f"autoscaling={call.args[-1]}")
    return sequence


def test_instance_type_change_on_prod_deregisters_scaling_first(runner, cli, repo, behaviour):
    behaviour.preview_steps["churn-prod"] = prod_instance_change
    outcome = run_model(runner, repo, "prod", V2, status="Approved")
    assert deploy_sequence(cli) == [
        "preview",
        "autoscaling=false", "preview", "autoscaling=false", f"up --target {[SCALING_TARGET]}",
        "autoscaling=true", "preview", "autoscaling=true", "up",
    ]
    assert outcome.phases == ["scaling-off", "up"]


def test_prod_without_a_scaling_target_to_remove_deploys_once(runner, cli, repo, behaviour):
    behaviour.preview_steps["churn-prod"] = [ENDPOINT_CONFIG_CHANGE]
    outcome = run_model(runner, repo, "prod", V2, status="Approved")
    assert outcome.phases == ["up"] and deploy_sequence(cli)[-1] == "up"


def test_instance_type_change_outside_prod_is_one_deploy(runner, cli, repo, behaviour):
    behaviour.preview_steps["churn-dev"] = [{
        "op": "replace", "urn": "urn:x", "type": "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "provider": "", "detailedDiff": {"productionVariants[0].instanceType": {"diffKind": "update-replace"}}}]
    outcome = run_model(runner, repo, "dev", V2, status="Approved")
    assert outcome.phases == ["up"] and len(cli.ops("up")) == 1


def test_malformed_package_arn_is_bad_input(runner, repo):
    with pytest.raises(DeployerError, match="not a versioned SageMaker model package ARN"):
        run_model(runner, repo, "dev", "arn:aws:s3:::bucket", status=None)


def test_the_packages_monitor_baseline_is_set_on_the_serving_stack(runner, cli, repo):
    baselines = {"ModelDataQuality": {
        "Constraints": {"ContentType": "application/json", "S3Uri": "s3://exp-bucket/churn/constraints.json"},
        "Statistics": {"ContentType": "application/json", "S3Uri": "s3://exp-bucket/churn/statistics.json"}}}
    run_model(runner, repo, "dev", V1, status="Approved", DriftCheckBaselines=baselines)
    values = {c.args[2]: c.args[-1] for c in cli.calls if c.verb == "config set"}
    assert (values[BASELINE_CONSTRAINTS_KEY], values[BASELINE_STATISTICS_KEY]) == (
        "s3://exp-bucket/churn/constraints.json", "s3://exp-bucket/churn/statistics.json")


def test_a_package_without_baseline_leaves_the_baseline_keys_unset(runner, cli, repo):
    run_model(runner, repo, "dev", V1, status="Approved")
    assert {c.args[2] for c in cli.calls if c.verb == "config set"} == {MODEL_PACKAGE_KEY}
