"""Pack metadata: enough policies, stable names, references, remediation, SDK-derived registries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sagemaker

from mlops_guard.allowlists import sagemaker_image_registries
from mlops_guard.registry import ALL_POLICIES, crossguard_policies

AREAS = {"encryption", "network", "iam", "logging", "images", "public_access", "pipeline_definition", "stack"}


def test_the_pack_has_at_least_fifty_policies() -> None:
    assert len(ALL_POLICIES) >= 50, len(ALL_POLICIES)


def test_policy_names_are_stable_kebab_case() -> None:
    bad = [p.name for p in ALL_POLICIES if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.name)]
    assert not bad, bad


def test_every_policy_has_description_severity_and_remediation() -> None:
    incomplete = [p.name for p in ALL_POLICIES if not (p.description and p.remediation and p.severity)]
    assert not incomplete, incomplete


def test_every_area_of_the_issue_is_covered() -> None:
    assert {p.area for p in ALL_POLICIES} == AREAS


def test_references_are_tagged_with_their_framework() -> None:
    for p in ALL_POLICIES:
        for ref in p.references:
            assert ref.tag in p.tags, f"{p.name}: {ref.tag} missing from tags"


def test_crossguard_policies_carry_the_metadata() -> None:
    built = {p.name: p for p in crossguard_policies()}
    s3 = built["s3-sse-customer-managed-key"]
    assert s3.framework.name == "AWS-FSBP" and s3.framework.reference == "S3.17"
    assert "checkov:CKV_AWS_145" in s3.tags
    assert s3.severity.value == "high"
    assert s3.remediation_steps


def test_no_policy_overrides_the_mandatory_pack_default_or_remediates() -> None:
    for p in crossguard_policies():
        assert p.enforcement_level is None, f"{p.name} sets its own enforcement level"
        assert not (hasattr(p, "has_remediation") and p.has_remediation()), f"{p.name} remediates"


def test_approved_registries_come_from_the_sagemaker_sdk_config() -> None:
    folder = Path(sagemaker.__file__).parent / "core" / "image_uri_config"
    expected: set[tuple[str, str]] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "registries":
                    expected.update(value.items())
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in folder.glob("*.json"):
        walk(json.loads(path.read_text()))
    assert expected and set(sagemaker_image_registries()) == expected


def test_every_policy_traces_to_a_catalogue_control() -> None:
    controls = {p.name: p.control for p in ALL_POLICIES}
    built = crossguard_policies()
    untraced = [p.name for p in built if f"control:{controls[p.name]}" not in p.tags or not p.framework.reference]
    assert not untraced, untraced
