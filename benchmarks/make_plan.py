"""Time `make plan` cold (empty `.plan-cache/`) and warm (nothing changed since), side by side.

`make plan` runs three commands: `policy-config`, `plan --summary` and `check` of every stack of the
default config. This script runs the same three, first after removing the project's `.plan-cache/`
(every stack planned, the pipeline definitions built), then again with the cache the first run left.
For each run: wall time, CPU time (user + system, workers included: what a busy machine does not
inflate), peak RSS of the largest process (the commands and their planning workers),
and seconds per planned resource. The README quotes the figures.

Run: .venv/bin/python benchmarks/make_plan.py [-C DIR] (DIR: another project, e.g. a scale fixture)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = (["policy-config"], ["plan", "--summary"], ["check"])
TARGETS = {"cold": 30.0, "warm": 5.0}


def run_command(args: list[str], project: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one `mlops-platform` command, its workers included."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "mlops_platform.cli", "-C", str(project), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "CI": "1"})
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"mlops-platform {' '.join(args)} failed: {stderr.strip().splitlines()[-1:] or status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def resources(project: Path) -> int:
    """Planned resources of every stack (what a run plans twice: known and unknown outputs)."""
    result = subprocess.run([sys.executable, "-m", "mlops_platform.cli", "-C", str(project), "plan", "--format", "json"],
                            capture_output=True, text=True, check=True)
    return sum(len(stack["resources"]) for stack in json.loads(result.stdout)["stacks"].values())


def make_plan(project: Path) -> tuple[float, float, int, dict[str, float]]:
    total, cpu, peak, steps = 0.0, 0.0, 0, {}
    for args in COMMANDS:
        elapsed, seconds, rss = run_command(args, project)
        total += elapsed
        cpu += seconds
        peak = max(peak, rss)
        steps[" ".join(args)] = elapsed
    return total, cpu, peak, steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", dest="project", type=Path, default=REPO, help="project to plan (default: this checkout)")
    args = parser.parse_args()
    project = args.project.resolve()
    shutil.rmtree(project / ".plan-cache", ignore_errors=True)
    runs = {"cold": make_plan(project), "warm": make_plan(project)}
    count = resources(project)
    print(f"make plan of {project.name} ({count} planned resources per pass), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} (above 0 the machine was busy with other work):")
    for name, (total, cpu, peak, steps) in runs.items():
        detail = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items())
        print(f"  {name}: {total:.1f} s wall (target {TARGETS[name]:.0f} s), {cpu:.1f} s CPU, peak RSS {peak / 1024:.0f} MB, "
              f"{total / count * 1000:.1f} ms per planned resource  ({detail})")


if __name__ == "__main__":
    main()
