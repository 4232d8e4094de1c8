"""Evaluation step: score the trained model on the held-out test split and write evaluation.json.

Runs as a SageMaker Processing job (scikit-learn image, network-isolated) or locally:

    python evaluate.py --model-dir /tmp/pm/model --test-dir /tmp/pm/test --output-dir /tmp/pm/evaluation

--model-dir holds the training job's `model.tar.gz` (pipeline) or its unpacked files (local).
The success metric is PR-AUC (average precision) of the fault class: unlike accuracy it cannot
be gamed by always predicting "no fault", whose PR-AUC equals the fault rate. The report also
has F1 and precision/recall at the threshold chosen on validation data, the best recall at
precision >= --min-precision, the same figures for the trivial baselines (constant score;
always "fault" for F1) and the margins over them. The pipeline's condition step reads
`binary_classification_metrics.pr_auc.value` and `margin_over_baseline.pr_auc`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, precision_score, recall_score

LABEL_COLUMN = "fault"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
REPORT_FILE = "evaluation.json"


class InputError(Exception):
    """The evaluation input cannot be used; the message names the file or directory."""


def recall_at_precision(label: np.ndarray, score: np.ndarray, min_precision: float) -> float:
    """Best recall over all thresholds whose precision is at least `min_precision` (0 if none)."""
    precision, recall, _ = precision_recall_curve(label, score)
    eligible = (precision >= min_precision) & (recall > 0)
    return float(recall[eligible].max()) if eligible.any() else 0.0


def load_model(model_dir: Path, scratch: Path) -> tuple[object, dict]:
    archive = model_dir / "model.tar.gz"
    if archive.is_file():
        # The "data" filter refuses absolute paths and links out of the target (Python >= 3.9.17).
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, **safe)
        model_dir = scratch
    if not (model_dir / MODEL_FILE).is_file() or not (model_dir / METADATA_FILE).is_file():
        raise InputError(f"{model_dir} has neither model.tar.gz nor {MODEL_FILE} and {METADATA_FILE}")
    metadata = json.loads((model_dir / METADATA_FILE).read_text(encoding="utf-8"))
    return joblib.load(model_dir / MODEL_FILE), metadata


def read_test(test_dir: Path, features: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    files = sorted(test_dir.glob("*.csv")) if test_dir.is_dir() else []
    if not files:
        raise InputError(f"no CSV files in {test_dir}")
    frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    missing = [column for column in (LABEL_COLUMN, *features) if column not in frame.columns]
    if missing:
        raise InputError(f"{test_dir}: missing column(s) {', '.join(missing)}")
    label = frame[LABEL_COLUMN].astype(int).to_numpy()
    if len(np.unique(label)) < 2:
        raise InputError(f"{test_dir}: the test split has a single class")
    return frame[features].astype(float), label


def evaluate(model, metadata: dict, features: pd.DataFrame, label: np.ndarray, min_precision: float) -> dict:
    score = model.predict_proba(features)[:, 1]
    predicted = (score >= metadata["threshold"]).astype(int)
    constant = np.zeros_like(score)
    always_fault = np.ones_like(label)

    model_figures = {
        "pr_auc": float(average_precision_score(label, score)),
        "f1": float(f1_score(label, predicted, zero_division=0)),
        "precision": float(precision_score(label, predicted, zero_division=0)),
        "recall": float(recall_score(label, predicted, zero_division=0)),
        "recall_at_min_precision": recall_at_precision(label, score, min_precision),
    }
    baseline = {
        "pr_auc": float(average_precision_score(label, constant)),
        "f1": float(f1_score(label, always_fault, zero_division=0)),
        "recall_at_min_precision": recall_at_precision(label, constant, min_precision),
    }
    return {
        "binary_classification_metrics": {
            name: {"value": value, "standard_deviation": "NaN"} for name, value in model_figures.items()
        },
        "trivial_baseline": {
            **baseline,
            "strategy": "constant score (PR-AUC, recall at min precision); always 'fault' (F1)",
        },
        "margin_over_baseline": {name: model_figures[name] - baseline[name] for name in baseline},
        "threshold": float(metadata["threshold"]),
        "min_precision": min_precision,
        "test_rows": int(len(label)),
        "test_positives": int(label.sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the welding-gun fault classifier.")
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--min-precision", type=float, default=0.5)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            model, metadata = load_model(args.model_dir, Path(scratch))
            features, label = read_test(args.test_dir, metadata["features"])
            report = evaluate(model, metadata, features, label, args.min_precision)
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    except (InputError, OSError, ValueError, KeyError, tarfile.TarError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    metrics = report["binary_classification_metrics"]
    print(
        f"evaluate: PR-AUC {metrics['pr_auc']['value']:.3f} vs trivial {report['trivial_baseline']['pr_auc']:.3f} "
        f"(margin {report['margin_over_baseline']['pr_auc']:.3f}), F1 {metrics['f1']['value']:.3f}, "
        f"recall at precision>={args.min_precision} {metrics['recall_at_min_precision']['value']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
