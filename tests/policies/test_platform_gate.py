"""The platform's own stacks pass the pack, and every policy applies to something we test."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mlops_guard.engine import applicable_policies
from mlops_guard.registry import ALL_POLICIES
from mlops_platform.cli import app

from .conftest import CASES, GOLDEN, GOLDEN_STACK


def test_the_whole_platform_has_no_mandatory_violation(platform_plans, preview_plans) -> None:
    result = CliRunner().invoke(app, ["check", "--format", "json"])
    report = json.loads(result.stdout)
    mandatory = [f"{v['policy']} {v['urn']}: {v['message']}" for v in report["violations"] if v["enforcementLevel"] == "mandatory"]
    assert not mandatory, "\n".join(mandatory)
    assert result.exit_code == 0, result.stderr
    assert report["summary"]["resourcesEvaluated"] >= sum(len(p.resources) for p in platform_plans.values()) - len(platform_plans)


def test_preview_mode_never_passes_an_unknown_silently(preview_plans) -> None:
    """In preview, values computed by other resources are unknown: such checks are listed, not passed."""
    from mlops_guard.config import PackConfig
    from mlops_guard.engine import evaluate_stack
    from mlops_guard.inputs import from_records

    plan = next(iter(preview_plans.values()))
    result = evaluate_stack(from_records(plan.resources), PackConfig(), stack=plan.stack, project=plan.project)
    assert result.not_evaluated, f"{plan.stack}: preview mode reported nothing as not evaluated"


def test_every_policy_applies_to_a_fixture_or_an_own_stack_resource(platform_plans) -> None:
    types = set(GOLDEN) | {r["type"] for r in GOLDEN_STACK}
    types |= {t for case in CASES.values() for t in case.get("forbidden_types", [])}
    types |= {r.type for plan in platform_plans.values() for r in plan.resources}
    never = sorted({p.name for p in ALL_POLICIES} - applicable_policies(types))
    assert not never, f"policies that never apply to any fixture or own-stack resource: {never}"


def test_report_which_policies_the_own_stacks_exercise(platform_plans) -> None:
    """The own stacks alone must exercise the baseline's core controls."""
    applied = applicable_policies({r.type for plan in platform_plans.values() for r in plan.resources})
    core = {"s3-bucket-encrypted-with-kms", "vpc-has-flow-logs", "vpc-has-closed-default-security-group", "kms-key-rotation-enabled"}
    assert core <= applied, sorted(core - applied)
