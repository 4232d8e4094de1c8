"""Scan gate of the image pipeline: wait for an image's scan, fail on CRITICAL findings.

Runs in the unprivileged ScanGate CodeBuild project (CodeBuild's managed image has the AWS CLI but
no boto3, so this is standard library only and calls the CLI)::

    python3 images/scan_gate.py --repository mlops/quarantine/deploy --tag 1.0.0 [--timeout 1800]

It reads ``aws ecr describe-image-scan-findings``. The registry uses enhanced scanning (Amazon
Inspector), whose status is ``ACTIVE`` once the image is scanned (basic scanning says ``COMPLETE``);
``PENDING``/``IN_PROGRESS`` mean wait; anything else (``FAILED``, ``UNSUPPORTED_IMAGE``,
``FINDINGS_UNAVAILABLE``, ``SCAN_ELIGIBILITY_EXPIRED``) fails the gate, because an image whose scan
cannot be read is not promoted. Exit codes: 0 promote, 1 blocked (one line says why), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DONE = {"COMPLETE", "ACTIVE"}
WAITING = {"PENDING", "IN_PROGRESS", "SCAN_ON_PUSH_PENDING"}
BLOCKING_SEVERITIES = ("CRITICAL",)


@dataclass(frozen=True)
class Verdict:
    state: str
    """``promote``, ``block`` or ``wait``."""
    reason: str


def severity_counts(response: dict[str, Any]) -> dict[str, int]:
    """Findings per severity, from the summary counts or, if absent, from the finding lists."""
    findings = response.get("imageScanFindings") or {}
    counts = findings.get("findingSeverityCounts")
    if counts:
        return {str(k).upper(): int(v) for k, v in counts.items()}
    tally: dict[str, int] = {}
    for item in [*(findings.get("findings") or []), *(findings.get("enhancedFindings") or [])]:
        severity = str(item.get("severity", "UNDEFINED")).upper()
        tally[severity] = tally.get(severity, 0) + 1
    return tally


def evaluate(response: dict[str, Any]) -> Verdict:
    """Decide from one ``DescribeImageScanFindings`` response (pure)."""
    status = ((response.get("imageScanStatus") or {}).get("status") or "").upper()
    if status in WAITING:
        return Verdict("wait", f"scan is {status}")
    if status not in DONE:
        description = (response.get("imageScanStatus") or {}).get("description") or "no description"
        return Verdict("block", f"scan status {status or 'missing'}: {description}")
    counts = severity_counts(response)
    blocking = {s: counts[s] for s in BLOCKING_SEVERITIES if counts.get(s)}
    if blocking:
        listed = ", ".join(f"{n} {s}" for s, n in blocking.items())
        return Verdict("block", f"{listed} finding(s)")
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
    return Verdict("promote", f"scan {status}: {summary}")


def aws_cli_findings(repository: str, tag: str) -> dict[str, Any]:
    """The first page of findings; the severity counts cover all pages."""
    output = subprocess.run(
        ["aws", "ecr", "describe-image-scan-findings", "--repository-name", repository,
         "--image-id", f"imageTag={tag}", "--max-items", "100", "--output", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output)


def wait_for_verdict(fetch: Callable[[], dict[str, Any]], timeout_s: float, interval_s: float = 20,
                     sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Verdict:
    deadline = clock() + timeout_s
    while True:
        verdict = evaluate(fetch())
        if verdict.state != "wait":
            return verdict
        if clock() >= deadline:
            return Verdict("block", f"{verdict.reason} after {timeout_s:.0f} s: giving up")
        sleep(interval_s)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Wait for an ECR image scan and block CRITICAL findings.")
    parser.add_argument("--repository", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    try:
        verdict = wait_for_verdict(lambda: aws_cli_findings(args.repository, args.tag), args.timeout)
    except subprocess.CalledProcessError as error:
        print(f"error: {args.repository}:{args.tag}: {error.stderr.strip().splitlines()[-1] if error.stderr else error}",
              file=sys.stderr)
        return 1
    if verdict.state != "promote":
        print(f"error: {args.repository}:{args.tag} blocked: {verdict.reason}", file=sys.stderr)
        return 1
    print(f"ok: {args.repository}:{args.tag}: {verdict.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
