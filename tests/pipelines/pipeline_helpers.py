"""Helpers for the pipeline tests: a valid spec for the seed project and definition navigation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_pipelines.sourcedir import package_seed_code
from mlops_pipelines.spec import PipelineSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = REPO_ROOT / "seed_code" / "predictive_maintenance"
SAMPLE_CSV = SEED_DIR / "data" / "welding_sensors.csv"

ACCOUNT = "111122223333"
REGION = "eu-central-1"
BUCKET = "mlops-exp-pm-artifacts"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops/pm-pipeline"
SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
SECURITY_GROUPS = ("sg-0123456789abcdef0",)
# Deliberately not the defaults, so a test can tell a spec value from a built-in one.
METRIC_THRESHOLD = 0.61
MARGIN = 0.27


def spec_fields(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a valid S3-input spec for the seed project, with `overrides` applied."""
    fields: dict[str, Any] = {
        "pipeline_name": "pm-model-build",
        "region": REGION,
        "role_arn": ROLE,
        "bucket": BUCKET,
        "kms_key_arn": KMS_KEY,
        "subnet_ids": SUBNETS,
        "security_group_ids": SECURITY_GROUPS,
        "model_package_group_name": "pm-models",
        "input_data_uri": f"s3://{BUCKET}/data/sample/welding_sensors.csv",
        "metric_threshold": METRIC_THRESHOLD,
        "min_margin_over_baseline": MARGIN,
        "tags": {"mlops:project": "pm"},
        **package_seed_code(SEED_DIR).spec_uris(BUCKET),
    }
    fields.update(overrides)
    return fields


def make_spec(**overrides: Any) -> PipelineSpec:
    return PipelineSpec(**spec_fields(**overrides))


ATHENA = {"database": "curated_rl", "query": "SELECT * FROM welding_sensors_curated", "work_group": "mlops-pm"}


def all_steps(steps: list[dict]) -> Iterator[dict]:
    """Every step, including those nested in condition branches."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from all_steps(step["Arguments"].get("IfSteps", []))
            yield from all_steps(step["Arguments"].get("ElseSteps", []))


def step_named(definition: dict, name: str) -> dict:
    matches = [step for step in all_steps(definition["Steps"]) if step["Name"] == name]
    assert len(matches) == 1, f"expected one step named {name}, found {len(matches)}"
    return matches[0]


class NetworkGuard:
    """Records and refuses every botocore request and socket connection."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> None:
        self.attempts.append(what)
        raise RuntimeError(f"network access while building the pipeline definition: {what}")


