"""The vendored AWS managed policies: the pinned source's documents, and every one the platform attaches."""

from __future__ import annotations

import json

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from mlops_platform.access.model import AWS_MANAGED_DIR

VENDORED = sorted(AWS_MANAGED_DIR.glob("*.json"))


@pytest.mark.parametrize("path", VENDORED, ids=lambda p: p.stem)
def test_a_vendored_policy_is_the_pinned_sources_document_and_version(path) -> None:
    vendored = json.loads(path.read_text(encoding="utf-8"))
    source = json.loads(aws_managed_policies_data)[path.stem]
    assert (vendored["document"], vendored["versionId"]) == (source["Document"], source["DefaultVersionId"]), f"{path.name} differs from moto's {path.stem}"


def test_every_aws_managed_policy_the_plan_attaches_is_vendored(platform_model) -> None:
    attached = {arn for p in platform_model.principals.values() for arn in p.managed_policy_arns if arn.startswith("arn:aws:iam::aws:policy/")}
    vendored = {json.loads(p.read_text(encoding="utf-8"))["arn"] for p in VENDORED}
    assert attached and attached <= vendored, f"attached but not vendored: {sorted(attached - vendored)}"
