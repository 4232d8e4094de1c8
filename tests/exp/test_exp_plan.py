"""The EXP stack under mocks: Studio, people, CodeArtifact, registry, events and the product."""

from __future__ import annotations

import copy
import json

import pytest

from exp_helpers import by_name, document, matches_pattern
from mlops_core.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "functions" / "fixtures"
DOMAIN = "aws:sagemaker/domain:Domain"
PROFILE = "aws:sagemaker/userProfile:UserProfile"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


# ---- Studio ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def domain(exp_plan):
    (record,) = exp_plan.of_type(DOMAIN)
    return record


def test_domain_is_vpc_only_with_iam_auth(domain) -> None:
    assert (domain.inputs["appNetworkAccessType"], domain.inputs["authMode"]) == ("VpcOnly", "IAM"), domain.urn


def test_domain_uses_the_private_subnets(exp_plan, domain) -> None:
    assert sorted(domain.inputs["subnetIds"]) == sorted(exp_plan.outputs["subnetIds"]), domain.urn


def test_domain_is_encrypted_with_the_platform_key(exp_plan, domain) -> None:
    assert domain.inputs["kmsKeyId"] == exp_plan.outputs["platformKeyArn"], domain.urn


def test_domain_disables_notebook_sharing(domain) -> None:
    sharing = domain.inputs["defaultUserSettings"]["sharingSettings"]
    assert sharing["notebookOutputOption"] == "Disabled", f"{domain.urn}: {sharing}"


def test_domain_default_settings_carry_a_security_group(domain) -> None:
    assert domain.inputs["defaultUserSettings"]["securityGroups"] and domain.inputs["defaultSpaceSettings"]["securityGroups"], domain.urn


def test_jupyterlab_idle_shutdown_is_enabled(domain, org) -> None:
    idle = domain.inputs["defaultUserSettings"]["jupyterLabAppSettings"]["appLifecycleManagement"]["idleSettings"]
    assert idle["lifecycleManagement"] == "ENABLED" and idle["idleTimeoutInMinutes"] == org.workspace.studio_idle_timeout_minutes, f"{domain.urn}: {idle}"


def test_every_data_scientist_has_a_profile_named_after_them(exp_plan, org) -> None:
    profiles = {r.inputs["userProfileName"] for r in exp_plan.of_type(PROFILE)}
    assert profiles == {p.name for p in org.data_scientists}, profiles


def test_every_profile_uses_its_own_execution_role(exp_plan) -> None:
    for record in exp_plan.of_type(PROFILE):
        user = record.inputs["userProfileName"]
        role = record.inputs["userSettings"]["executionRole"]
        assert role.endswith(f":role/mlops-user-{user}"), f"{record.urn}: {role}"


def test_every_profile_has_its_own_security_group(exp_plan) -> None:
    groups = [tuple(r.inputs["userSettings"]["securityGroups"]) for r in exp_plan.of_type(PROFILE)]
    assert len(set(groups)) == len(groups) and all(len(g) == 1 for g in groups), groups


def test_every_profile_starts_jupyterlab_with_its_lifecycle_config(exp_plan) -> None:
    configs = {r.inputs["arn"] if "arn" in r.inputs else None for r in exp_plan.of_type("aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig")}
    for record in exp_plan.of_type(PROFILE):
        spec = record.inputs["userSettings"]["jupyterLabAppSettings"]["defaultResourceSpec"]
        assert spec.get("lifecycleConfigArn"), f"{record.urn}: no default lifecycle config"
    assert configs, "no lifecycle configurations"


