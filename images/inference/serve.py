"""A minimal SageMaker hosting server for scikit-learn model archives (stdlib HTTP, no web framework).

SageMaker runs the container as ``<entrypoint> serve`` and talks to port 8080:

* ``GET /ping``: 200 once the model is loaded (SageMaker waits for it before taking traffic);
* ``POST /invocations``: the request body and ``Content-Type`` go through the handler's
  ``input_fn`` -> ``predict_fn`` -> ``output_fn``; the ``Accept`` header picks the output type.

The handler is the model archive's ``code/<SAGEMAKER_PROGRAM>`` (``SAGEMAKER_SUBMIT_DIRECTORY``,
default ``/opt/ml/model/code``), with the scikit-learn container's contract: ``model_fn(model_dir)``,
``input_fn(body, content_type)``, ``predict_fn(data, model)``, ``output_fn(prediction, accept)``
returning ``(body, content_type)`` or a body. Bad input is a 400 with a one-line message; anything
else a 500 (the traceback goes to the log, never to the caller).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

LOG = logging.getLogger("serve")
MODEL_DIR = "/opt/ml/model"
PORT = 8080
#: SageMaker's limit for a real-time request payload.
MAX_BODY_BYTES = 6 * 1024 * 1024


class BadRequest(Exception):
    """The caller's fault: 400."""


def load_handler(model_dir: str = MODEL_DIR, environ: dict[str, str] | None = None) -> ModuleType:
    """Import the archive's handler module named by ``SAGEMAKER_PROGRAM``."""
    env = os.environ if environ is None else environ
    code_dir = env.get("SAGEMAKER_SUBMIT_DIRECTORY", os.path.join(model_dir, "code"))
    program = env.get("SAGEMAKER_PROGRAM", "inference.py")
    path = os.path.join(code_dir, program)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"handler {path} not found (SAGEMAKER_PROGRAM / SAGEMAKER_SUBMIT_DIRECTORY)")
    spec = importlib.util.spec_from_file_location("model_handler", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, code_dir)
    spec.loader.exec_module(module)
    for name in ("model_fn", "input_fn", "predict_fn", "output_fn"):
        if not callable(getattr(module, name, None)):
            raise AttributeError(f"handler {path} has no {name}()")
    return module


class ModelService:
    """The loaded model and the handler's functions."""

    def __init__(self, handler: ModuleType, model_dir: str = MODEL_DIR) -> None:
        self.handler = handler
        self.model = handler.model_fn(model_dir)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        try:
            data = self.handler.input_fn(body, content_type)
            prediction = self.handler.predict_fn(data, self.model)
            result = self.handler.output_fn(prediction, accept)
        except ValueError as error:  # the handlers raise ValueError for unsupported or malformed input
            raise BadRequest(str(error).splitlines()[0] if str(error) else "invalid request") from error
        payload, out_type = result if isinstance(result, tuple) else (result, accept)
        return (payload.encode("utf-8") if isinstance(payload, str) else payload), out_type


def make_handler(service: ModelService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
            LOG.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/ping":
                self._send(200, b"")
            else:
                self._send(404, b"not found\n")

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/invocations":
                self._send(404, b"not found\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(413, b"payload larger than 6 MiB\n")
                return
            body = self.rfile.read(length)
            content_type = (self.headers.get("Content-Type") or "text/csv").split(";")[0].strip()
            accept = (self.headers.get("Accept") or "text/csv").split(",")[0].strip()
            try:
                payload, out_type = service.invoke(body, content_type, accept)
            except BadRequest as error:
                self._send(400, f"{error}\n".encode())
                return
            except Exception:  # noqa: BLE001 - any other failure is the model's, logged with its traceback
                LOG.exception("invocation failed")
                self._send(500, b"internal error\n")
                return
            self._send(200, payload, out_type)

    return Handler


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if argv[1:2] not in (["serve"], []):
        print(f"error: unknown command {argv[1]!r}; SageMaker runs 'serve'", file=sys.stderr)
        return 2
    service = ModelService(load_handler())
    server = ThreadingHTTPServer(("0.0.0.0", PORT), make_handler(service))  # noqa: S104 - the container's port
    LOG.info("serving on port %d", PORT)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
