"""The seed project's scripts, run as scripts end to end on the committed sample data.

Covers: the generator reproduces the committed CSV; preprocess -> train -> evaluate with the
SageMaker-style directory layout; the metric and its margin over the trivial baseline, with the
baseline recomputed here from the test split; evaluation from a `model.tar.gz` as the pipeline
passes it; the serving handler; Athena-style JSON-lines input; one-line errors on bad input; and
that the scripts import only what the scikit-learn image ships. Not covered: the real SageMaker
containers (no AWS here).
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from pipeline_helpers import SAMPLE_CSV, SEED_DIR

# Success criterion stated in the seed README: test PR-AUC >= 0.5 and >= 0.3 above the trivial baseline.
MIN_PR_AUC = 0.5
MIN_MARGIN = 0.3
SCRIPTS = ("generate_data.py", "preprocess.py", "train.py", "inference.py", "evaluate.py")
# What the SageMaker scikit-learn image provides besides the standard library.
IMAGE_PACKAGES = {"numpy", "pandas", "sklearn", "joblib", "scipy"}


def run_script(name: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SEED_DIR / name), *map(str, args)], capture_output=True, text=True, timeout=120
    )


def run_ok(name: str, *args: str | Path) -> str:
    result = run_script(name, *args)
    assert result.returncode == 0, f"{name} failed ({result.returncode}): {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """preprocess -> train -> evaluate on the committed sample, in SageMaker's directory layout."""
    root = tmp_path_factory.mktemp("seed")
    raw = root / "input" / "data"
    raw.mkdir(parents=True)
    (raw / SAMPLE_CSV.name).write_bytes(SAMPLE_CSV.read_bytes())
    run_ok("preprocess.py", "--input-dir", raw, "--output-dir", root)
    run_ok("train.py", "--train", root / "train", "--validation", root / "validation", "--model-dir", root / "model")
    run_ok("evaluate.py", "--model-dir", root / "model", "--test-dir", root / "test", "--output-dir", root / "evaluation")
    return root


@pytest.fixture(scope="module")
def report(workdir: Path) -> dict:
    return json.loads((workdir / "evaluation" / "evaluation.json").read_text())


@pytest.fixture(scope="module")
def test_split(workdir: Path) -> pd.DataFrame:
    return pd.read_csv(workdir / "test" / "test.csv")


def test_generator_reproduces_the_committed_sample_byte_for_byte(tmp_path: Path):
    out = tmp_path / "sample.csv"
    run_ok("generate_data.py", "--output", out)
    assert out.read_bytes() == SAMPLE_CSV.read_bytes(), "generate_data.py no longer reproduces data/welding_sensors.csv"


def test_sample_is_small_imbalanced_and_noisy():
    sample = pd.read_csv(SAMPLE_CSV)
    assert SAMPLE_CSV.stat().st_size < 300_000, "the committed sample should stay below 300 KB"
    assert 0.05 <= sample["fault"].mean() <= 0.10, f"fault rate {sample['fault'].mean():.3f} outside 5-10 %"
    assert sample.isna().any().any(), "the sample should contain missing sensor readings"
    for column in ("weld_current_ka", "weld_voltage_v", "electrode_temp_c", "transformer_temp_c", "cycle_count",
                   "electrode_tip_wear_mm", "cooling_water_flow_lpm"):
        assert column in sample.columns, f"sensor column {column} missing"


def test_preprocess_writes_stratified_splits_and_a_label_free_baseline(workdir: Path):
    sample = pd.read_csv(SAMPLE_CSV)
    splits = {name: pd.read_csv(workdir / name / f"{name}.csv") for name in ("train", "validation", "test")}
    assert sum(len(part) for part in splits.values()) == len(sample.drop_duplicates())
    for name, part in splits.items():
        assert abs(part["fault"].mean() - sample["fault"].mean()) < 0.01, f"{name} split is not stratified"
    baseline = pd.read_csv(workdir / "baseline" / "baseline.csv")
    assert "fault" not in baseline.columns, "the data-quality baseline must not contain the label"
    assert len(baseline) == len(splits["train"])


def test_pr_auc_meets_the_stated_minimum(report: dict):
    pr_auc = report["binary_classification_metrics"]["pr_auc"]["value"]
    assert pr_auc >= MIN_PR_AUC, f"test PR-AUC {pr_auc:.3f} < {MIN_PR_AUC}"


def test_trivial_baseline_pr_auc_is_the_test_fault_rate(report: dict, test_split: pd.DataFrame):
    assert report["trivial_baseline"]["pr_auc"] == pytest.approx(test_split["fault"].mean())


