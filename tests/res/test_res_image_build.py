"""images/build.sh with stand-in `aws` and `docker` commands: what it builds, tests, pushes and skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REGISTRY = "333333333333.dkr.ecr.eu-central-1.amazonaws.com"

FAKE_AWS = """#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  "ecr get-login-password") echo token ;;
  "ecr describe-images")
    repo="$4"; tag="${6#imageTag=}"
    grep -qx "$repo:$tag" "$EXISTING" && exit 0 || exit 254 ;;
esac
"""
FAKE_DOCKER = """#!/usr/bin/env bash
[ "$1" = login ] && cat > /dev/null
echo "docker $*" >> "$CALLS"
"""


@pytest.fixture()
def workspace(tmp_path: Path):
    src = tmp_path / "src"
    for relative in ("images/build.sh", "images/base-image.txt", "images/deploy/VERSION", "images/inference/VERSION",
                     "images/deploy/Dockerfile", "images/inference/Dockerfile"):
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, src / relative)
    toolchain = tmp_path / "toolchain"
    (toolchain / "wheels").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "existing").write_text("")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"), "EXISTING": str(tmp_path / "existing"),
        "CODEBUILD_SRC_DIR": str(src), "CODEBUILD_SRC_DIR_toolchain": str(toolchain), "AWS_REGION": "eu-central-1",
        "REGISTRY": REGISTRY, "IMAGES": "deploy inference", "CACHE_PREFIX": f"{REGISTRY}/ecr-public",
        "QUARANTINE_DEPLOY": "mlops/quarantine/deploy", "RELEASE_DEPLOY": "mlops/deploy",
        "QUARANTINE_INFERENCE": "mlops/quarantine/inference", "RELEASE_INFERENCE": "mlops/inference",
    }
    return tmp_path, src, env


def run(workspace, step: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    tmp, src, env = workspace
    result = subprocess.run(["bash", str(src / "images" / "build.sh"), step], env=env, capture_output=True, text=True, timeout=60)
    calls = (tmp / "calls").read_text().splitlines() if (tmp / "calls").exists() else []
    return result, [c for c in calls if c.startswith("docker")]


def version(image: str) -> str:
    return (REPO / "images" / image / "VERSION").read_text().strip()


def test_build_tests_each_image_before_pushing_it_to_quarantine(workspace) -> None:
    result, calls = run(workspace, "build")
    assert result.returncode == 0, result.stderr
    for image in ("deploy", "inference"):
        ref = f"{REGISTRY}/mlops/quarantine/{image}:{version(image)}"
        steps = [i for i, c in enumerate(calls) if ref in c]
        kinds = [calls[i].split()[1] for i in steps]
        assert kinds[0] == "build" and kinds[-1] == "push" and "run" in kinds, f"{image}: {kinds}"
        assert f"--build-arg BASE_IMAGE={REGISTRY}/ecr-public/docker/library/python:3.11-slim" in calls[steps[0]]
    assert not [c for c in calls if "push" in c and "/quarantine/" not in c], "build pushed outside quarantine"


def test_build_skips_a_released_version(workspace) -> None:
    tmp, _, _ = workspace
    (tmp / "existing").write_text(f"mlops/deploy:{version('deploy')}\n")
    result, calls = run(workspace, "build")
    assert result.returncode == 0, result.stderr
    assert not [c for c in calls if "/deploy:" in c and c.split()[1] in ("build", "push")]
    assert "already released" in result.stdout


def test_promote_copies_quarantine_to_release_under_the_same_tag(workspace) -> None:
    result, calls = run(workspace, "promote")
    assert result.returncode == 0, result.stderr
    tag = version("inference")
    assert f"docker pull {REGISTRY}/mlops/quarantine/inference:{tag}" in calls
    assert f"docker push {REGISTRY}/mlops/inference:{tag}" in calls


def test_unknown_step_is_rejected(workspace) -> None:
    result, _ = run(workspace, "deploy")
    assert result.returncode == 2 and "unknown step" in result.stderr


FAKE_AWS_FINDINGS = """#!/usr/bin/env bash
case "$1 $2" in
  "ecr describe-images") repo="$4"; tag="${6#imageTag=}"; grep -qx "$repo:$tag" "$EXISTING" && exit 0 || exit 254 ;;
  "ecr describe-image-scan-findings") cat "$FINDINGS_DIR/$(echo "$4" | tr / _).json" ;;
esac
"""


def scan_gate(workspace, findings: dict[str, dict]):
    import json

    import yaml

    tmp, src, env = workspace
    shutil.copy(REPO / "images" / "scan_gate.py", src / "images" / "scan_gate.py")
    (tmp / "bin" / "aws").write_text(FAKE_AWS_FINDINGS)
    # The buildspec calls python3; pin it to this interpreter (a pyenv shim would put its own aws first).
    (tmp / "bin" / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (tmp / "bin" / "python3").chmod(0o755)
    (tmp / "findings").mkdir(exist_ok=True)
    for repo, response in findings.items():
        (tmp / "findings" / f"{repo.replace('/', '_')}.json").write_text(json.dumps(response))
    spec = yaml.safe_load((REPO / "images" / "buildspecs" / "scan-gate.yml").read_text())
    script = "\n".join(spec["phases"]["build"]["commands"])
    return subprocess.run(["bash", "-c", script], cwd=src, env={**env, "FINDINGS_DIR": str(tmp / "findings")},
                          capture_output=True, text=True, timeout=60)


CLEAN = {"imageScanStatus": {"status": "ACTIVE"}, "imageScanFindings": {"findingSeverityCounts": {"HIGH": 2}}}
CRITICAL = {"imageScanStatus": {"status": "ACTIVE"}, "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 1}}}


def test_scan_gate_buildspec_passes_clean_images(workspace) -> None:
    result = scan_gate(workspace, {"mlops/quarantine/deploy": CLEAN, "mlops/quarantine/inference": CLEAN})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 2


def test_scan_gate_buildspec_blocks_a_critical_finding(workspace) -> None:
    result = scan_gate(workspace, {"mlops/quarantine/deploy": CLEAN, "mlops/quarantine/inference": CRITICAL})
    assert result.returncode == 1 and "mlops/quarantine/inference" in result.stderr and "1 CRITICAL" in result.stderr
