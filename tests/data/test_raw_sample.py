"""The committed raw sample is the script's output, carries every configured column, and is stable."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from mlops_core.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "etl" / "make_raw_sample.py"
SEED = REPO_ROOT / "seed_code" / "predictive_maintenance" / "data" / "welding_sensors.csv"
COMMITTED = REPO_ROOT / "etl" / "sample" / "welding_sensors_raw.csv"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_committed_sample_is_up_to_date(tmp_path: Path) -> None:
    target = tmp_path / "raw.csv"
    assert run(str(SEED), str(target)).returncode == 0
    assert target.read_bytes() == COMMITTED.read_bytes(), "rerun etl/make_raw_sample.py and commit the CSV"


def test_sample_header_matches_the_configured_columns(org) -> None:
    (data_set,) = [d for d in org.data_sets if d.sample_data and d.sample_data.endswith("welding_sensors_raw.csv")]
    header = COMMITTED.read_text().splitlines()[0].split(",")
    assert header == [c.name for c in data_set.columns], header


def test_sample_keeps_every_seed_row_and_value() -> None:
    seed = list(csv.DictReader(io.StringIO(SEED.read_text())))
    raw = list(csv.DictReader(io.StringIO(COMMITTED.read_text())))
    assert len(raw) == len(seed)
    assert all({k: r[k] for k in s} == s for s, r in zip(seed, raw)), "a seed value changed"


def test_pii_columns_are_filled_and_plants_include_the_row_filter_value() -> None:
    raw = list(csv.DictReader(io.StringIO(COMMITTED.read_text())))
    assert all(r["plant"] and r["worker_id"] and r["operator_name"] for r in raw), "empty PII value"
    assert "wolfsburg" in {r["plant"] for r in raw}, "the row filter plant = 'wolfsburg' would match nothing"


def test_a_robot_stays_in_one_plant() -> None:
    plants: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(COMMITTED.read_text())):
        plants.setdefault(row["robot_id"], set()).add(row["plant"])
    assert all(len(p) == 1 for p in plants.values()), plants


def test_bad_source_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    for source in (tmp_path / "missing.csv", bad):
        result = run(str(source), str(tmp_path / "out.csv"))
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
