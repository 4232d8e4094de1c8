"""Training step: a gradient-boosted fault classifier for welding-gun robots.

Runs in the SageMaker scikit-learn training image in script mode (`sagemaker_program=train.py`,
this file and `inference.py` come in `sourcedir.tar.gz`), or locally:

    python train.py --train /tmp/pm/train --validation /tmp/pm/validation --model-dir /tmp/pm/model

Defaults follow SageMaker's conventions (`SM_CHANNEL_TRAIN`, `SM_CHANNEL_VALIDATION`,
`SM_MODEL_DIR`); hyperparameters arrive as `--name value` arguments. The decision threshold is
chosen on the validation split: the highest recall whose precision is at least
--min-precision (fallback: best F1). The model directory gets `model.joblib`, `metadata.json`
(features, threshold, validation figures) and `code/inference.py`, so the serving container
finds its handler inside the model archive and needs no network (SAGEMAKER_SUBMIT_DIRECTORY
= /opt/ml/model/code).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, precision_recall_curve

LABEL_COLUMN = "fault"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class InputError(Exception):
    """The training input cannot be used; the message names the directory or column."""


def read_split(directory: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Read all CSV files in `directory`; return features and the label."""
    files = sorted(directory.glob("*.csv")) if directory.is_dir() else []
    if not files:
        raise InputError(f"no CSV files in {directory}")
    frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    if LABEL_COLUMN not in frame.columns:
        raise InputError(f"{directory}: no '{LABEL_COLUMN}' column")
    label = frame.pop(LABEL_COLUMN).astype(int)
    if label.nunique() < 2:
        raise InputError(f"{directory}: '{LABEL_COLUMN}' has a single class")
    return frame.astype(float), label


def choose_threshold(label: pd.Series, score: np.ndarray, min_precision: float) -> float:
    """Threshold with the highest recall at precision >= `min_precision`; else the best-F1 one."""
    precision, recall, thresholds = precision_recall_curve(label, score)
    # precision/recall have one more entry than thresholds (the point recall=0).
    precision, recall = precision[:-1], recall[:-1]
    eligible = np.flatnonzero(precision >= min_precision)
    if eligible.size:
        best = eligible[np.argmax(recall[eligible])]
    else:
        f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision), where=(precision + recall) > 0)
        best = int(np.argmax(f1))
    return float(thresholds[best])


def train(args: argparse.Namespace) -> dict:
    features, label = read_split(args.train)
    val_features, val_label = read_split(args.validation)
    if list(val_features.columns) != list(features.columns):
        raise InputError("train and validation splits have different columns")

    model = HistGradientBoostingClassifier(
        learning_rate=args.learning_rate,
        max_iter=args.max_iter,
        max_leaf_nodes=args.max_leaf_nodes,
        l2_regularization=args.l2_regularization,
        random_state=args.random_state,
    )
    model.fit(features, label)

    val_score = model.predict_proba(val_features)[:, 1]
    threshold = choose_threshold(val_label, val_score, args.min_precision)
    metadata = {
        "features": list(features.columns),
        "label": LABEL_COLUMN,
        "threshold": threshold,
        "min_precision": args.min_precision,
        "validation_pr_auc": float(average_precision_score(val_label, val_score)),
        "validation_prevalence": float(val_label.mean()),
    }
    args.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model_dir / MODEL_FILE)
    (args.model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    code_dir = args.model_dir / "code"
    code_dir.mkdir(exist_ok=True)
    shutil.copy2(Path(__file__).with_name("inference.py"), code_dir / "inference.py")
    return metadata


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the welding-gun fault classifier.")
    parser.add_argument("--train", type=Path, default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")))
    parser.add_argument(
        "--validation", type=Path, default=Path(os.environ.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    )
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--max-iter", type=int, default=150)
    parser.add_argument("--max-leaf-nodes", type=int, default=7)
    parser.add_argument("--l2-regularization", type=float, default=0.0)
    parser.add_argument("--min-precision", type=float, default=0.5)
    parser.add_argument("--random-state", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        metadata = train(args)
    except (InputError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"train: validation PR-AUC {metadata['validation_pr_auc']:.3f} "
        f"(prevalence {metadata['validation_prevalence']:.3f}), threshold {metadata['threshold']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
