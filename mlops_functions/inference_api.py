"""Inference API Lambda: a private REST API (proxy integration) in front of one SageMaker endpoint.

A caller POSTs a CSV or JSON payload to the private API (IAM authorization); this function forwards it
to ``sagemaker-runtime:InvokeEndpoint`` through the VPC's ``sagemaker.runtime`` interface endpoint and
returns the model's answer unchanged.

Packaging and wiring (for the serving stack):
    Handler:   ``inference_api.handler`` (this file alone at the zip root; stdlib + boto3 only).
    Runtime:   python3.11 or later; timeout 29 s at most (API Gateway's integration timeout), e.g. 28.
    Env vars:  ``ENDPOINT_NAME`` (required): the endpoint to invoke.
               ``INVOKE_TIMEOUT_SECONDS`` (optional, default 25): read timeout of the InvokeEndpoint
               call, kept below API Gateway's 29 s so the caller gets our 504, not a gateway error.
    IAM:       ``sagemaker:InvokeEndpoint`` on
               ``arn:aws:sagemaker:<region>:<account>:endpoint/<ENDPOINT_NAME>`` (lower-case, as
               SageMaker writes endpoint ARNs); logs and VPC-Lambda ENI actions as usual; ``kms:Decrypt``
               on the key that encrypts its environment.
    Integration: API Gateway REST API, ``AWS_PROXY`` integration (payload format 1.0), method ``POST``.

Request contract
    - ``POST`` only (else 405).
    - ``Content-Type``: ``text/csv`` or ``application/json`` (parameters such as ``charset`` are
      allowed and dropped), else 415. The body must be UTF-8; a JSON body must parse (else 400).
    - ``Accept`` (optional): ``text/csv``, ``application/json`` or ``*/*``; anything else is 406.
    - Body: required (else 400); base64 bodies (``isBase64Encoded``) are decoded first (bad base64 is
      400). At most 6,291,456 bytes after decoding (else 413): InvokeEndpoint's limit. A synchronous
      Lambda request is limited to the same number of bytes for the *whole event*, so a body close to
      the limit is refused by Lambda before this code runs (API Gateway then answers with its own
      5xx); this check makes the documented limit explicit for every body that does arrive.

Error contract
    Every error is JSON ``{"error": {"code", "message", "requestId"}}`` with the API Gateway request
    id (also in the ``X-Request-Id`` header), never a stack trace or a service message that could carry
    the account, the endpoint's internals or the model container's output. Details are logged here.

    ==============================  ======  ==========================================================
    InvokeEndpoint error            status  why
    ==============================  ======  ==========================================================
    ValidationError                 400     the service rejected the input
    ModelError                      424     the model container failed on this input. 424 (Failed
                                            Dependency, SageMaker's own status for it) keeps it
                                            apart from 502, which API Gateway itself returns when
                                            this Lambda fails; the container's status code is
                                            returned as ``modelStatusCode``, its message is not.
    ThrottlingException             429     with ``Retry-After``
    ModelNotReadyException          503     model still loading; with ``Retry-After``
    ServiceUnavailable              503     with ``Retry-After``
    InternalFailure                 500
    InternalDependencyException     502
    read/connect timeout            504
    anything else                   500     (e.g. AccessDenied: a deployment error, logged)
    ==============================  ======  ==========================================================
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

MAX_PAYLOAD_BYTES = 6_291_456
ALLOWED_CONTENT_TYPES = ("text/csv", "application/json")
DEFAULT_INVOKE_TIMEOUT_SECONDS = 25.0

# InvokeEndpoint error code -> (HTTP status, our error code, message for the caller, Retry-After seconds)
_ENDPOINT_ERRORS: dict[str, tuple[int, str, str, int | None]] = {
    "ValidationError": (400, "InvalidRequest", "The endpoint rejected the request as invalid.", None),
    "ModelError": (424, "ModelError", "The model could not process the request.", None),
    "ThrottlingException": (429, "Throttled", "Too many requests; retry later.", 1),
    "ModelNotReadyException": (503, "ModelNotReady", "The model is not ready yet; retry later.", 5),
    "ServiceUnavailable": (503, "ServiceUnavailable", "The inference service is unavailable; retry later.", 5),
    "InternalFailure": (500, "InternalError", "The inference service failed.", None),
    "InternalDependencyException": (502, "UpstreamError", "A service the endpoint depends on failed.", None),
}


class RequestError(Exception):
    """A request this API refuses before calling the endpoint (always a 4xx)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _media_type(header_value: str) -> str:
    return header_value.split(";", 1)[0].strip().lower()