def test_pr_auc_margin_over_the_trivial_baseline(report: dict, test_split: pd.DataFrame):
    margin = report["binary_classification_metrics"]["pr_auc"]["value"] - test_split["fault"].mean()
    assert margin >= MIN_MARGIN, f"PR-AUC margin over the fault rate {margin:.3f} < {MIN_MARGIN}"
    assert report["margin_over_baseline"]["pr_auc"] == pytest.approx(margin)


def test_f1_and_recall_at_precision_beat_their_trivial_baselines(report: dict, test_split: pd.DataFrame):
    rate = test_split["fault"].mean()
    always_fault_f1 = 2 * rate / (1 + rate)
    metrics = report["binary_classification_metrics"]
    assert report["trivial_baseline"]["f1"] == pytest.approx(always_fault_f1)
    assert metrics["f1"]["value"] > always_fault_f1 + 0.2
    # A constant score has precision = fault rate < 0.5, so its recall at precision >= 0.5 is 0.
    assert report["trivial_baseline"]["recall_at_min_precision"] == 0.0
    assert metrics["recall_at_min_precision"]["value"] >= 0.3


def test_evaluate_reads_the_model_archive_as_the_pipeline_passes_it(workdir: Path, report: dict, tmp_path: Path):
    archive_dir = tmp_path / "model"
    archive_dir.mkdir()
    with tarfile.open(archive_dir / "model.tar.gz", "w:gz") as tar:
        for path in sorted((workdir / "model").rglob("*")):
            tar.add(path, arcname=str(path.relative_to(workdir / "model")), recursive=False)
    run_ok("evaluate.py", "--model-dir", archive_dir, "--test-dir", workdir / "test", "--output-dir", tmp_path / "out")
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text()) == report


def test_training_puts_the_serving_handler_into_the_model_directory(workdir: Path):
    assert (workdir / "model" / "code" / "inference.py").read_bytes() == (SEED_DIR / "inference.py").read_bytes()


def test_serving_handler_scores_csv_rows_with_the_training_threshold(workdir: Path, test_split: pd.DataFrame):
    module_spec = importlib.util.spec_from_file_location("seed_inference", SEED_DIR / "inference.py")
    inference = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(inference)
    artifacts = inference.model_fn(str(workdir / "model"))
    rows = test_split.drop(columns="fault").head(20)
    body = rows.to_csv(header=False, index=False)
    response, content_type = inference.output_fn(inference.predict_fn(inference.input_fn(body, "text/csv"), artifacts), "text/csv")
    scored = pd.read_csv(io.StringIO(response), header=None, names=["probability", "fault"])
    assert content_type == "text/csv" and len(scored) == 20
    assert scored["probability"].between(0, 1).all()
    threshold = artifacts["metadata"]["threshold"]
    assert ((scored["probability"] >= threshold).astype(int) == scored["fault"]).all()


def test_preprocess_reads_gzipped_json_lines_like_csv(workdir: Path, tmp_path: Path):
    # The Athena DatasetDefinition delivers JSON lines (gzip); the split must not depend on the format.
    raw = tmp_path / "athena"
    raw.mkdir()
    lines = pd.read_csv(SAMPLE_CSV).to_json(orient="records", lines=True)
    (raw / "part-0000").write_bytes(gzip.compress(lines.encode()))
    run_ok("preprocess.py", "--input-dir", raw, "--output-dir", tmp_path / "out")
    from_json = pd.read_csv(tmp_path / "out" / "train" / "train.csv")
    from_csv = pd.read_csv(workdir / "train" / "train.csv")
    pd.testing.assert_frame_equal(from_json, from_csv)


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("preprocess.py", ["--input-dir", "{missing}", "--output-dir", "{tmp}"], "does not exist"),
        ("preprocess.py", ["--input-dir", "{no_label}", "--output-dir", "{tmp}"], "lacks column(s): fault"),
        ("train.py", ["--train", "{missing}", "--validation", "{missing}", "--model-dir", "{tmp}"], "no CSV files"),
        ("evaluate.py", ["--model-dir", "{missing}", "--test-dir", "{missing}", "--output-dir", "{tmp}"], "neither model.tar.gz"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(script: str, args: list[str], expected: str, tmp_path: Path):
    no_label = tmp_path / "no_label"
    no_label.mkdir()
    pd.read_csv(SAMPLE_CSV).drop(columns="fault").to_csv(no_label / "data.csv", index=False)
    values = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path / "out"), "no_label": str(no_label)}
    result = run_script(script, *[arg.format(**values) for arg in args])
    assert result.returncode == 2, f"{script}: exit {result.returncode}, stderr {result.stderr!r}"
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), f"{script}: {result.stderr!r}"
    assert expected in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_import_only_what_the_sklearn_image_ships(script: str):
    tree = ast.parse((SEED_DIR / script).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.partition(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert third_party <= IMAGE_PACKAGES, f"{script} imports {sorted(third_party - IMAGE_PACKAGES)}, which isolated jobs cannot install"