def test_studio_endpoints_exist_with_private_dns(exp_plan) -> None:
    endpoints = {r.inputs["serviceName"]: r for r in exp_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("com.amazonaws.eu-central-1.sagemaker.api", "aws.sagemaker.eu-central-1.studio"):
        assert service in endpoints and endpoints[service].inputs["privateDnsEnabled"], f"missing endpoint {service}"


# ---- people ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "scientist", "ml-engineer", "devops", "platform-admin", "auditor"])
def test_a_federated_sign_in_role_per_persona(exp_plan, persona) -> None:
    role = by_name(exp_plan, f"exp-persona-{persona}-role")
    (stmt,) = document(role.inputs["assumeRolePolicy"])["Statement"]
    assert stmt["Principal"] == {"Federated": "arn:aws:iam::222222222222:saml-provider/corporate-idp"}, role.urn


def test_scientist_sign_in_role_admits_only_scientists(exp_plan, org) -> None:
    role = by_name(exp_plan, "exp-persona-scientist-role")
    (stmt,) = document(role.inputs["assumeRolePolicy"])["Statement"]
    expected = sorted(p.name for p in org.data_scientists if p.persona == "scientist")
    assert stmt["Condition"]["StringEquals"]["aws:RequestTag/userName"] == expected, role.urn


def test_every_execution_role_is_trusted_by_sagemaker_only(exp_plan, org) -> None:
    for person in org.data_scientists:
        role = by_name(exp_plan, f"exp-user-{person.name}")
        (stmt,) = document(role.inputs["assumeRolePolicy"])["Statement"]
        assert stmt["Principal"] == {"Service": "sagemaker.amazonaws.com"} and stmt["Condition"]["StringEquals"]["aws:SourceAccount"] == "222222222222", role.urn


def test_execution_roles_carry_their_projects(exp_plan, org) -> None:
    for person in org.data_scientists:
        role = by_name(exp_plan, f"exp-user-{person.name}")
        assert role.inputs["tags"]["mlops:project"] == " ".join(sorted(person.projects)), role.urn


# ---- CodeArtifact -------------------------------------------------------------------------------


def test_codeartifact_domain_is_encrypted_with_the_platform_key(exp_plan) -> None:
    (domain,) = exp_plan.of_type("aws:codeartifact/domain:Domain")
    assert domain.inputs["encryptionKey"] == exp_plan.outputs["platformKeyArn"], domain.urn


def test_pypi_proxy_has_the_public_pypi_connection(exp_plan) -> None:
    proxy = by_name(exp_plan, "exp-codeartifact-pypi-store")
    assert proxy.inputs["externalConnections"]["externalConnectionName"] == "public:pypi", proxy.urn


def test_team_repository_searches_internal_before_the_proxy(exp_plan) -> None:
    team = by_name(exp_plan, "exp-codeartifact-team")
    assert [u["repositoryName"] for u in team.inputs["upstreams"]] == ["internal", "pypi-store"], team.urn


def test_internal_repository_has_no_upstream_and_no_external_connection(exp_plan) -> None:
    internal = by_name(exp_plan, "exp-codeartifact-internal")
    assert not internal.inputs.get("upstreams") and not internal.inputs.get("externalConnections"), internal.urn


# ---- source control -------------------------------------------------------------------------------


def test_git_provider_is_a_codeconnections_connection_by_default(exp_plan) -> None:
    (connection,) = exp_plan.of_type("aws:codeconnections/connection:Connection")
    assert connection.inputs["providerType"] == "GitHub" and not exp_plan.of_type("aws:codecommit/repository:Repository"), connection.urn


def test_codecommit_replaces_the_connection_when_configured(repo_copy) -> None:
    import yaml

    from mlops_platform.harness import plan_stack

    path = repo_copy / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["workspace"]["sourceControl"] = {"provider": "codecommit"}
    path.write_text(yaml.safe_dump(raw))
    plan = plan_stack("exp", root=repo_copy)
    repos = plan.of_type("aws:codecommit/repository:Repository")
    assert len(repos) == 2 and not plan.of_type("aws:codeconnections/connection:Connection"), [r.urn for r in repos]
    assert all(r.inputs.get("kmsKeyId") for r in repos), "CodeCommit repositories without a KMS key"


# ---- model projects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_each_project_has_a_group_with_policy_bucket_and_rule(exp_plan, project) -> None:
    for name in (f"exp-{project}-group", f"exp-{project}-group-policy", f"exp-{project}-artifacts-bucket", f"exp-{project}-new-version", f"exp-{project}-to-res"):
        by_name(exp_plan, name)


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_group_policy_lets_res_read_and_stages_create_models(exp_plan, project) -> None:
    policy = document(by_name(exp_plan, f"exp-{project}-group-policy").inputs["resourcePolicy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert grants["ResReadsVersions"]["Principal"] == {"AWS": "arn:aws:iam::333333333333:root"}, grants
    assert "sagemaker:CreateModel" in grants["StagesCreateModels"]["Action"], grants
    assert sorted(grants["StagesCreateModels"]["Principal"]["AWS"]) == [f"arn:aws:iam::{a}:root" for a in ("444444444444", "555555555555", "666666666666")]


def test_no_other_account_may_approve_models(exp_plan) -> None:
    for record in exp_plan.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"):
        actions = {a for s in document(record.inputs["resourcePolicy"])["Statement"] for a in s["Action"]}
        assert "sagemaker:UpdateModelPackage" not in actions, record.urn


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_artifacts_are_readable_by_stage_serving_roles(exp_plan, project) -> None:
    policy = document(by_name(exp_plan, f"exp-{project}-artifacts-policy").inputs["policy"])
    grants = {s["Sid"]: s for s in policy["Statement"]}
    prod = grants["ReadArtifacts666666666666"]
    assert f"arn:aws:iam::666666666666:role/mlops-serving-{project}-*" in prod["Condition"]["ArnLike"]["aws:PrincipalArn"], prod


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_project_key_lets_stages_decrypt_through_s3_only(exp_plan, project) -> None:
    key = by_name(exp_plan, f"exp-{project}-key-key")
    grants = {s["Sid"]: s for s in document(key.inputs["policy"])["Statement"]}
    prod = next(s for sid, s in grants.items() if "666666666666" in sid)
    assert prod["Action"] == ["kms:Decrypt", "kms:DescribeKey"] and prod["Condition"]["StringEquals"]["kms:ViaService"] == ["s3.eu-central-1.amazonaws.com"], prod


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_new_version_rule_targets_the_res_bus_with_a_role(exp_plan, project) -> None:
    target = by_name(exp_plan, f"exp-{project}-to-res")
    assert target.inputs["arn"] == "arn:aws:events:eu-central-1:333333333333:event-bus/mlops-models" and target.inputs["roleArn"].endswith(":role/mlops-events-to-res"), target.urn


def _rule_pattern(plan, project: str) -> dict:
    return document(by_name(plan, f"exp-{project}-new-version").inputs["eventPattern"])


def _event_for(project: str, fixture_name: str) -> dict:
    event = copy.deepcopy(fixture(fixture_name))
    event["detail"]["ModelPackageGroupName"] = project  # the documented event, for this project's group
    return event


def test_rule_forwards_a_real_creation_event(exp_plan) -> None:
    assert matches_pattern(_rule_pattern(exp_plan, "weld-gun-pm"), _event_for("weld-gun-pm", "model_package_created.json"))


def test_creation_event_carries_the_model_package_arn(exp_plan) -> None:
    event = _event_for("weld-gun-pm", "model_package_created.json")
    assert event["detail"]["ModelPackageArn"].startswith("arn:aws:sagemaker:")


@pytest.mark.parametrize("fixture_name", ["model_package_approved.json", "model_package_rejected.json", "model_package_in_progress.json"])
def test_rule_ignores_approval_changes_and_unfinished_versions(exp_plan, fixture_name) -> None:
    assert not matches_pattern(_rule_pattern(exp_plan, "weld-gun-pm"), _event_for("weld-gun-pm", fixture_name)), fixture_name


def test_rule_ignores_other_groups(exp_plan) -> None:
    assert not matches_pattern(_rule_pattern(exp_plan, "weld-gun-pm"), fixture("model_package_created.json"))


def test_rule_for_the_fixture_group_matches_the_unmodified_fixture() -> None:
    from components.model_project import new_version_pattern

    event = fixture("model_package_created.json")
    assert matches_pattern(new_version_pattern(event["account"], event["detail"]["ModelPackageGroupName"]), event)


# ---- Service Catalog -------------------------------------------------------------------------------


def test_studio_projects_are_enabled(exp_plan) -> None:
    (status,) = exp_plan.of_type("aws:sagemaker/servicecatalogPortfolioStatus:ServicecatalogPortfolioStatus")
    assert status.inputs["status"] == "Enabled", status.urn


def test_product_is_visible_in_studio(exp_plan) -> None:
    (product,) = exp_plan.of_type("aws:servicecatalog/product:Product")
    assert product.inputs["tags"].get("sagemaker:studio-visibility") == "true", product.urn


def test_portfolio_is_associated_with_leads_sign_in_and_execution_roles(exp_plan, org) -> None:
    principals = {r.inputs["principalArn"] for r in exp_plan.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")}
    leads = {f"arn:aws:iam::222222222222:role/mlops-user-{p.name}" for p in org.data_scientists if p.persona == "lead"}
    assert principals == {"arn:aws:iam::222222222222:role/mlops-persona-lead", *leads}, principals


def test_product_launches_with_the_launch_role(exp_plan) -> None:
    (constraint,) = exp_plan.of_type("aws:servicecatalog/constraint:Constraint")
    assert constraint.inputs["type"] == "LAUNCH" and document(constraint.inputs["parameters"])["RoleArn"].endswith(":role/mlops-sc-launch"), constraint.urn


def test_template_object_is_kms_encrypted(exp_plan) -> None:
    template = by_name(exp_plan, "exp-model-building-template")
    assert template.inputs["serverSideEncryption"] == "aws:kms" and template.inputs["kmsKeyId"], template.urn


def test_launch_role_may_read_and_decrypt_the_template(exp_plan) -> None:
    template = by_name(exp_plan, "exp-model-building-template")
    policy = {s["Sid"]: s for s in document(by_name(exp_plan, "exp-model-building-launch-policy").inputs["policy"])["Statement"]}
    assert policy["ReadTemplate"]["Resource"] == f"arn:aws:s3:::{template.inputs['bucket']}/{template.inputs['key']}", policy["ReadTemplate"]
    assert policy["DecryptTemplate"]["Resource"] == template.inputs["kmsKeyId"], policy["DecryptTemplate"]


def test_launch_role_creates_roles_only_with_the_boundary(exp_plan) -> None:
    policy = {s["Sid"]: s for s in document(by_name(exp_plan, "exp-model-building-launch-policy").inputs["policy"])["Statement"]}
    create = policy["CreateRolesOnlyWithBoundary"]
    assert create["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == "arn:aws:iam::222222222222:policy/mlops-sc-boundary", create
    assert create["Resource"] == "arn:aws:iam::222222222222:role/mlops-sc/sc-*", create
