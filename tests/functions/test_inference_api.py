"""The private API's Lambda: request contract, payload limit, endpoint error mapping, no leaked internals."""

from __future__ import annotations

import base64
import io
import json

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from mlops_functions import inference_api

ENDPOINT = "predictive-maintenance-prod"
REQUEST_ID = "6f1c2a9e-0d4b-4c3a-9e8f-7b6a5d4c3b2a"
CSV_ROWS = b"41.2,1520,0.83,212,7\n39.8,1498,0.79,215,7\n"
LIMIT = 6_291_456  # InvokeEndpoint Body max and the synchronous Lambda payload limit


@pytest.fixture
def runtime():
    client = boto3.client("sagemaker-runtime", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def event(fixture_json):
    return fixture_json("apigateway_private_rest_proxy_event.json")


def model_answer(data: bytes, content_type: str = "text/csv") -> dict:
    return {
        "Body": StreamingBody(io.BytesIO(data), len(data)),
        "ContentType": content_type,
        "InvokedProductionVariant": "AllTraffic",
    }


def call(event, client):
    return inference_api.invoke(event, None, runtime=client, endpoint_name=ENDPOINT)


def error_of(response) -> dict:
    assert response["headers"]["Content-Type"] == "application/json", "errors must be JSON"
    return json.loads(response["body"])["error"]


# --- success path -----------------------------------------------------------------------------------


def test_csv_request_is_forwarded_to_the_configured_endpoint(runtime, event):
    client, stubber = runtime
    stubber.add_response(
        "invoke_endpoint",
        model_answer(b"0.02\n0.91\n"),
        {"EndpointName": ENDPOINT, "Body": CSV_ROWS, "ContentType": "text/csv", "Accept": "text/csv"},
    )
    response = call(event, client)
    assert response["statusCode"] == 200
    assert response["body"] == "0.02\n0.91\n"


def test_success_response_carries_model_content_type_variant_and_request_id(runtime, event):
    client, stubber = runtime
    stubber.add_response("invoke_endpoint", model_answer(b'{"p": 0.9}', "application/json"))
    headers = call(event, client)["headers"]
    assert headers == {
        "Content-Type": "application/json",
        "X-Request-Id": REQUEST_ID,
        "X-Invoked-Production-Variant": "AllTraffic",
    }


def test_base64_body_is_decoded_before_invoking(runtime, event):
    client, stubber = runtime
    event["body"] = base64.b64encode(CSV_ROWS).decode()
    event["isBase64Encoded"] = True
    stubber.add_response(
        "invoke_endpoint",
        model_answer(b"0.5\n"),
        {"EndpointName": ENDPOINT, "Body": CSV_ROWS, "ContentType": "text/csv", "Accept": "text/csv"},
    )
    assert call(event, client)["statusCode"] == 200


def test_content_type_parameters_are_dropped_and_header_case_is_ignored(runtime, event):
    client, stubber = runtime
    event["headers"] = {"Content-Type": "Application/JSON; charset=utf-8"}
    event["body"] = '{"instances": [[41.2, 1520, 0.83, 212, 7]]}'
    stubber.add_response(
        "invoke_endpoint",
        model_answer(b"[0.02]", "application/json"),
        {"EndpointName": ENDPOINT, "Body": event["body"].encode(), "ContentType": "application/json"},
    )
    assert call(event, client)["statusCode"] == 200


def test_wildcard_accept_lets_the_model_choose(runtime, event):
    client, stubber = runtime
    event["headers"]["accept"] = "*/*"
    stubber.add_response(
        "invoke_endpoint", model_answer(b"0.5\n"), {"EndpointName": ENDPOINT, "Body": CSV_ROWS, "ContentType": "text/csv"}
    )
    assert call(event, client)["statusCode"] == 200


def test_binary_model_output_is_returned_base64_encoded(runtime, event):
    client, stubber = runtime
    stubber.add_response("invoke_endpoint", model_answer(b"\xff\xfe\x00", "text/csv"))
    response = call(event, client)
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == b"\xff\xfe\x00"


def test_body_of_exactly_the_limit_is_forwarded(runtime, event):
    client, stubber = runtime
    event["body"] = "1" * LIMIT
    stubber.add_response("invoke_endpoint", model_answer(b"ok"))
    assert call(event, client)["statusCode"] == 200


# --- refused requests (no endpoint call: the stubber has nothing queued) ----------------------------


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"httpMethod": "GET"}, 405, "MethodNotAllowed"),
        ({"headers": {"content-type": "application/x-npy"}}, 415, "UnsupportedMediaType"),
        ({"headers": None}, 415, "UnsupportedMediaType"),
        ({"headers": {"content-type": "text/csv", "accept": "application/x-protobuf"}}, 406, "NotAcceptable"),
        ({"body": None}, 400, "EmptyBody"),
        ({"body": ""}, 400, "EmptyBody"),
        ({"body": "not base64!", "isBase64Encoded": True}, 400, "InvalidBody"),
        ({"body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True}, 400, "InvalidBody"),
        ({"headers": {"content-type": "application/json"}, "body": "{not json"}, 400, "InvalidBody"),
        ({"body": "1" * (LIMIT + 1)}, 413, "PayloadTooLarge"),
    ],
    ids=[
        "method", "content-type", "no-headers", "accept", "null-body", "empty-body", "bad-base64",
        "not-utf8", "bad-json", "over-limit",
    ],
)
def test_invalid_requests_are_refused_before_invoking(runtime, event, change, status, code):
    client, _ = runtime
    event.update(change)
    response = call(event, client)
    assert response["statusCode"] == status, f"expected {status} {code}, got {response}"
    assert error_of(response) == {"code": code, "message": error_of(response)["message"], "requestId": REQUEST_ID}


