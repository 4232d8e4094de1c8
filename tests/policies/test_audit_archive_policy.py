"""audit-evidence-locked with a log-archive account: deliveries to the configured archive bucket are
accepted in the audited stacks, and the archive bucket itself is judged where it is declared.

Cases are data (fixtures/audit_archive.yaml), outcomes written there by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from mlops_guard.config import PackConfig, parse_pack_config
from mlops_guard.engine import check_stack
from mlops_guard.registry import BY_NAME
from mlops_platform.policy_config import generate_policy_config

from .conftest import PLATFORM_ACCOUNTS, load_yaml, make_pack_config, stack_resources

POLICY = BY_NAME["audit-evidence-locked"]
FIXTURE: dict[str, Any] = load_yaml("audit_archive.yaml")
STACKS = ("audited", "archive")
MUTATIONS = [(stack, index, case) for stack in STACKS for index, case in enumerate(FIXTURE[stack]["mutations"])]


def _config(with_archive: bool = True) -> PackConfig:
    if not with_archive:
        return make_pack_config()
    archive = (FIXTURE["logArchiveAccount"], FIXTURE["archiveBucket"], FIXTURE["configArchiveBucket"])
    return parse_pack_config(generate_policy_config("prod", PLATFORM_ACCOUNTS, "eu-central-1", log_archive=archive), "test config")


def _check(stack: str, case: dict[str, Any] | None = None, config: PackConfig | None = None):
    resources = stack_resources(case, golden=FIXTURE[stack]["golden"])
    return check_stack(POLICY, resources, config or _config())


@pytest.mark.parametrize("stack", STACKS)
def test_golden_stack_passes_with_a_log_archive(stack: str) -> None:
    report = _check(stack)
    assert not report.violations and not report.not_evaluated, f"{stack}: {report.violations} {report.not_evaluated}"


@pytest.mark.parametrize(("stack", "index", "case"), MUTATIONS, ids=[f"{s}#{i}" for s, i, _ in MUTATIONS])
def test_mutation_outcome(stack: str, index: int, case: dict[str, Any]) -> None:
    report = _check(stack, case)
    if case["expect"] == "violation":
        assert report.violations, f"audit-evidence-locked misses {stack} mutation {index}: {case}"
    elif case["expect"] == "not_evaluated":
        assert report.not_evaluated and not report.violations, f"audit-evidence-locked: {stack} mutation {index} must be not evaluated"
    else:
        assert not report.violations and not report.not_evaluated, f"audit-evidence-locked: {stack} mutation {index} must pass"


def test_delivery_to_the_archive_is_not_evaluated_without_the_config_value() -> None:
    report = _check("audited", config=_config(with_archive=False))
    assert len(report.not_evaluated) == 2 and not report.violations, report.not_evaluated


def test_the_archive_bucket_is_not_judged_without_the_config_value() -> None:
    report = _check("archive", {"remove": ["archive-object-lock"]}, config=_config(with_archive=False))
    assert not report.violations, "without auditArchiveBucket no bucket of a stack without trail is evidence"


def test_policy_config_names_the_archive_bucket_only_with_a_log_archive() -> None:
    with_archive = generate_policy_config("dev", PLATFORM_ACCOUNTS, "eu-central-1", log_archive=("777777777777", "b"))
    without = generate_policy_config("dev", PLATFORM_ACCOUNTS, "eu-central-1")
    assert with_archive["audit-evidence-locked"]["auditArchiveBucket"] == "b", with_archive["audit-evidence-locked"]
    assert "auditArchiveBucket" not in without.get("audit-evidence-locked", {}), without.get("audit-evidence-locked")


def test_the_log_archive_account_is_a_platform_account_but_no_image_registry() -> None:
    document = generate_policy_config("log-archive", PLATFORM_ACCOUNTS, "eu-central-1", log_archive=("777777777777", "b"))
    entries = [entry for entry in document.values() if isinstance(entry, dict)]
    assert any("777777777777" in entry.get("platformAccountIds", []) for entry in entries), "log-archive account not allow-listed"
    registries = [r for entry in entries for r in entry.get("approvedImageRegistries", [])]
    assert not [r for r in registries if r.startswith("777777777777.")], registries
