"""The SageMaker deny guardrails: lint, size, content from the data file, attached to every SageMaker role."""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

from components.guardrails import KINDS, load_templates, minified, render_guardrails
from exp_helpers import document

GUARDRAIL_TYPE = "aws:iam/policy:Policy"
SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719", "subnet-0a1b2c3d4e5f6071a"]
GROUPS = [f"sg-0a1b2c3d4e5f607{i:02d}" for i in range(12)]
VPCE = ["vpce-0a1b2c3d4e5f60718"]


@pytest.fixture(scope="module")
def rendered():
    return render_guardrails(SUBNETS, GROUPS, VPCE)


@pytest.fixture(scope="module")
def stack_guardrails(exp_plan):
    """The shared pair (the network one for the domain's and the product's roles)."""
    return {kind: next(r for r in exp_plan.of_type(GUARDRAIL_TYPE) if r.name == f"exp-guardrails-{kind}") for kind in KINDS}


def _network_policy(exp_plan, scope: str):
    (record,) = [r for r in exp_plan.of_type(GUARDRAIL_TYPE) if r.name == f"exp-guardrails-sagemaker-deny-network-{scope}"]
    return record


def _allowed_groups(record) -> set[str]:
    (stmt,) = [s for s in document(record.inputs["policy"])["Statement"] if s["Sid"] == "DenyUnapprovedSecurityGroups"]
    return set(stmt["Condition"]["ForAnyValue:StringNotEquals"]["sagemaker:VpcSecurityGroupIds"])


@pytest.mark.parametrize("kind", KINDS)
def test_rendered_guardrail_lints_clean_with_parliament(rendered, kind) -> None:
    findings = analyze_policy_string(minified(rendered[kind])).findings
    assert not findings, f"{kind}: {[(f.issue, f.detail) for f in findings]}"


@pytest.mark.parametrize("kind", KINDS)
def test_stack_guardrail_lints_clean_with_parliament(stack_guardrails, kind) -> None:
    findings = analyze_policy_string(stack_guardrails[kind].inputs["policy"]).findings
    assert not findings, f"{stack_guardrails[kind].urn}: {[(f.issue, f.detail) for f in findings]}"


@pytest.mark.parametrize("kind", KINDS)
def test_stack_guardrail_fits_the_managed_policy_limit(stack_guardrails, kind) -> None:
    size = len(stack_guardrails[kind].inputs["policy"])
    assert size < 6_144, f"{stack_guardrails[kind].urn}: {size} characters, IAM allows 6,144"


def test_network_guardrail_with_twelve_groups_fits_the_limit(rendered) -> None:
    assert len(minified(rendered["sagemaker-deny-network"])) < 6144


def test_oversized_guardrail_fails_the_limits_check_with_one_line() -> None:
    from mlops_platform.harness import ResourceRecord
    from mlops_platform.limits import check_records

    groups = [f"sg-0a1b2c3d4e5f6{i:04d}" for i in range(120)]
    document = minified(render_guardrails(SUBNETS, groups, VPCE)["sagemaker-deny-network"])
    policy = ResourceRecord(urn="urn:pulumi:exp::p::aws:iam/policy:Policy::deny-network", type="aws:iam/policy:Policy",
                            name="deny-network", custom=True, parent=None, provider=None, inputs={"policy": document})
    lines = [v.line() for v in check_records("exp", [policy]).violations]
    assert len(lines) == 1 and "deny-network (aws:iam/policy:Policy), policy:" in lines[0], lines
    assert "limit 6,144" in lines[0], lines


def test_empty_allow_list_is_refused() -> None:
    with pytest.raises(ValueError, match="subnet_ids"):
        render_guardrails([], GROUPS, VPCE)


def test_no_placeholder_survives_rendering(rendered) -> None:
    assert "${" not in json.dumps(rendered)


