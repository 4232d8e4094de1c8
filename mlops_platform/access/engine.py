"""Run ``@cloud-copilot/iam-simulate`` (tools/iam-simulate/) on a batch: one ``node`` process per batch.

The engine is AGPL-3.0-or-later: a test-and-CI-only tool that lives in its own folder, installed with
``npm ci`` there, and is never part of an image or the product's runtime.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from mlops_core.paths import REPO_ROOT

TOOL_DIR = REPO_ROOT / "tools" / "iam-simulate"
RUNNER = TOOL_DIR / "run.mjs"


class EngineError(Exception):
    """The engine could not run (one line, naming what to do)."""


def engine_installed(tool_dir: Path = TOOL_DIR) -> bool:
    return (tool_dir / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json").exists()


def run_batch(simulations: list[dict[str, Any]], tool_dir: Path = TOOL_DIR, timeout: int = 300) -> tuple[str, dict[str, dict[str, Any]]]:
    """Evaluate ``[{"id", "simulation"}]``; returns (engine version, results by id)."""
    node = shutil.which("node")
    if node is None:
        raise EngineError("node is not on PATH (the IAM engine needs Node 20)")
    if not engine_installed(tool_dir):
        raise EngineError(f"the IAM engine is not installed: run `npm ci` in {tool_dir.relative_to(REPO_ROOT) if tool_dir.is_relative_to(REPO_ROOT) else tool_dir}")
    completed = subprocess.run(
        [node, str(tool_dir / "run.mjs")],
        input=json.dumps({"simulations": simulations}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineError(f"the IAM engine failed (exit {completed.returncode}): {detail}")
    answer = json.loads(completed.stdout)
    return str(answer["engine"]), {str(r["id"]): r for r in answer["results"]}