def test_base64_body_over_the_limit_after_decoding_is_refused(runtime, event):
    client, _ = runtime
    event["body"] = base64.b64encode(b"1" * (LIMIT + 1)).decode()
    event["isBase64Encoded"] = True
    assert call(event, client)["statusCode"] == 413


def test_method_not_allowed_names_the_allowed_method(runtime, event):
    client, _ = runtime
    event["httpMethod"] = "PUT"
    assert call(event, client)["headers"]["Allow"] == "POST"


# --- endpoint errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service_code, http_status, status, code",
    [
        ("ValidationError", 400, 400, "InvalidRequest"),
        ("ModelError", 424, 424, "ModelError"),
        ("ThrottlingException", 400, 429, "Throttled"),
        ("ModelNotReadyException", 429, 503, "ModelNotReady"),
        ("ServiceUnavailable", 503, 503, "ServiceUnavailable"),
        ("InternalFailure", 500, 500, "InternalError"),
        ("InternalDependencyException", 530, 502, "UpstreamError"),
        ("AccessDeniedException", 403, 500, "InternalError"),
    ],
)
def test_endpoint_errors_map_to_documented_statuses(runtime, event, service_code, http_status, status, code):
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code=service_code,
        service_message="Endpoint predictive-maintenance-prod of account 666666666666 failed: internal detail",
        http_status_code=http_status,
    )
    response = call(event, client)
    assert (response["statusCode"], error_of(response)["code"]) == (status, code)


@pytest.mark.parametrize("service_code", ["ThrottlingException", "ModelNotReadyException", "ServiceUnavailable"])
def test_retryable_errors_carry_retry_after(runtime, event, service_code):
    client, stubber = runtime
    stubber.add_client_error("invoke_endpoint", service_error_code=service_code, http_status_code=503)
    assert "Retry-After" in call(event, client)["headers"], f"{service_code} response lacks Retry-After"


