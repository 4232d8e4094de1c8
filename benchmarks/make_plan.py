"""Time `make plan` cold (empty `.plan-cache/`) and warm (nothing changed since), side by side.

`make plan` runs three commands: `policy-config`, `plan --summary` and `check` of every stack of the
default config. This script runs the same three, first after removing the project's `.plan-cache/`
(every stack planned, the pipeline definitions built), then again with the cache the first run left.
For each run: wall time, CPU time (user + system, workers included: what a busy machine does not
inflate), peak RSS of the largest process (the commands and their planning workers),
and seconds per planned resource. The README quotes the figures.

Run: .venv/bin/python benchmarks/make_plan.py [-C DIR ...] (DIR: another project, e.g. the scale fixture;
several run one after the other, and the cold runs' seconds per resource are compared with the first's:
issue #16 wants 100 projects within 1.3x of the default config, at most 1.5 GB peak)
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
#: At scale: seconds per planned resource within this factor of the first project's, and peak memory.
PER_RESOURCE_FACTOR, PEAK_MB = 1.3, 1536


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


def measure(project: Path) -> tuple[int, dict[str, tuple[float, float, int, dict[str, float]]]]:
    """Planned resources per pass, and the cold then the warm run."""
    shutil.rmtree(project / ".plan-cache", ignore_errors=True)
    runs = {"cold": make_plan(project), "warm": make_plan(project)}
    return resources(project), runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", dest="projects", type=Path, action="append",
                        help="project to plan (repeatable; default: this checkout)")
    args = parser.parse_args()
    projects = [p.resolve() for p in (args.projects or [REPO])]
    first_per_resource = None
    for project in projects:
        count, runs = measure(project)
        print(f"make plan of {project.name} ({count} planned resources per pass), {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} (above 0 the machine was busy with other work):")
        for name, (total, cpu, peak, steps) in runs.items():
            detail = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in steps.items())
            print(f"  {name}: {total:.1f} s wall (target {TARGETS[name]:.0f} s), {cpu:.1f} s CPU, peak RSS {peak / 1024:.0f} MB, "
                  f"{total / count * 1000:.1f} ms per planned resource  ({detail})")
        cold_total, _, cold_peak, _ = runs["cold"]
        per_resource = cold_total / count
        if first_per_resource is None:
            first_per_resource = per_resource
        else:
            factor = per_resource / first_per_resource
            print(f"  cold seconds per resource: {factor:.2f}x the first project's (goal at most {PER_RESOURCE_FACTOR}x); "
                  f"peak RSS {cold_peak / 1024:.0f} MB (goal at most {PEAK_MB} MB)")


if __name__ == "__main__":
    main()