def _headers(event: dict[str, Any]) -> dict[str, str]:
    """Request headers with lower-case names (REST API proxy events keep the caller's spelling)."""
    return {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}


def _choose_accept(accept_header: str | None) -> str | None:
    """The response type to ask the model for, or None to let the model choose."""
    if not accept_header:
        return None
    offered = [_media_type(part) for part in accept_header.split(",") if part.strip()]
    for media_type in offered:
        if media_type in ALLOWED_CONTENT_TYPES:
            return media_type
    if any(media_type in ("*/*", "text/*", "application/*") for media_type in offered):
        return None
    raise RequestError(
        406, "NotAcceptable", f"Accept must include one of {', '.join(ALLOWED_CONTENT_TYPES)}."
    )


def parse_request(event: dict[str, Any]) -> tuple[bytes, str, str | None]:
    """Validate an API Gateway proxy event; return ``(body, content_type, accept)`` for InvokeEndpoint."""
    method = (event.get("httpMethod") or "").upper()
    if method != "POST":
        raise RequestError(405, "MethodNotAllowed", "Only POST is supported.", {"Allow": "POST"})

    headers = _headers(event)
    content_type = _media_type(headers.get("content-type", ""))
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise RequestError(
            415, "UnsupportedMediaType", f"Content-Type must be one of {', '.join(ALLOWED_CONTENT_TYPES)}."
        )
    accept = _choose_accept(headers.get("accept"))

    raw = event.get("body")
    if raw is None or raw == "":
        raise RequestError(400, "EmptyBody", "The request body is empty.")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(400, "InvalidBody", "The request body is not valid base64.") from None
    else:
        body = raw.encode("utf-8")
    if not body:
        raise RequestError(400, "EmptyBody", "The request body is empty.")
    if len(body) > MAX_PAYLOAD_BYTES:
        raise RequestError(
            413, "PayloadTooLarge", f"The request body exceeds {MAX_PAYLOAD_BYTES} bytes."
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "InvalidBody", "The request body is not UTF-8 text.") from None
    if content_type == "application/json":
        try:
            json.loads(text)
        except ValueError:
            raise RequestError(400, "InvalidBody", "The request body is not valid JSON.") from None
    return body, content_type, accept