def test_stack_network_guardrail_names_the_real_subnets_and_endpoint(exp_plan, stack_guardrails) -> None:
    doc = document(stack_guardrails["sagemaker-deny-network"].inputs["policy"])
    statements = {s["Sid"]: s for s in doc["Statement"]}
    assert statements["DenyUnapprovedSubnets"]["Condition"]["ForAnyValue:StringNotEquals"]["sagemaker:VpcSubnets"] == sorted(exp_plan.outputs["subnetIds"])
    assert statements["DenyStudioUrlOutsideVpce"]["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [exp_plan.outputs["endpointIds"]["sagemaker.api"]]


def test_each_users_network_guardrail_admits_their_profiles_security_group(exp_plan) -> None:
    for profile in exp_plan.of_type("aws:sagemaker/userProfile:UserProfile"):
        user = profile.inputs["userProfileName"]
        allowed = _allowed_groups(_network_policy(exp_plan, f"user-{user}"))
        used = set(profile.inputs["userSettings"]["securityGroups"])
        assert used <= allowed, f"{profile.urn}: groups {used - allowed} not allowed by {user}'s network guardrail"


def _group_urn(exp_plan, name: str) -> str:
    (group,) = [r for r in exp_plan.resources if r.name == name]
    return group.urn


def test_shared_network_guardrail_is_built_from_the_domain_and_product_groups_only(exp_plan, stack_guardrails) -> None:
    sources = set(stack_guardrails["sagemaker-deny-network"].property_dependencies.get("policy", []))
    groups = {r.urn for r in exp_plan.of_type("aws:ec2/securityGroup:SecurityGroup")} & sources
    expected = {_group_urn(exp_plan, "exp-studio-domain-sg"), _group_urn(exp_plan, "exp-sc-build-sg")}
    assert groups == expected, f"the shared network guardrail names {sorted(groups - expected)} beyond the domain's and product's groups"


@pytest.mark.parametrize("project", ["weld-gun-pm", "spot-weld-qa"])
def test_project_network_guardrail_admits_only_its_jobs_group(exp_plan, project) -> None:
    # Declared by the project's stack, from the jobs group the exp stack exports.
    (record,) = [r for r in exp_plan.of_type(GUARDRAIL_TYPE) if r.name == f"exp-{project}-role-guardrails-sagemaker-deny-network-policy"]
    assert _allowed_groups(record) == {exp_plan.outputs["projectSecurityGroupIds"][project]}, f"{record.urn}: admits {sorted(_allowed_groups(record))}"


def test_users_network_guardrail_admits_their_projects_jobs_groups(exp_plan, org) -> None:
    carol = next(p for p in org.data_scientists if p.name == "carol")
    record = _network_policy(exp_plan, "user-carol")
    sources = set(record.property_dependencies.get("policy", []))
    for project in carol.projects:
        assert _group_urn(exp_plan, f"exp-{project}-jobs-sg") in sources, f"{record.urn}: carol cannot run jobs of {project}"


def test_stack_encryption_guardrail_is_the_data_file_document(stack_guardrails) -> None:
    assert document(stack_guardrails["sagemaker-deny-encryption"].inputs["policy"]) == load_templates()["sagemaker-deny-encryption"]["document"]


def test_every_sagemaker_role_has_both_deny_policies(exp_plan) -> None:
    tagged = {r.urn: r.inputs["tags"]["mlops:guardrail"] for r in exp_plan.of_type(GUARDRAIL_TYPE) if "mlops:guardrail" in (r.inputs.get("tags") or {})}
    # A project's stack attaches the shared encryption guardrail by the ARN the exp stack exports.
    exported = dict(zip(exp_plan.outputs["guardrailPolicyArns"], KINDS))
    attached: dict[str, set[str]] = {}
    for record in exp_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        kinds = {tagged[urn] for urn in record.property_dependencies.get("policyArn", []) if urn in tagged}
        kinds |= {exported[record.inputs["policyArn"]]} if record.inputs.get("policyArn") in exported else set()
        attached.setdefault(record.inputs["role"], set()).update(kinds)
    sagemaker_roles = set()
    for role in exp_plan.of_type("aws:iam/role:Role"):
        trust = document(role.inputs["assumeRolePolicy"])
        if any(s.get("Principal", {}).get("Service") == "sagemaker.amazonaws.com" for s in trust["Statement"]):
            sagemaker_roles.add(role.inputs["name"])
    assert sagemaker_roles, "no SageMaker roles in the plan"
    for name in sorted(sagemaker_roles):
        assert attached.get(name) == set(KINDS), f"role {name} carries {sorted(attached.get(name, set()))}, needs {list(KINDS)}"
