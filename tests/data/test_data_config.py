"""The data set's curation schedule: validated in config, used by the scheduled trigger."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_core.config import ConfigError, load_organization
from mlops_platform.harness import plan_stack


def _set_schedule(root: Path, schedule: str) -> None:
    path = root / "organization.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["dataSets"][0]["curationSchedule"] = schedule
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.mark.parametrize("schedule", ["rate(1 day)", "0 3 * * ? *", "cron()"])
def test_a_non_cron_schedule_is_refused_in_one_line(repo_copy: Path, schedule: str) -> None:
    _set_schedule(repo_copy, schedule)
    with pytest.raises(ConfigError) as caught:
        load_organization(repo_copy)
    message = str(caught.value)
    assert "curationSchedule" in message and "\n" not in message, message


def test_the_scheduled_trigger_uses_the_configured_schedule(repo_copy: Path) -> None:
    _set_schedule(repo_copy, "cron(15 1 ? * MON-FRI *)")
    plan = plan_stack("data", root=repo_copy)
    schedules = [t.inputs["schedule"] for t in plan.of_type("aws:glue/trigger:Trigger") if t.inputs["type"] == "SCHEDULED"]
    assert schedules == ["cron(15 1 ? * MON-FRI *)"], schedules
