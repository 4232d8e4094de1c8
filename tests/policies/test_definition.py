"""One place per policy: the decorator holds a policy's identity, refuses bad definitions and applies the
platform deploy exemption; the registry lists what the rule modules defined, in the pack's order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlops_guard.define
from mlops_guard.define import PolicyDefinitionError, PolicyRegister
from mlops_guard.model import Report
from mlops_guard.registry import ALL_POLICIES, BY_NAME, framework_of, tags_of

from .conftest import resource

RULES = Path(mlops_guard.define.__file__).parent / "rules"
EXEMPT_ROLE = {"tags": {"mlops:guardrail-exemption": "platform-deploy"}, "permissionsBoundary": "arn:aws:iam::111111111111:policy/deploy-boundary"}
IDENTITY = {"name": "p", "control": "TEST-CONTROL", "description": "d", "severity": "high", "remediation": "r"}


def _always_violates(res, config, report) -> None:
    report.violation(f"{res.name}: checked")


def _pair(register: PolicyRegister):
    """The same always-failing check defined twice: once exempting the platform deploy role, once not."""
    types = ("aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")
    exempt = register.resource_policy(**{**IDENTITY, "name": "exempt"}, types=types, exempt_platform_deploy_role=True)(_always_violates)
    strict = register.resource_policy(**{**IDENTITY, "name": "strict"}, types=types)(_always_violates)
    return exempt, strict


def _messages(gp, type_token: str, props: dict) -> list[str]:
    """Run the policy as the engine and the CrossGuard server do: through ``gp.check``."""
    subject = resource(type_token, props)
    report = Report(default_urn=subject.urn, policy=gp.name)
    gp.check(subject, {}, report)
    return [v.message for v in report.violations]


@pytest.mark.parametrize("control", ["", "   ", "enc-s3-kms", None])
def test_a_policy_without_a_catalogue_control_is_refused(control) -> None:
    register = PolicyRegister()
    with pytest.raises(PolicyDefinitionError, match="p: control must be a catalogue control ID"):
        register.resource_policy(**{**IDENTITY, "control": control}, types=("aws:s3/bucket:Bucket",))(_always_violates)
    assert list(register) == []


def test_a_second_policy_of_the_same_name_is_refused() -> None:
    register = PolicyRegister()
    register.resource_policy(**IDENTITY, types=("aws:s3/bucket:Bucket",))(_always_violates)
    with pytest.raises(PolicyDefinitionError, match="p: a policy of that name is already defined"):
        register.stack_policy(**IDENTITY, types=("aws:s3/bucket:Bucket",))(_always_violates)
    assert [gp.kind for gp in register] == ["resource"]


def test_the_pack_refuses_a_name_it_already_has() -> None:
    before = [gp.name for gp in mlops_guard.define.REGISTER]
    with pytest.raises(PolicyDefinitionError, match="iam-no-admin-statements: a policy of that name is already defined in mlops_guard.rules.iam"):
        mlops_guard.define.resource_policy(**{**IDENTITY, "name": "iam-no-admin-statements"}, types=("aws:iam/role:Role",))(_always_violates)
    assert [gp.name for gp in mlops_guard.define.REGISTER] == before


def test_an_unknown_reference_framework_is_refused() -> None:
    with pytest.raises(PolicyDefinitionError, match="p: reference 'NIST:AC-6'"):
        PolicyRegister().resource_policy(**IDENTITY, types=("aws:s3/bucket:Bucket",), refs=("NIST:AC-6",))


def test_a_policy_without_types_is_refused() -> None:
    with pytest.raises(PolicyDefinitionError, match="p: names no resource types"):
        PolicyRegister().stack_policy(**IDENTITY, types=())


def test_the_decorator_keeps_the_identity_on_the_policy() -> None:
    gp = PolicyRegister().resource_policy(**IDENTITY, types=("aws:s3/bucket:Bucket",), refs=("SH:S3.17", "CKV:CKV_AWS_145"))(_always_violates)
    assert (gp.name, gp.control, gp.severity, gp.kind, gp.types) == ("p", "TEST-CONTROL", "high", "resource", ("aws:s3/bucket:Bucket",))
    assert [r.tag for r in gp.references] == ["securityhub:S3.17", "checkov:CKV_AWS_145"]
    assert gp.area == "test_definition"  # the defining module
    assert tags_of(gp) == ["test_definition", "securityhub:S3.17", "checkov:CKV_AWS_145", "control:TEST-CONTROL"]


def test_an_exempt_policy_skips_the_platform_deploy_role_and_a_strict_one_does_not() -> None:
    exempt, strict = _pair(PolicyRegister())
    assert _messages(exempt, "aws:iam/role:Role", EXEMPT_ROLE) == []
    assert _messages(strict, "aws:iam/role:Role", EXEMPT_ROLE) == ["subject: checked"]


def test_an_exempt_policy_skips_a_managed_policy_tagged_for_the_deploy_role() -> None:
    exempt, strict = _pair(PolicyRegister())
    tagged = {"tags": EXEMPT_ROLE["tags"]}
    assert _messages(exempt, "aws:iam/policy:Policy", tagged) == []
    assert _messages(strict, "aws:iam/policy:Policy", tagged) == ["subject: checked"]


@pytest.mark.parametrize(
    ("type_token", "props"),
    [
        ("aws:iam/role:Role", {"tags": EXEMPT_ROLE["tags"]}),  # the tag without a boundary
        ("aws:iam/role:Role", {"permissionsBoundary": EXEMPT_ROLE["permissionsBoundary"]}),  # a boundary without the tag
        ("aws:iam/role:Role", {**EXEMPT_ROLE, "tags": {"mlops:guardrail-exemption": "other"}}),
        ("aws:iam/rolePolicy:RolePolicy", EXEMPT_ROLE),  # an inline policy is never exempt
    ],
    ids=["tag-only", "boundary-only", "other-tag-value", "inline-role-policy"],
)
def test_the_exemption_needs_the_deploy_role_or_its_tagged_policy(type_token: str, props: dict) -> None:
    exempt, _ = _pair(PolicyRegister())
    assert _messages(exempt, type_token, props) == ["subject: checked"]


def test_exactly_the_identity_document_rules_exempt_the_deploy_role() -> None:
    """The list of policies/EXCEPTIONS.md, written out by hand."""
    exempt = {gp.name for gp in ALL_POLICIES if gp.exempt_platform_deploy_role}
    assert exempt == {
        "iam-no-admin-statements",
        "iam-no-service-wildcard-actions",
        "iam-passrole-restricted",
        "iam-no-kms-decrypt-on-all-keys",
        "iam-managed-policy-denylist",
        "iam-no-privilege-escalation",
        "iam-no-data-exfiltration",
        "iam-no-star-resource-on-scopable-actions",
    }


def test_rule_modules_hold_neither_an_exemption_prologue_nor_a_policy_list() -> None:
    """The exemption lives in ``define``, the list in ``registry``: a rule module repeating either drifts apart."""
    offenders = [
        path.name
        for path in sorted(RULES.glob("*.py"))
        for needle in ("is_platform_deploy_identity", "is_exempt_platform_policy", "POLICIES = [")
        if needle in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def test_the_pack_lists_its_rule_modules_in_order() -> None:
    areas = list(dict.fromkeys(gp.area for gp in ALL_POLICIES))
    assert areas == ["encryption", "network", "iam", "logging", "images", "public_access", "pipeline_definition", "stack"]
    assert [gp.name for gp in ALL_POLICIES[:3]] == ["s3-sse-customer-managed-key", "kms-key-rotation-enabled", "kms-key-deletion-window"]
    assert ALL_POLICIES[-1].name == "audit-evidence-locked"


def test_a_policy_without_external_references_traces_to_its_control() -> None:
    gp = BY_NAME["iam-exempt-role-has-boundary"]
    assert gp.control == "IAM-NO-ADMIN"
    assert framework_of(gp) == ("mlops-guardrails", "1", "IAM-NO-ADMIN")
    assert tags_of(gp)[-1] == "control:IAM-NO-ADMIN"


def test_the_registry_refuses_a_policy_defined_outside_the_rule_modules(tmp_path: Path) -> None:
    program = (
        "from mlops_guard.define import resource_policy\n"
        "@resource_policy(name='stray', control='TEST-STRAY', description='d', severity='low', types=('aws:s3/bucket:Bucket',), remediation='r')\n"
        "def stray(res, config, report): pass\n"
        "import mlops_guard.registry\n"
    )
    # run away from the repo root: its platform/ folder must not shadow the stdlib module
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0 and "policies defined outside RULE_MODULES: ['stray']" in run.stderr, run.stderr[-2000:]
