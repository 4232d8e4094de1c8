"""Smoke and latency test of a deployed model endpoint (the release pipeline's Test actions).

Runs in the deploy image as the RES serving deployer role, from the deployer bundle's root
(``MLOPS_PLATFORM_ROOT``, for ``organization.yaml``)::

    python /opt/mlops/smoke_test.py --project P --stage dev --model-package-arn ARN

1. assumes ``<p>-serving-deploy`` in the stage account (the only role the deployer may assume there);
2. checks the endpoint ``<p>-<project>-<stage>`` is ``InService`` and serves exactly ``ARN`` (its
   configuration's model was created from that model package);
3. sends the project's sample payload (``smoke_payloads/<project>.csv``) ``--requests`` times and
   fails on any error or when the p95 latency exceeds ``--p95-ms``.

Exit codes: 0 passed, 1 failed (one line says why), 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_core.roles import STAGES

PAYLOADS = Path(__file__).resolve().parent / "smoke_payloads"
DEFAULT_REQUESTS = 20
DEFAULT_P95_MS = 500.0
SESSION_NAME = "release-smoke-test"


class SmokeTestFailed(Exception):
    """The endpoint is not healthy, not serving the expected version, or too slow."""


@dataclass(frozen=True)
class SmokeResult:
    endpoint: str
    requests: int
    p95_ms: float


def p95(latencies_ms: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    if not latencies_ms:
        raise ValueError("no latencies")
    ordered = sorted(latencies_ms)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def served_model_package(sagemaker: Any, endpoint: str) -> tuple[str, str | None]:
    """(endpoint status, model package ARN of its first production variant's model)."""
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model_name = config["ProductionVariants"][0]["ModelName"]
    model = sagemaker.describe_model(ModelName=model_name)
    containers = [model.get("PrimaryContainer") or {}, *model.get("Containers", [])]
    packages = [c.get("ModelPackageName") for c in containers if c.get("ModelPackageName")]
    return described["EndpointStatus"], packages[0] if packages else None


def run_smoke_test(
    sagemaker: Any,
    runtime: Any,
    endpoint: str,
    model_package_arn: str,
    payload: bytes,
    requests: int = DEFAULT_REQUESTS,
    p95_limit_ms: float = DEFAULT_P95_MS,
    clock: Callable[[], float] = time.perf_counter,
) -> SmokeResult:
    status, package = served_model_package(sagemaker, endpoint)
    if status != "InService":
        raise SmokeTestFailed(f"endpoint {endpoint} is {status}, not InService")
    if package is None or package.lower() != model_package_arn.lower():
        raise SmokeTestFailed(f"endpoint {endpoint} serves {package}, not {model_package_arn}")
    latencies = []
    for index in range(requests):
        started = clock()
        response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=payload)
        latencies.append((clock() - started) * 1000)
        body = response["Body"].read()
        if not body.strip():
            raise SmokeTestFailed(f"endpoint {endpoint}: request {index + 1} returned an empty body")
    measured = p95(latencies)
    if measured > p95_limit_ms:
        raise SmokeTestFailed(f"endpoint {endpoint}: p95 latency {measured:.0f} ms exceeds {p95_limit_ms:.0f} ms")
    return SmokeResult(endpoint, requests, measured)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--stage", required=True, choices=list(STAGES))
    parser.add_argument("--model-package-arn", required=True)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--p95-ms", type=float, default=float(os.environ.get("SMOKE_P95_MS", DEFAULT_P95_MS)))
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    import boto3

    from mlops_core import naming
    from mlops_core.config import ConfigError, load_organization

    try:
        org = load_organization()
        endpoint = naming.endpoint_name(org, args.project, args.stage)
    except (ConfigError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    payload_file = PAYLOADS / f"{args.project}.csv"
    if not payload_file.is_file():
        print(f"error: no smoke payload {payload_file} for project {args.project}", file=sys.stderr)
        return 2
    account = org.accounts.by_role()[args.stage]
    credentials = boto3.client("sts", region_name=org.region).assume_role(
        RoleArn=naming.role_arn(account, naming.stage_deployment_role_name(org)), RoleSessionName=SESSION_NAME
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=org.region,
    )
    try:
        result = run_smoke_test(
            session.client("sagemaker"), session.client("sagemaker-runtime"), endpoint, args.model_package_arn,
            payload_file.read_bytes(), args.requests, args.p95_ms,
        )
    except SmokeTestFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"ok: {result.endpoint} served {result.requests} requests, p95 {result.p95_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
