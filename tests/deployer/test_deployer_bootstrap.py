"""`bootstrap` against moto (six accounts reached through AssumeRole), with every API call recorded."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from mlops_platform.bootstrap import (
    BootstrapError,
    BootstrapReport,
    BootstrapSettings,
    assume_role_sessions,
    bootstrap,
    deploy_trust_policy,
    state_bucket_policy,
)
from mlops_core.config import OrganizationConfig

REGION = "eu-central-1"
DATA, EXP, RES, DEV, INT, PROD = ("111111111111", "222222222222", "333333333333", "444444444444", "555555555555",
                                  "666666666666")
REPO = "example-org/mlops-platform"
ADMIN = f"arn:aws:iam::{RES}:role/mlops-persona-platform-admin"
OIDC = "token.actions.githubusercontent.com"
BOOTSTRAP_ROLE = "OrganizationAccountAccessRole"


def organization(**overrides) -> OrganizationConfig:
    raw = {"platformName": "mlops", "region": REGION,
           "accounts": {"data": DATA, "exp": EXP, "res": RES, "dev": DEV, "int": INT, "prod": PROD},
           "tags": {"cost-center": "ml"}, "github": {"repository": REPO}, **overrides}
    return OrganizationConfig.model_validate(raw)


@dataclass
class Bootstrapped:
    settings: BootstrapSettings
    first: BootstrapReport
    second: BootstrapReport
    first_calls: list[tuple[str, str, str]]
    second_calls: list[tuple[str, str, str]]
    session: object  # account -> boto3 Session


@contextmanager
def mocked_aws() -> Iterator[None]:
    """moto for every account, with only the two AWS managed policies bootstrap attaches.

    Loading all ~1,300 of them per account (MOTO_IAM_LOAD_MANAGED_POLICIES) costs seconds per account.
    """
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    managed = {name: data for name, data in json.loads(aws_managed_policies_data).items()
               if name in ("AdministratorAccess", "ReadOnlyAccess")}

    def aws_policies(backend):
        return [AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
                for name, data in managed.items()]

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    with mock.patch.dict(os.environ, env), mock.patch.object(IAMBackend, "_init_aws_policies", aws_policies), \
            mock_aws():
        yield


@pytest.fixture(scope="module")
def run() -> Iterator[Bootstrapped]:
    with mocked_aws():
        calls: list[tuple[str, str, str]] = []
        factory = assume_role_sessions(boto3.Session(region_name=REGION), BOOTSTRAP_ROLE)

        def sessions(account: str):
            session = factory(account)
            session.events.register(
                "before-call", lambda model, **_: calls.append((account, model.service_model.service_name, model.name)))
            return session

        settings = BootstrapSettings(organization(), ADMIN)
        first = bootstrap(settings, sessions, BOOTSTRAP_ROLE)
        first_calls = list(calls)
        calls.clear()
        second = bootstrap(settings, sessions, BOOTSTRAP_ROLE)
        yield Bootstrapped(settings, first, second, first_calls, list(calls), factory)


def role(run: Bootstrapped, account: str, name: str) -> dict:
    return run.session(account).client("iam").get_role(RoleName=name)["Role"]


def statement(document: dict, sid: str) -> dict:
    found = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert found, f"statement {sid} missing from {json.dumps(document)}"
    return found[0]


# --- trust policies ---------------------------------------------------------------------------------


def test_res_deploy_role_trusts_only_the_repositorys_deploy_environments(run):
    trust = role(run, RES, "mlops-deploy")["AssumeRolePolicyDocument"]
    oidc = statement(trust, "GitHubDeployEnvironments")
    assert oidc["Principal"] == {"Federated": f"arn:aws:iam::{RES}:oidc-provider/{OIDC}"}
    assert oidc["Condition"] == {"StringEquals": {
        f"{OIDC}:aud": "sts.amazonaws.com",
        f"{OIDC}:sub": [f"repo:{REPO}:environment:{env}" for env in ("shared", "dev", "int", "prod")]}}


def test_res_preview_role_trusts_only_pull_requests(run):
    trust = role(run, RES, "mlops-preview")["AssumeRolePolicyDocument"]
    oidc = statement(trust, "GitHubPullRequests")
    assert oidc["Condition"] == {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com",
                                                  f"{OIDC}:sub": [f"repo:{REPO}:pull_request"]}}
    assert "environment" not in json.dumps(trust), "the preview role must never trust a deploy environment"


@pytest.mark.parametrize("account", [DATA, EXP, RES, DEV, INT, PROD])
def test_deploy_role_admits_the_administrator_only_with_mfa(run, account):
    admin = statement(role(run, account, "mlops-deploy")["AssumeRolePolicyDocument"], "PlatformAdministratorWithMfa")
    assert admin["Condition"] == {"ArnLike": {"aws:PrincipalArn": ADMIN}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize("account", [DATA, EXP, DEV, INT, PROD])
def test_stage_deploy_role_trusts_the_ci_deploy_identity_by_principal_arn(run, account):
    trust = role(run, account, "mlops-deploy")["AssumeRolePolicyDocument"]
    ci = statement(trust, "CiDeployIdentity")
    assert (ci["Principal"], ci["Condition"]) == (
        {"AWS": f"arn:aws:iam::{RES}:root"}, {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{RES}:role/mlops-deploy"}})
    assert "Federated" not in json.dumps(trust), f"only RES holds the GitHub OIDC trust, not {account}"


@pytest.mark.parametrize("account", [DATA, EXP, DEV, INT, PROD])
def test_stage_preview_role_trusts_only_the_ci_preview_identity(run, account):
    trust = role(run, account, "mlops-preview")["AssumeRolePolicyDocument"]
    assert [s["Condition"] for s in trust["Statement"]] == [
        {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{RES}:role/mlops-preview"}}]


@pytest.mark.parametrize("account", [DATA, EXP, RES, DEV, INT, PROD])
def test_deploy_role_carries_the_permissions_boundary(run, account):
    boundary = role(run, account, "mlops-deploy").get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    assert boundary == f"arn:aws:iam::{account}:policy/mlops-deploy-boundary"


def test_preview_role_holds_read_only_access_and_no_admin(run):
    attached = run.session(PROD).client("iam").list_attached_role_policies(RoleName="mlops-preview")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["ReadOnlyAccess"]


def test_preview_role_cannot_read_data_objects(run):
    limits = run.session(DATA).client("iam").get_role_policy(RoleName="mlops-preview", PolicyName="preview-limits")
    deny = statement(limits["PolicyDocument"], "NoDataReads")
    assert deny["Effect"] == "Deny" and "s3:GetObject" in deny["Action"]


def test_boundary_protects_itself_and_the_bootstrap_roles(run):
    iam = run.session(DEV).client("iam")
    arn = f"arn:aws:iam::{DEV}:policy/mlops-deploy-boundary"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    assert statement(document, "NoBoundaryTampering")["Resource"] == arn
    assert f"arn:aws:iam::{DEV}:role/mlops-deploy" in statement(document, "NoChangesToBootstrapRoles")["Resource"]


def test_github_oidc_provider_pins_the_audience(run):
    iam = run.session(RES).client("iam")
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=f"arn:aws:iam::{RES}:oidc-provider/{OIDC}")
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]


# --- state bucket and key -----------------------------------------------------------------------------


def bucket_name(run):
    return run.settings.state_bucket


def state_key(run) -> dict:
    return run.session(RES).client("kms", region_name=REGION).describe_key(KeyId="alias/mlops-pulumi-state")["KeyMetadata"]


def test_state_bucket_is_encrypted_with_the_state_key(run):
    s3 = run.session(RES).client("s3", region_name=REGION)
    rule = s3.get_bucket_encryption(Bucket=bucket_name(run))["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": state_key(run)["Arn"]}
    assert rule["BucketKeyEnabled"] is True


def test_state_bucket_is_versioned(run):
    s3 = run.session(RES).client("s3", region_name=REGION)
    assert s3.get_bucket_versioning(Bucket=bucket_name(run))["Status"] == "Enabled"


def test_state_bucket_blocks_public_access(run):
    s3 = run.session(RES).client("s3", region_name=REGION)
    config = s3.get_public_access_block(Bucket=bucket_name(run))["PublicAccessBlockConfiguration"]
    assert all(config.values()) and len(config) == 4


def state_policy(run) -> dict:
    s3 = run.session(RES).client("s3", region_name=REGION)
    return json.loads(s3.get_bucket_policy(Bucket=bucket_name(run))["Policy"])


def test_state_bucket_denies_requests_without_tls(run):
    deny = statement(state_policy(run), "DenyInsecureTransport")
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_state_objects_are_limited_to_the_deploy_preview_and_admin_identities(run):
    deny = statement(state_policy(run), "OnlyStateIdentitiesReadAndWriteState")
    assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [
        f"arn:aws:iam::{RES}:role/mlops-deploy", f"arn:aws:iam::{RES}:role/mlops-preview", ADMIN]}}


def test_codebuild_role_is_not_admitted_before_the_vpc_endpoint_is_known(run):
    assert "mlops-serving-deployer" not in json.dumps(state_policy(run))


def test_codebuild_role_is_admitted_only_through_the_res_vpc_endpoint():
    settings = BootstrapSettings(organization(), ADMIN, "vpce-0123456789abcdef0")
    policy = state_bucket_policy(settings, f"arn:aws:iam::{RES}:role/{BOOTSTRAP_ROLE}")
    codebuild = f"arn:aws:iam::{RES}:role/mlops-serving-deployer"
    assert codebuild in statement(policy, "OnlyStateIdentitiesReadAndWriteState")["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert statement(policy, "ServingDeployerOnlyThroughTheVpcEndpoint")["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": codebuild}, "StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}


def test_preview_identity_writes_only_lock_files(run):
    deny = statement(state_policy(run), "PreviewWritesLocksOnly")
    assert deny["NotResource"] == f"arn:aws:s3:::{bucket_name(run)}/.pulumi/locks/*"


def test_state_key_rotates(run):
    kms = run.session(RES).client("kms", region_name=REGION)
    assert kms.get_key_rotation_status(KeyId=state_key(run)["KeyId"])["KeyRotationEnabled"] is True


def test_state_key_is_used_only_by_the_state_identities(run):
    kms = run.session(RES).client("kms", region_name=REGION)
    policy = json.loads(kms.get_key_policy(KeyId=state_key(run)["KeyId"], PolicyName="default")["Policy"])
    use = statement(policy, "StateIdentitiesUseTheKey")
    assert use["Condition"]["ArnLike"]["aws:PrincipalArn"][:2] == [
        f"arn:aws:iam::{RES}:role/mlops-deploy", f"arn:aws:iam::{RES}:role/mlops-preview"]


# --- exact calls and idempotency ------------------------------------------------------------------------


def test_first_run_makes_exactly_these_calls_in_a_stage_account(run):
    dev = [name for account, _, name in run.first_calls if account == DEV]
    assert dev == ["GetPolicy", "CreatePolicy",
                   "GetRole", "CreateRole", "ListAttachedRolePolicies", "AttachRolePolicy",
                   "GetRole", "CreateRole", "ListAttachedRolePolicies", "AttachRolePolicy",
                   "GetRolePolicy", "PutRolePolicy"]


def test_first_run_makes_exactly_these_calls_for_the_state_in_res(run):
    state = [(service, name) for account, service, name in run.first_calls if account == RES and service != "iam"]
    assert state == [("kms", "DescribeKey"), ("kms", "CreateKey"), ("kms", "CreateAlias"),
                     ("kms", "GetKeyRotationStatus"), ("kms", "EnableKeyRotation"),
                     ("s3", "HeadBucket"), ("s3", "CreateBucket"), ("s3", "PutPublicAccessBlock"),
                     ("s3", "PutBucketOwnershipControls"), ("s3", "PutBucketEncryption"), ("s3", "PutBucketVersioning"),
                     ("s3", "PutBucketLifecycleConfiguration"), ("s3", "PutBucketTagging"), ("s3", "PutBucketPolicy")]


def test_second_run_changes_nothing(run):
    assert run.second.actions == []


def test_second_run_creates_and_updates_nothing(run):
    writes = [name for _, service, name in run.second_calls if service != "s3"
              and name.startswith(("Create", "Update", "Attach", "Delete", "Put", "Enable", "AddClient"))]
    assert writes == []


def test_second_run_in_a_stage_account_only_reads(run):
    dev = [name for account, _, name in run.second_calls if account == DEV]
    assert dev == ["GetPolicy", "GetPolicyVersion", "GetRole", "ListAttachedRolePolicies",
                   "GetRole", "ListAttachedRolePolicies", "GetRolePolicy"]


# --- input errors -----------------------------------------------------------------------------------------


def test_bootstrap_needs_the_github_repository():
    settings = BootstrapSettings(organization(github=None), ADMIN)
    with pytest.raises(BootstrapError, match="github.repository is required"):
        bootstrap(settings, lambda account: pytest.fail("no call may happen"), BOOTSTRAP_ROLE)


def test_cli_rejects_a_malformed_admin_principal_with_exit_2(monkeypatch):
    import typer

    from mlops_platform.commands import bootstrap as bootstrap_cmd

    app = typer.Typer()
    bootstrap_cmd.register(app)
    result = CliRunner().invoke(app, ["--dry-run", "--admin-principal-arn", "alice"])
    assert result.exit_code == 2 and result.output.strip() == (
        "error: --admin-principal-arn 'alice': not an IAM principal ARN")


def test_cli_dry_run_prints_the_documents_without_calls():
    import typer

    from mlops_platform.commands import bootstrap as bootstrap_cmd

    app = typer.Typer()
    bootstrap_cmd.register(app)
    result = CliRunner().invoke(app, ["--dry-run"])
    documents = json.loads(result.stdout)
    assert result.exit_code == 0 and set(documents["accounts"]) == {"data", "exp", "res", "dev", "int", "prod"}


def test_a_rerun_converges_what_was_changed_by_hand_and_new_inputs():
    with mocked_aws():
        sessions = assume_role_sessions(boto3.Session(region_name=REGION), BOOTSTRAP_ROLE)
        bootstrap(BootstrapSettings(organization(), ADMIN), sessions, BOOTSTRAP_ROLE)
        sessions(DEV).client("iam").update_assume_role_policy(RoleName="mlops-deploy", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                                                   "Action": "sts:AssumeRole"}]}))
        report = bootstrap(BootstrapSettings(organization(), ADMIN, "vpce-0123456789abcdef0"), sessions, BOOTSTRAP_ROLE)
        trust = sessions(DEV).client("iam").get_role(RoleName="mlops-deploy")["Role"]["AssumeRolePolicyDocument"]
        policy = json.loads(sessions(RES).client("s3", region_name=REGION).get_bucket_policy(
            Bucket="mlops-pulumi-state-333333333333-eu-central-1")["Policy"])
    assert f"{DEV}: updated trust policy of mlops-deploy" in report.actions
    assert f"{RES}: updated the policy of alias/mlops-pulumi-state" in report.actions
    assert "999999999999" not in json.dumps(trust), "a hand-made trust must be replaced"
    assert statement(policy, "ServingDeployerOnlyThroughTheVpcEndpoint")["Condition"]["StringNotEquals"] == {
        "aws:SourceVpce": "vpce-0123456789abcdef0"}


def test_with_identity_center_the_management_account_gets_the_deploy_role_too():
    org = organization(identity={"mode": "identity-center", "managementAccount": "777777777777",
                                 "identityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-0123456789abcdef"})
    settings = BootstrapSettings(org, ADMIN)
    assert settings.stack_accounts()["identity"] == "777777777777"
    ci = statement(deploy_trust_policy(settings, "777777777777"), "CiDeployIdentity")
    assert ci["Condition"] == {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{RES}:role/mlops-deploy"}}


def test_with_a_log_archive_account_that_account_gets_the_deploy_role_too():
    settings = BootstrapSettings(organization(accounts={"data": DATA, "exp": EXP, "res": RES, "dev": DEV, "int": INT,
                                                        "prod": PROD, "logArchive": "777777777777"}), ADMIN)
    assert settings.stack_accounts()["log-archive"] == "777777777777", settings.stack_accounts()


def test_without_a_log_archive_account_no_log_archive_deploy_role():
    assert "log-archive" not in BootstrapSettings(organization(), ADMIN).stack_accounts()
