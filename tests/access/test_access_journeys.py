"""The journeys file: its shape is checked before anything is evaluated; the committed one holds."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.access import evaluate, journeys
from mlops_platform.cli import app

GOOD_STEP = {"step": "s", "principal": {"role": "exp:r"}, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "expected": "Allowed"}
#: The four gaps the review found; each has its entry.
FOUR_GAPS = {
    "studio / the app's EBS volume needs a grant on the domain key for SageMaker",
    "studio / Studio tags the new space (tag propagation)",
    "model building product / the launch role reads the template copy in Service Catalog's own bucket",
    "session-tag injection / bob cannot add mlops:project as a session tag",
}


def _write(tmp_path: Path, step: dict) -> Path:
    path = tmp_path / "journeys.yaml"
    path.write_text(yaml.safe_dump({"journeys": [{"journey": "j", "steps": [step]}]}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expected": "Maybe"}, "expected must be Allowed or Denied"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"principal": {"role": "exp:r", "service": "s3.amazonaws.com"}}, "exactly one of"),
        ({"action": "GetObject"}, "is not service:Action"),
        ({"resource": None}, "missing 'resource'"),
    ],
)
def test_a_malformed_step_is_one_line_naming_it(tmp_path, change, message) -> None:
    step = {**copy.deepcopy(GOOD_STEP), **change}
    with pytest.raises(journeys.JourneyError, match=re.escape(message)):
        journeys.load(_write(tmp_path, step))


def test_a_step_named_twice_is_refused(tmp_path) -> None:
    path = tmp_path / "journeys.yaml"
    path.write_text(yaml.safe_dump({"journeys": [{"journey": "j", "steps": [GOOD_STEP, GOOD_STEP]}]}), encoding="utf-8")
    with pytest.raises(journeys.JourneyError, match="appears twice"):
        journeys.load(path)


def test_the_cli_reports_a_bad_journeys_file_in_one_line_with_exit_2(tmp_path) -> None:
    result = CliRunner().invoke(app, ["access", "--journeys", str(_write(tmp_path, {**GOOD_STEP, "expected": "Maybe"}))])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "expected must be" in result.output, result.output


def test_the_cli_refuses_an_unknown_format_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["access", "--format", "xml"])
    assert result.exit_code == 2 and "--format" in result.output, result.output


def test_every_step_of_the_committed_journeys_holds(committed_checks) -> None:
    failed = [f"{c.journey} / {c.step}: expected {c.expected}, engine says {c.result}: {c.reasons}" for c in committed_checks if not c.passed]
    assert not failed, "journey steps that do not hold:\n" + "\n".join(failed)


def test_the_four_reviewed_gaps_each_have_a_holding_entry(committed_checks) -> None:
    held = {f"{c.journey} / {c.step}" for c in committed_checks if c.passed}
    assert FOUR_GAPS <= held, f"missing or failing: {sorted(FOUR_GAPS - held)}"


def test_the_readme_states_the_count_of_each_journey(committed_journeys) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for step in committed_journeys.steps:
        counts[step.journey] = counts.get(step.journey, 0) + 1
    for journey, count in counts.items():
        assert f"| {journey} | {count} |" in readme, f"README's Access table must say '| {journey} | {count} |'"


def test_the_readme_block_is_the_one_the_journeys_file_gives(committed_journeys) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.partition(journeys.README_START)[2].partition(journeys.README_END)[0].strip()
    assert block == journeys.readme_block(committed_journeys.steps), "README's access-journeys block is stale: run `python -m mlops_platform.access.journeys`"


def test_every_step_the_engine_cannot_decide_alone_is_listed_in_the_readme(committed_journeys) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    others = [s for s in committed_journeys.steps if s.lake_formation or s.beyond_iam or s.aws_owned_resource_policy or s.action == "servicecatalog:ProvisionProduct"]
    missing = [s.label for s in others if f"- {s.label}: " not in readme]
    assert others and not missing, f"README must list how these steps are checked besides IAM: {missing}"


def _without_statement(model, role_arn: str, sid: str):
    mutated = copy.deepcopy(model)
    principal = mutated.principals[role_arn]
    for policy in principal.identity_policies:
        policy.document["Statement"] = [s for s in policy.document["Statement"] if s.get("Sid") != sid]
    return mutated


@pytest.mark.parametrize(
    ("role", "sid", "flipped"),
    [
        ("arn:aws:iam::{exp}:role/mlops-sc-launch", "ReadServiceCatalogTemplateCopy",
         {"model building product / the launch role reads the template copy in Service Catalog's own bucket"}),
        ("arn:aws:iam::{exp}:role/mlops-user-bob", "StudioDomainKeyGrantsForSageMaker",
         {"studio / the app's EBS volume needs a grant on the domain key for SageMaker",
          "studio / EC2 gets the grant for the space's EBS volume on the domain key"}),
        ("arn:aws:iam::{res}:role/mlops-model-trigger", "StartDeployPipelines",
         {"registry event to RES / the trigger starts the project's V2 deploy pipeline with the package ARN"}),
    ],
)
def test_removing_a_statement_a_journey_needs_flips_exactly_its_steps(platform_model, committed_journeys, settings, engine_run, role, sid, flipped) -> None:
    arn = role.format(exp=platform_model.accounts["exp"], res=platform_model.accounts["res"])
    mutated = _without_statement(platform_model, arn, sid)
    checks = evaluate.evaluate(committed_journeys.steps, mutated, settings, engine_run)
    failing = {f"{c.journey} / {c.step}" for c in checks if not c.passed}
    assert failing == flipped, f"without {sid} on {arn}: failing steps {sorted(failing)}, expected exactly {sorted(flipped)}"


def test_the_launch_needs_the_portfolio_association_of_the_launching_role(platform_model, committed_journeys, settings, engine_run) -> None:
    mutated = copy.deepcopy(platform_model)
    lead = f"arn:aws:iam::{platform_model.accounts['exp']}:role/mlops-persona-lead"
    for portfolio, associations in mutated.portfolio_principals.items():
        mutated.portfolio_principals[portfolio] = [a for a in associations if a[1] != lead]
    checks = evaluate.evaluate(committed_journeys.steps, mutated, settings, engine_run)
    failing = {f"{c.journey} / {c.step}" for c in checks if not c.passed}
    assert failing == {"model building product / alice launches the Model Building product"}, (
        f"without the lead persona's portfolio association: failing steps {sorted(failing)}"
    )


@pytest.mark.parametrize(
    ("kind", "associated", "caller", "expected"),
    [
        ("IAM", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a", True),
        ("IAM", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/ab", False),
        ("IAM_PATTERN", "arn:aws:iam:::role/mlops-persona-devops", "arn:aws:iam::3:role/mlops-persona-devops", True),
        ("IAM_PATTERN", "arn:aws:iam:::role/mlops-persona-devops", "arn:aws:iam::3:role/mlops-persona-lead", False),
        ("IAM_PATTERN", "arn:aws:iam:::role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_mlops-lead_*",
         "arn:aws:iam::3:role/aws-reserved/sso.amazonaws.com/eu-central-1/AWSReservedSSO_mlops-lead_0123", True),
    ],
)
def test_a_principal_association_matches_as_service_catalog_does(kind, associated, caller, expected) -> None:
    assert evaluate._associated(kind, associated, caller) is expected, f"{kind} {associated} vs {caller}: expected {expected}"
