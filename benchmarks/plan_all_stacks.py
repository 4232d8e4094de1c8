"""Time the offline plan of every platform stack (fresh process, cold caches).

Prints wall time and peak memory; the README quotes the figures. The plan cache is off
(``MLOPS_PLAN_CACHE=0``): every program runs; `benchmarks/make_plan.py` times the cached runs.
Run: .venv/bin/python benchmarks/plan_all_stacks.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times = []
    resources = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "mlops_platform.cli", "plan", "--format", "json"],
            capture_output=True, text=True, check=True, env={**os.environ, "MLOPS_PLAN_CACHE": "0"},
        )
        times.append(time.perf_counter() - start)
        plan = json.loads(result.stdout)["stacks"]
        resources = sum(len(s["resources"]) for s in plan.values())
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"offline plan of {len(plan)} stacks, {resources} resources: "
          f"median {statistics.median(times):.2f} s over {args.repeat} runs, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