def test_model_error_returns_container_status_but_not_its_message(runtime, event):
    client, stubber = runtime
    container_trace = 'Traceback (most recent call last):\n  File "/opt/ml/code/inference.py", line 12'
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error (400) from primary with message \"" + container_trace + '"',
        http_status_code=424,
        modeled_fields={
            "OriginalStatusCode": 400,
            "OriginalMessage": container_trace,
            "LogStreamArn": "arn:aws:logs:eu-central-1:666666666666:log-group:/aws/sagemaker/Endpoints/x",
        },
    )
    response = call(event, client)
    assert error_of(response)["modelStatusCode"] == 400
    assert "Traceback" not in response["body"] and "inference.py" not in response["body"]


def test_service_error_message_is_not_returned_to_the_caller(runtime, event):
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ValidationError",
        service_message="Endpoint predictive-maintenance-prod of account 666666666666 not found.",
        http_status_code=400,
    )
    body = call(event, client)["body"]
    assert "666666666666" not in body and ENDPOINT not in body


def test_endpoint_error_is_logged_server_side_with_request_id(runtime, event, caplog):
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_endpoint", service_error_code="InternalFailure", service_message="boom", http_status_code=500
    )
    with caplog.at_level("INFO", logger=inference_api.LOG.name):
        call(event, client)
    logged = [json.loads(record.getMessage()) for record in caplog.records if record.levelname == "ERROR"]
    assert any(entry.get("requestId") == REQUEST_ID and entry.get("errorCode") == "InternalFailure" for entry in logged)


def test_read_timeout_is_a_504(event):
    class TimingOutRuntime:
        def invoke_endpoint(self, **_params):
            raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker.eu-central-1.amazonaws.com")

    response = call(event, TimingOutRuntime())
    assert (response["statusCode"], error_of(response)["code"]) == (504, "Timeout")


def test_model_response_over_the_lambda_limit_is_a_clear_502(runtime, event):
    client, stubber = runtime
    stubber.add_response("invoke_endpoint", model_answer(b"9" * LIMIT))
    response = call(event, client)
    assert (response["statusCode"], error_of(response)["code"]) == (502, "ResponseTooLarge")


# --- handler -----------------------------------------------------------------------------------------


def test_handler_invokes_the_endpoint_named_in_the_environment(monkeypatch, runtime, event):
    client, stubber = runtime
    stubber.add_response(
        "invoke_endpoint",
        model_answer(b"0.1\n"),
        {"EndpointName": "other-endpoint", "Body": CSV_ROWS, "ContentType": "text/csv", "Accept": "text/csv"},
    )
    monkeypatch.setenv("ENDPOINT_NAME", "other-endpoint")
    monkeypatch.setattr(inference_api, "_RUNTIME_CLIENT", client)
    assert inference_api.handler(event, None)["statusCode"] == 200


def test_handler_without_endpoint_name_answers_500_without_calling(monkeypatch, runtime, event):
    client, _ = runtime
    monkeypatch.delenv("ENDPOINT_NAME", raising=False)
    monkeypatch.setattr(inference_api, "_RUNTIME_CLIENT", client)
    response = inference_api.handler(event, None)
    assert (response["statusCode"], error_of(response)["requestId"]) == (500, REQUEST_ID)


def test_handler_turns_unexpected_exceptions_into_a_json_500_without_trace(monkeypatch, event, caplog):
    class BrokenRuntime:
        def invoke_endpoint(self, **_params):
            raise KeyError("secret internal state")

    monkeypatch.setenv("ENDPOINT_NAME", ENDPOINT)
    monkeypatch.setattr(inference_api, "_RUNTIME_CLIENT", BrokenRuntime())
    with caplog.at_level("ERROR", logger=inference_api.LOG.name):
        response = inference_api.handler(event, None)
    assert response["statusCode"] == 500
    assert "secret internal state" not in response["body"] and "Traceback" not in response["body"]
    assert any(record.exc_info for record in caplog.records), "the trace must be logged server-side"


def test_lambda_module_imports_only_stdlib_and_boto(lambda_module_imports):
    assert lambda_module_imports("inference_api") <= {"boto3", "botocore"}
