"""Serving handler for the SageMaker scikit-learn inference container.

`train.py` copies this file into the model archive (`code/inference.py`); the registered model
sets SAGEMAKER_PROGRAM=inference.py and SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code, so a
network-isolated endpoint loads it from the archive. Requests are CSV rows of the feature
columns in training order (no header, no label); responses are CSV rows
`fault_probability,fault` using the threshold chosen at training time.
"""

from __future__ import annotations

import io
import json
import os

import joblib
import pandas as pd

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
CSV = "text/csv"


def model_fn(model_dir: str) -> dict:
    with open(os.path.join(model_dir, METADATA_FILE), encoding="utf-8") as handle:
        metadata = json.load(handle)
    return {"model": joblib.load(os.path.join(model_dir, MODEL_FILE)), "metadata": metadata}


def input_fn(request_body, content_type: str = CSV) -> pd.DataFrame:
    if content_type != CSV:
        raise ValueError(f"unsupported content type {content_type!r}; send {CSV}")
    if isinstance(request_body, bytes):
        request_body = request_body.decode("utf-8")
    return pd.read_csv(io.StringIO(request_body), header=None)


def predict_fn(data: pd.DataFrame, artifacts: dict) -> pd.DataFrame:
    features = artifacts["metadata"]["features"]
    if data.shape[1] != len(features):
        raise ValueError(f"expected {len(features)} columns ({', '.join(features)}), got {data.shape[1]}")
    data = data.set_axis(features, axis=1).astype(float)
    probability = artifacts["model"].predict_proba(data)[:, 1]
    return pd.DataFrame(
        {"fault_probability": probability, "fault": (probability >= artifacts["metadata"]["threshold"]).astype(int)}
    )


def output_fn(prediction: pd.DataFrame, accept: str = CSV):
    if accept not in (CSV, "*/*"):
        raise ValueError(f"unsupported accept type {accept!r}; accept {CSV}")
    return prediction.to_csv(header=False, index=False, float_format="%.6f"), CSV
