"""Small builders for IAM policy documents (pure; used by components and tests)."""

from __future__ import annotations

from typing import Any


def statement(
    sid: str,
    actions: list[str] | str,
    resources: list[str] | str | None,
    *,
    effect: str = "Allow",
    principal: dict[str, Any] | None = None,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One statement; lists are sorted so documents are stable across runs."""
    doc: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        doc["Principal"] = principal
    doc["Action"] = sorted(actions) if isinstance(actions, list) else actions
    if resources is not None:  # trust policies have no Resource
        doc["Resource"] = sorted(resources) if isinstance(resources, list) else resources
    if condition:
        doc["Condition"] = condition
    return doc


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def service_trust_policy(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """Trust policy for an AWS service principal with confused-deputy conditions."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy_document(
        [statement("ServiceAssumeRole", ["sts:AssumeRole"], None, principal={"Service": service}, condition=condition)]
    )
