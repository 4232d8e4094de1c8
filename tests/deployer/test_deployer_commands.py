"""The deploy, drift and destroy commands end to end (typer, real config files, stand-in CLI): exit codes."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from mlops_platform.deployer import graph as graph_module
from mlops_platform.deployer.destroy import StudioCleaner

#: Every platform stack in deploy order (the model projects' stacks after exp, beside res).
PLATFORM = ["data", "exp", "exp.spot-weld-qa", "exp.weld-gun-pm", "res", "dev", "int", "prod"]


def invoke(app, *args):
    return CliRunner().invoke(app, list(args))


def deploy_all(fake_state, *names):
    for name in names or PLATFORM:
        fake_state.deployed("mlops-platform", name)
        fake_state.stacks[("mlops-platform", name)].resources = [
            {"urn": f"urn:pulumi:{name}::mlops-platform::aws:s3/bucket:Bucket::b", "type": "aws:s3/bucket:Bucket"}]


def test_deploy_json_succeeds_with_exit_0(cli_app, cli):
    result = invoke(cli_app, "deploy", "--yes", "--json")
    assert result.exit_code == 0, result.output
    ups = [stack for _, stack in cli.ops("up")]
    # Stacks of one wave (res and the projects' stacks) run in parallel, in any order between them.
    chain = ["data", "exp", "res", "dev", "int", "prod"]
    assert sorted(ups) == sorted(PLATFORM) and [s for s in ups if s in chain] == chain, ups
    assert all(ups.index("exp") < ups.index(s) for s in ups if s.startswith("exp.")), ups


def test_deploy_with_a_failed_stack_exits_1(cli_app, behaviour):
    behaviour.fail_up.add("res")
    result = invoke(cli_app, "deploy", "--yes", "--json")
    states = {e["stack"]: e["state"] for e in map(json.loads, result.stdout.splitlines()) if e["type"] == "result"}
    assert (result.exit_code, states["res"], states["prod"]) == (1, "failed", "skipped")


def test_deploy_unknown_stack_is_one_line_and_exit_2(cli_app):
    result = invoke(cli_app, "deploy", "--stack", "qa", "--yes")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --stack qa: no such platform stack (no Pulumi.<name>.yaml)"


def test_deploy_with_a_cyclic_graph_names_the_cycle_and_exits_2(cli_app, monkeypatch):
    monkeypatch.setitem(graph_module.ROLE_UPSTREAM, "exp", ("dev",))
    result = invoke(cli_app, "deploy", "--yes", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: stack graph has a cycle: dev -> exp -> res -> dev"
    assert json.loads(result.stdout)["message"] == "stack graph has a cycle: dev -> exp -> res -> dev", result.stdout


def test_deploy_stack_with_missing_upstream_exits_2(cli_app, cli):
    result = invoke(cli_app, "deploy", "--stack", "dev", "--yes", "--json")
    assert result.exit_code == 2 and "not deployed yet: data, exp, res" in result.output
    assert cli.ops("preview", "up") == []


def test_deploy_with_a_held_lock_exits_2(cli_app, behaviour):
    behaviour.locked.add("data")
    result = invoke(cli_app, "deploy", "--yes", "--json")
    assert result.exit_code == 2 and "error: stack data is locked" in result.output


def test_deploy_without_a_passphrase_exits_2(cli_app, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    result = invoke(cli_app, "deploy", "--yes")
    assert result.exit_code == 2 and result.output.startswith("error: the file backend")


def test_s3_backend_without_credentials_exits_2(cli_app, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = invoke(cli_app, "deploy", "--backend", "s3://mlops-pulumi-state?region=eu-central-1", "--yes")
    assert result.exit_code == 2 and "needs AWS credentials" in result.output


def test_deploy_model_subcommand_runs_under_the_deploy_group(cli_app, cli, monkeypatch):
    from mlops_platform.commands import deploy as deploy_cmd

    client = boto3.client("sagemaker", region_name="eu-central-1", aws_access_key_id="t", aws_secret_access_key="t")
    stubber = Stubber(client)
    arn = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/churn/3"
    stubber.add_response("describe_model_package", {
        "ModelPackageName": "churn", "ModelPackageArn": arn, "CreationTime": "2026-01-01T00:00:00Z",
        "ModelPackageStatus": "Completed", "ModelApprovalStatus": "Approved",
        "ModelPackageStatusDetails": {"ValidationStatuses": []}}, {"ModelPackageName": arn})
    stubber.activate()
    monkeypatch.setattr(deploy_cmd, "make_sagemaker_client", lambda region: client)
    result = invoke(cli_app, "deploy", "model", "--project", "churn", "--stage", "prod", "--model-package-arn", arn,
                    "--json")
    assert result.exit_code == 0, result.output
    assert {call.stack for call in cli.calls} == {"churn-prod"}


def test_drift_without_changes_exits_0(cli_app, fake_state):
    deploy_all(fake_state)
    result = invoke(cli_app, "drift", "--json")
    assert result.exit_code == 0, result.output


def test_drift_exits_1_and_lists_the_drifted_resources(cli_app, fake_state, behaviour):
    deploy_all(fake_state)
    behaviour.drift["exp"] = 2
    result = invoke(cli_app, "drift")
    assert result.exit_code == 1
    assert "exp: update urn:pulumi:exp::mlops-platform::aws:s3/bucket:Bucket::b0 (tags)" in result.stdout


def test_drift_runs_refresh_preview_only(cli_app, cli, fake_state):
    deploy_all(fake_state)
    invoke(cli_app, "drift", "--stack", "dev", "--json")
    refresh = [c for c in cli.calls if c.verb == "refresh"]
    assert [c.stack for c in refresh] == ["dev"] and "--preview-only" in refresh[0].args


def test_drift_of_a_stack_that_does_not_exist_exits_2(cli_app):
    result = invoke(cli_app, "drift", "--stack", "dev", "--json")
    assert result.exit_code == 2 and "stack dev does not exist" in result.output


def test_destroy_prod_without_confirmation_is_refused(cli_app, cli, fake_state):
    deploy_all(fake_state)
    result = invoke(cli_app, "destroy", "--stack", "prod")
    assert result.exit_code == 2 and "needs --confirm prod" in result.output
    assert cli.ops("destroy") == []


def test_destroy_prod_with_confirmation_runs(cli_app, cli, fake_state):
    deploy_all(fake_state)
    result = invoke(cli_app, "destroy", "--stack", "prod", "--confirm", "prod", "--json")
    assert result.exit_code == 0, result.output
    assert cli.ops("destroy") == [("destroy", "prod")]


def test_destroy_reports_protected_resources_and_exits_1(cli_app, fake_state, behaviour):
    deploy_all(fake_state)
    kept = "urn:pulumi:dev::mlops-platform::aws:kms/key:Key::data-key"
    behaviour.protected["dev"] = [kept]
    result = invoke(cli_app, "destroy", "--stack", "dev")
    assert result.exit_code == 1 and kept in result.stdout and "protected resource(s) remain" in result.stdout


def test_destroy_exp_empties_the_studio_domain_first(cli_app, cli, fake_state, monkeypatch):
    from mlops_platform.commands import deploy as deploy_cmd

    deploy_all(fake_state)
    fake_state.stacks[("mlops-platform", "exp")].outputs = {"studioDomainId": "d-abc"}
    order = []
    monkeypatch.setattr(StudioCleaner, "empty_domain", lambda self, domain: order.append(("empty", domain)) or [])
    monkeypatch.setattr(deploy_cmd, "make_exp_sagemaker_client", lambda org: (lambda: object()))
    original_run = cli.run

    def run(args, *rest, **kw):
        if args and args[0] == "destroy":
            order.append(("destroy", None))
        return original_run(args, *rest, **kw)

    monkeypatch.setattr(cli, "run", run)
    result = invoke(cli_app, "destroy", "--stack", "exp", "--json")
    assert result.exit_code == 0, result.output
    assert order == [("empty", "d-abc"), ("destroy", None)]


def studio_client():
    client = boto3.client("sagemaker", region_name="eu-central-1", aws_access_key_id="t", aws_secret_access_key="t")
    return client, Stubber(client)


def test_studio_cleaner_deletes_apps_then_spaces_then_profiles():
    client, stub = studio_client()
    domain = {"DomainIdEquals": "d-1"}
    stub.add_response("list_apps", {"Apps": [
        {"DomainId": "d-1", "UserProfileName": "alice", "AppType": "JupyterServer", "AppName": "default",
         "Status": "InService"},
        {"DomainId": "d-1", "SpaceName": "team", "AppType": "JupyterLab", "AppName": "lab", "Status": "InService"},
        {"DomainId": "d-1", "UserProfileName": "bob", "AppType": "KernelGateway", "AppName": "old", "Status": "Deleted"},
    ]}, domain)
    stub.add_response("delete_app", {}, {"DomainId": "d-1", "AppType": "JupyterServer", "AppName": "default",
                                         "UserProfileName": "alice"})
    stub.add_response("delete_app", {}, {"DomainId": "d-1", "AppType": "JupyterLab", "AppName": "lab",
                                         "SpaceName": "team"})
    stub.add_response("list_apps", {"Apps": [
        {"DomainId": "d-1", "UserProfileName": "alice", "AppType": "JupyterServer", "AppName": "default",
         "Status": "Deleting"}]}, domain)
    stub.add_response("list_apps", {"Apps": []}, domain)
    stub.add_response("list_spaces", {"Spaces": [{"DomainId": "d-1", "SpaceName": "team", "Status": "InService"}]},
                      domain)
    stub.add_response("delete_space", {}, {"DomainId": "d-1", "SpaceName": "team"})
    stub.add_response("list_spaces", {"Spaces": []}, domain)
    stub.add_response("list_user_profiles", {"UserProfiles": [
        {"DomainId": "d-1", "UserProfileName": "alice", "Status": "InService"}]}, domain)
    stub.add_response("delete_user_profile", {}, {"DomainId": "d-1", "UserProfileName": "alice"})
    stub.add_response("list_user_profiles", {"UserProfiles": []}, domain)
    sleeps = []
    with stub:
        deleted = StudioCleaner(client, sleep=sleeps.append, poll_seconds=5).empty_domain("d-1")
        stub.assert_no_pending_responses()
    assert deleted == ["app JupyterServer/default", "app JupyterLab/lab", "space team", "user profile alice"]
    assert sleeps == [5], "the cleaner waits while an app is still deleting"


def test_studio_cleaner_gives_up_with_one_line(monkeypatch):
    from mlops_platform.deployer.errors import DeployerError

    client, stub = studio_client()
    app = {"DomainId": "d-1", "UserProfileName": "a", "AppType": "JupyterServer", "AppName": "x", "Status": "Deleting"}
    for _ in range(3):
        stub.add_response("list_apps", {"Apps": [app]}, {"DomainIdEquals": "d-1"})
    with stub, pytest.raises(DeployerError, match="Apps still present"):
        StudioCleaner(client, sleep=lambda s: None, max_polls=2).empty_domain("d-1")


def test_drift_works_on_a_stack_that_was_never_updated(cli_app, fake_state):
    from deployer_fakes import FakeStack

    fake_state.stacks[("mlops-platform", "dev")] = FakeStack("mlops-platform", "dev")
    result = invoke(cli_app, "drift", "--stack", "dev", "--json")
    assert result.exit_code == 0, result.output


def test_destroy_of_a_prod_serving_stack_needs_confirmation(cli_app, cli, fake_state):
    fake_state.deployed("mlops-serving", "churn-prod")
    result = invoke(cli_app, "destroy", "--stack", "churn-prod")
    assert result.exit_code == 2 and "stack churn-prod is a PROD stack" in result.output


def test_drift_of_a_serving_stack_runs_in_the_serving_project(cli_app, cli, fake_state):
    fake_state.deployed("mlops-serving", "churn-dev")
    result = invoke(cli_app, "drift", "--stack", "churn-dev", "--json")
    assert result.exit_code == 0, result.output
    assert [c.stack for c in cli.calls if c.verb == "refresh"] == ["churn-dev"]


def test_drift_of_an_unknown_stack_is_bad_input(cli_app):
    result = invoke(cli_app, "drift", "--stack", "qa")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --stack qa: neither a platform stack nor a serving stack <project>-<stage>"


def test_deploy_model_with_a_bad_arn_fails_before_touching_anything(cli_app, cli):
    result = invoke(cli_app, "deploy", "model", "--project", "churn", "--stage", "dev", "--model-package-arn", "v1")
    assert result.exit_code == 2 and cli.calls == []
    assert result.output.strip() == "error: --model-package-arn 'v1': not a versioned SageMaker model package ARN"


def test_deploy_model_with_an_unknown_stage_is_bad_input(cli_app):
    result = invoke(cli_app, "deploy", "model", "--project", "churn", "--stage", "qa", "--model-package-arn",
                    "arn:aws:sagemaker:eu-central-1:222222222222:model-package/churn/3")
    assert result.exit_code == 2 and result.output.strip() == "error: --stage 'qa': expected one of dev, int, prod"


def test_deploy_without_the_pulumi_cli_exits_2_with_the_install_command(cli_app, monkeypatch, tmp_path):
    from mlops_platform.commands import deploy as deploy_cmd
    from mlops_platform.deployer.runner import AutomationStackRunner

    monkeypatch.setattr(deploy_cmd, "make_runner", lambda root, backend: AutomationStackRunner(root, backend))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    result = invoke(cli_app, "deploy", "--yes")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: the Pulumi CLI is not installed (or not on PATH): install it with `curl -fsSL https://get.pulumi.com | sh`")


def test_drift_lists_a_resource_deleted_outside_pulumi(cli_app, fake_state, behaviour):
    deploy_all(fake_state)
    behaviour.vanished["res"] = 1
    result = invoke(cli_app, "drift", "--stack", "res")
    assert result.exit_code == 1
    assert "res: delete urn:pulumi:res::mlops-platform::aws:s3/bucket:Bucket::b4" in result.stdout
