"""Tests of the inference server, run inside the built image (and by tests/res on the host).

A tiny scikit-learn model is trained in a temp model dir with the seed project's handler, then the
server is started on a free port and called over HTTP.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import serve  # noqa: E402

HANDLER = '''
import io, json, os
import joblib, pandas as pd

def model_fn(model_dir):
    with open(os.path.join(model_dir, "metadata.json")) as f:
        meta = json.load(f)
    return {"model": joblib.load(os.path.join(model_dir, "model.joblib")), "metadata": meta}

def input_fn(body, content_type="text/csv"):
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    return pd.read_csv(io.StringIO(body.decode() if isinstance(body, bytes) else body), header=None)

def predict_fn(data, artifacts):
    features = artifacts["metadata"]["features"]
    if data.shape[1] != len(features):
        raise ValueError(f"expected {len(features)} columns, got {data.shape[1]}")
    p = artifacts["model"].predict_proba(data.set_axis(features, axis=1).astype(float))[:, 1]
    return pd.DataFrame({"p": p, "fault": (p >= artifacts["metadata"]["threshold"]).astype(int)})

def output_fn(prediction, accept="text/csv"):
    return prediction.to_csv(header=False, index=False, float_format="%.6f"), "text/csv"
'''


@pytest.fixture()
def model_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 2))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    import pandas as pd

    frame = pd.DataFrame(features, columns=["a", "b"])
    joblib.dump(LogisticRegression().fit(frame, labels), tmp_path / "model.joblib")
    (tmp_path / "metadata.json").write_text(json.dumps({"features": ["a", "b"], "threshold": 0.5}))
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(HANDLER)
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture()
def server(model_dir: Path):
    handler = serve.load_handler(str(model_dir), environ={})
    service = serve.ModelService(handler, str(model_dir))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), serve.make_handler(service))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read(), response.getheader("Content-Type")


def test_ping_answers_200(server) -> None:
    assert request(server, "GET", "/ping")[0] == 200


def test_invocation_returns_one_csv_row_per_input_row(server) -> None:
    status, body, content_type = request(server, "POST", "/invocations", b"2.0,2.0\n-2.0,-2.0\n", {"Content-Type": "text/csv"})
    assert status == 200 and content_type == "text/csv"
    rows = body.decode().strip().splitlines()
    assert [row.split(",")[1] for row in rows] == ["1", "0"], rows


def test_wrong_column_count_is_a_400_with_the_handlers_message(server) -> None:
    status, body, _ = request(server, "POST", "/invocations", b"1.0\n", {"Content-Type": "text/csv"})
    assert status == 400 and b"expected 2 columns" in body


def test_unsupported_content_type_is_a_400(server) -> None:
    status, body, _ = request(server, "POST", "/invocations", b"{}", {"Content-Type": "application/json"})
    assert status == 400 and b"unsupported content type" in body


def test_missing_handler_is_reported_by_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="inference.py"):
        serve.load_handler(str(tmp_path), environ={})