def _response(status: int, body: str, headers: dict[str, str], *, base64_encoded: bool = False) -> dict[str, Any]:
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": base64_encoded}


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON error for the caller: code, message and request id only."""
    error: dict[str, Any] = {"code": code, "message": message, "requestId": request_id}
    error.update(extra or {})
    all_headers = {"Content-Type": "application/json", "X-Request-Id": request_id, **(headers or {})}
    return _response(status, json.dumps({"error": error}), all_headers)


def _request_id(event: dict[str, Any], context: Any) -> str:
    request_context = event.get("requestContext") or {}
    return str(request_context.get("requestId") or getattr(context, "aws_request_id", None) or "unknown")


def _log(level: int, message: str, **fields: Any) -> None:
    LOG.log(level, json.dumps({"message": message, **fields}, default=str))


def _endpoint_error_response(error: ClientError, request_id: str, endpoint_name: str) -> dict[str, Any]:
    code = error.response.get("Error", {}).get("Code", "Unknown")
    status, our_code, message, retry_after = _ENDPOINT_ERRORS.get(
        code, (500, "InternalError", "The request could not be completed.", None)
    )
    extra: dict[str, Any] = {}
    if code == "ModelError":
        # Modelled members of the error (rest-json) are parsed next to "Error"; older shapes put them inside.
        original = error.response.get("OriginalStatusCode", error.response.get("Error", {}).get("OriginalStatusCode"))
        if isinstance(original, int) or (isinstance(original, str) and original.isdigit()):
            extra["modelStatusCode"] = int(original)
    _log(
        logging.ERROR if status >= 500 or code == "ModelError" else logging.WARNING,
        "InvokeEndpoint failed",
        requestId=request_id,
        endpointName=endpoint_name,
        errorCode=code,
        errorMessage=error.response.get("Error", {}).get("Message"),
        originalMessage=error.response.get("OriginalMessage"),
        logStreamArn=error.response.get("LogStreamArn"),
        status=status,
    )
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return error_response(status, our_code, message, request_id, headers=headers, extra=extra)


def invoke(
    event: dict[str, Any],
    context: Any,
    *,
    runtime: Any,
    endpoint_name: str,
) -> dict[str, Any]:
    """Handle one API Gateway proxy event with the given ``sagemaker-runtime`` client."""
    request_id = _request_id(event, context)
    try:
        body, content_type, accept = parse_request(event)
    except RequestError as refused:
        _log(logging.WARNING, "request refused", requestId=request_id, status=refused.status, code=refused.code)
        return error_response(refused.status, refused.code, refused.message, request_id, headers=refused.headers)

    params: dict[str, Any] = {"EndpointName": endpoint_name, "Body": body, "ContentType": content_type}
    if accept:
        params["Accept"] = accept
    try:
        result = runtime.invoke_endpoint(**params)
        payload: bytes = result["Body"].read()
    except ClientError as error:
        return _endpoint_error_response(error, request_id, endpoint_name)
    except (ReadTimeoutError, ConnectTimeoutError):
        _log(logging.ERROR, "InvokeEndpoint timed out", requestId=request_id, endpointName=endpoint_name)
        return error_response(504, "Timeout", "The model did not answer in time.", request_id)

    headers = {
        "Content-Type": result.get("ContentType") or accept or content_type,
        "X-Request-Id": request_id,
    }
    if result.get("InvokedProductionVariant"):
        headers["X-Invoked-Production-Variant"] = result["InvokedProductionVariant"]
    try:
        response = _response(200, payload.decode("utf-8"), headers)
    except UnicodeDecodeError:
        response = _response(200, base64.b64encode(payload).decode("ascii"), headers, base64_encoded=True)
    # The synchronous Lambda response has the same 6,291,456-byte limit; exceeding it would turn into
    # an opaque gateway error, so answer with a clear one instead.
    if len(json.dumps(response).encode("utf-8")) > MAX_PAYLOAD_BYTES:
        _log(logging.ERROR, "model response too large", requestId=request_id, bytes=len(payload))
        return error_response(502, "ResponseTooLarge", "The model's response is too large for this API.", request_id)
    _log(
        logging.INFO,
        "inference served",
        requestId=request_id,
        endpointName=endpoint_name,
        variant=result.get("InvokedProductionVariant"),
        requestBytes=len(body),
        responseBytes=len(payload),
    )
    return response


_RUNTIME_CLIENT: Any = None


def _runtime_client() -> Any:
    global _RUNTIME_CLIENT
    if _RUNTIME_CLIENT is None:
        timeout = float(os.environ.get("INVOKE_TIMEOUT_SECONDS") or DEFAULT_INVOKE_TIMEOUT_SECONDS)
        _RUNTIME_CLIENT = boto3.client(
            "sagemaker-runtime",
            config=Config(
                connect_timeout=2,
                read_timeout=timeout,
                # One retry at most: the caller is waiting and API Gateway stops at 29 s.
                retries={"mode": "standard", "total_max_attempts": 2},
            ),
        )
    return _RUNTIME_CLIENT


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``inference_api.handler``); never raises to API Gateway."""
    request_id = _request_id(event if isinstance(event, dict) else {}, context)
    try:
        endpoint_name = os.environ.get("ENDPOINT_NAME", "").strip()
        if not endpoint_name:
            _log(logging.ERROR, "ENDPOINT_NAME is not set", requestId=request_id)
            return error_response(500, "InternalError", "The request could not be completed.", request_id)
        return invoke(event, context, runtime=_runtime_client(), endpoint_name=endpoint_name)
    except Exception:  # noqa: BLE001 - the last line of defence: log the trace, answer without it
        LOG.exception(json.dumps({"message": "unhandled error", "requestId": request_id}))
        return error_response(500, "InternalError", "The request could not be completed.", request_id)
