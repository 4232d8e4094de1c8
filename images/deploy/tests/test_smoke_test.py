"""Tests of the release smoke test (run inside the deploy image and by tests/res), with botocore's Stubber."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import smoke_test  # noqa: E402

ENDPOINT = "mlops-weld-gun-pm-dev"
PACKAGE = "arn:aws:sagemaker:eu-central-1:222222222222:model-package/weld-gun-pm/3"


def clients():
    sagemaker = boto3.client("sagemaker", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
    runtime = boto3.client("sagemaker-runtime", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x")
    return sagemaker, runtime


def stub_endpoint(stubber: Stubber, status: str = "InService", package: str = PACKAGE) -> None:
    stubber.add_response("describe_endpoint", {
        "EndpointName": ENDPOINT, "EndpointArn": f"arn:aws:sagemaker:eu-central-1:444444444444:endpoint/{ENDPOINT}",
        "EndpointConfigName": f"{ENDPOINT}-abc", "EndpointStatus": status,
        "CreationTime": "2026-01-01T00:00:00Z", "LastModifiedTime": "2026-01-01T00:00:00Z",
    }, {"EndpointName": ENDPOINT})
    stubber.add_response("describe_endpoint_config", {
        "EndpointConfigName": f"{ENDPOINT}-abc",
        "EndpointConfigArn": f"arn:aws:sagemaker:eu-central-1:444444444444:endpoint-config/{ENDPOINT}-abc",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "mlops-model-1"}],
        "CreationTime": "2026-01-01T00:00:00Z",
    }, {"EndpointConfigName": f"{ENDPOINT}-abc"})
    stubber.add_response("describe_model", {
        "ModelName": "mlops-model-1", "PrimaryContainer": {"ModelPackageName": package},
        "CreationTime": "2026-01-01T00:00:00Z",
        "ModelArn": "arn:aws:sagemaker:eu-central-1:444444444444:model/mlops-model-1",
    }, {"ModelName": "mlops-model-1"})


def stub_invocations(stubber: Stubber, count: int) -> None:
    for _ in range(count):
        body = b"0.12,0\n"
        stubber.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "text/csv"})


def ticking_clock(step_ms: float):
    now = [0.0]

    def clock() -> float:
        now[0] += step_ms / 1000  # each call advances the clock by one request duration
        return now[0]

    return clock


def test_healthy_endpoint_serving_the_package_passes() -> None:
    sagemaker, runtime = clients()
    with Stubber(sagemaker) as sm, Stubber(runtime) as rt:
        stub_endpoint(sm)
        stub_invocations(rt, 3)
        result = smoke_test.run_smoke_test(sagemaker, runtime, ENDPOINT, PACKAGE, b"1,2\n", requests=3,
                                           clock=ticking_clock(10))
        rt.assert_no_pending_responses()
    assert result.requests == 3 and result.p95_ms == pytest.approx(10)


def test_another_package_version_fails() -> None:
    sagemaker, runtime = clients()
    with Stubber(sagemaker) as sm:
        stub_endpoint(sm, package=PACKAGE.replace("/3", "/2"))
        with pytest.raises(smoke_test.SmokeTestFailed, match="serves .*/2, not .*/3"):
            smoke_test.run_smoke_test(sagemaker, runtime, ENDPOINT, PACKAGE, b"1,2\n", requests=1)


def test_endpoint_not_in_service_fails() -> None:
    sagemaker, runtime = clients()
    with Stubber(sagemaker) as sm:
        stub_endpoint(sm, status="Updating")
        with pytest.raises(smoke_test.SmokeTestFailed, match="Updating"):
            smoke_test.run_smoke_test(sagemaker, runtime, ENDPOINT, PACKAGE, b"1,2\n", requests=1)


def test_slow_endpoint_fails_on_p95() -> None:
    sagemaker, runtime = clients()
    with Stubber(sagemaker) as sm, Stubber(runtime) as rt:
        stub_endpoint(sm)
        stub_invocations(rt, 2)
        with pytest.raises(smoke_test.SmokeTestFailed, match="p95 latency 900 ms exceeds 500 ms"):
            smoke_test.run_smoke_test(sagemaker, runtime, ENDPOINT, PACKAGE, b"1,2\n", requests=2,
                                      clock=ticking_clock(900))


def test_p95_is_nearest_rank() -> None:
    assert smoke_test.p95([float(v) for v in range(1, 101)]) == 95.0
