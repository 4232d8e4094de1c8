"""Small building blocks the rules are written with.

Each helper reports at most one finding and knows the unknown-value semantics: ``require_present``
counts a value known later as present; ``require`` reports a value check that meets an unknown as
not evaluated instead of passing or failing it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlops_guard.model import Report, Resource
from mlops_guard.normalize import MISSING, as_bool, contains_unknown, is_present, is_unknown, lookup

AWS_MANAGED_KEY_PREFIX = "alias/aws/"

EXEMPTION_TAG = "mlops:guardrail-exemption"
EXEMPTION_VALUE = "platform-deploy"
"""The one documented way to exempt the platform's own deploy/bootstrap role from the
least-privilege document rules: this tag plus a permissions boundary on the role."""


def require_present(report: Report, res: Resource, path: str, what: str | None = None) -> bool:
    """Violation if ``path`` is absent or empty. Unknown counts as present. Returns presence."""
    if is_present(lookup(res.props, path)):
        return True
    report.violation(f"{res.name}: {what or path} is not set")
    return False


def require(
    report: Report,
    res: Resource,
    path: str,
    ok: Callable[[Any], bool],
    message: str,
    *,
    missing_ok: bool = False,
) -> bool | None:
    """Value check. True/False as checked, None when not evaluated (unknown)."""
    value = lookup(res.props, path)
    if contains_unknown(value):
        report.unknown(f"{res.name}: {path} is not known until apply")
        return None
    if value is MISSING or value is None:
        if missing_ok:
            return True
        report.violation(f"{res.name}: {message}")
        return False
    if ok(value):
        return True
    report.violation(f"{res.name}: {message} (found {value!r})")
    return False


def is_true(value: Any) -> bool:
    return as_bool(value) is True


def is_not_true(value: Any) -> bool:
    return as_bool(value) is not True


def require_true(report: Report, res: Resource, path: str, message: str | None = None) -> bool | None:
    return require(report, res, path, is_true, message or f"{path} must be true")


def require_not_true(report: Report, res: Resource, path: str, message: str | None = None) -> bool | None:
    return require(report, res, path, is_not_true, message or f"{path} must not be true", missing_ok=True)


def require_customer_key(report: Report, res: Resource, path: str, what: str | None = None) -> None:
    """A KMS key must be set and must not be an AWS managed key alias (``alias/aws/...``)."""
    value = lookup(res.props, path)
    if not require_present(report, res, path, what):
        return
    if isinstance(value, str) and not is_unknown(value) and AWS_MANAGED_KEY_PREFIX in value:
        report.violation(f"{res.name}: {what or path} uses the AWS managed key {value}; use a customer managed key")


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def tag_value(res: Resource, key: str) -> Any:
    return res.tags.get(key)


def is_exempt_platform_role(res: Resource) -> bool:
    """A role carrying the exemption tag AND a permissions boundary (both are required)."""
    if res.type != "aws:iam/role:Role" or tag_value(res, EXEMPTION_TAG) != EXEMPTION_VALUE:
        return False
    return is_present(lookup(res.props, "permissionsBoundary"))


def is_exempt_platform_policy(res: Resource) -> bool:
    """A customer managed policy tagged for the platform deploy role.

    Safe only together with the stack policy ``iam-exemption-requires-boundary`` which checks such
    a policy is attached to exempt, boundary-carrying roles only.
    """
    return res.type == "aws:iam/policy:Policy" and tag_value(res, EXEMPTION_TAG) == EXEMPTION_VALUE


def is_platform_deploy_identity(res: Resource) -> bool:
    """The platform deploy role (tag and boundary) or a managed policy tagged for it: what
    ``exempt_platform_deploy_role`` policies skip."""
    return is_exempt_platform_role(res) or is_exempt_platform_policy(res)
