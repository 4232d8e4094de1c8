"""The README gives a new user exactly two commands and quotes figures the code produces."""

from __future__ import annotations

import re

from mlops_core.paths import REPO_ROOT
from mlops_platform.costs import KEY_TYPE, README_END, README_START, readme_table


def test_readme_cost_table_matches_the_plans(platform_plans) -> None:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert section == readme_table(plans=platform_plans), "README cost table is stale: run `.venv/bin/python -m mlops_platform.costs`"


def test_the_cost_table_charges_every_planned_key(platform_plans) -> None:
    rows = {line.split("|")[1].strip(): line.split("|") for line in readme_table(plans=platform_plans).splitlines()[2:-1]}
    for stack, plan in platform_plans.items():
        keys = len(plan.of_type(KEY_TYPE))
        assert int(rows[stack][5]) == keys, f"cost table: {stack} plans {keys} KMS keys, the table charges {rows[stack][5]}"
    assert int(rows["exp"][5]) > 2, "exp plans more keys than the baseline's two"


def test_the_readme_promises_of_doctor_are_what_it_checks() -> None:
    from mlops_platform.commands import doctor

    readme = (REPO_ROOT / "README.md").read_text()
    sentence = next(s for s in re.split(r"(?<=\.)\s|;", readme.replace("\n", " ")) if "`mlops-platform doctor`" in s)
    checks = doctor.__doc__.split("Checks:", 1)[1].split("\n\n", 1)[0]
    assert "git connection" in checks and "Lake Formation shares" in checks, checks
    assert "connections" in sentence and "shares" in sentence and "HMAC" not in sentence, sentence


def test_the_hmac_key_check_is_documented() -> None:
    operations = (REPO_ROOT / "docs" / "operations.md").read_text()
    assert "aws secretsmanager describe-secret --secret-id <platform>/data/pseudonymisation-hmac-key" in operations


def test_the_manual_deploy_path_creates_stacks_with_their_secrets_provider() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    manual = readme.split("## Deploy for real", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"pulumi stack init \S+ --secrets-provider \"awskms://alias/<platformName>-pulumi-state", manual), manual


def test_docs_headings_name_no_internal_tracker_numbers() -> None:
    for page in [REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")]:
        headings = [line for line in page.read_text().splitlines() if line.startswith("#")]
        numbered = [h for h in headings if re.search(r"\b(issue|ticket)\s*#?\d+|#\d+\b", h, flags=re.I)]
        assert not numbered, f"{page.name}: headings with tracker numbers: {numbered}"


def test_readme_names_make_plan_and_make_test() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    assert "make plan" in text and "make test" in text


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
