"""Account quotas: per account, the planned count of every resource with a default AWS quota.

Plans every platform stack, and serving stacks, of the default config or of a generated organisation
with N model projects, then prints, per account, each count beside its default quota and Service
Quotas code (data: mlops_platform/limits/account_quotas.yaml) and the AWS limits check's summary.

Run: .venv/bin/python benchmarks/quotas.py [--projects N] [--serving-sample K]
The organisation is ``benchmarks/scale.py``'s (one generator for every benchmark at scale).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

from scale import scale_organization, write_scale_root

from mlops_core.paths import REPO_ROOT
from mlops_platform import harness
from mlops_platform.limits import check_plans
from mlops_platform.limits.accounts import quota_rows, render_rows

STAGES = ("dev", "int", "prod")


def _serving_kind(serving: dict) -> str:
    """A project's serving config as a comparable key (projects with equal keys plan alike)."""
    plain = {stage: value.model_dump() if hasattr(value, "model_dump") else value for stage, value in serving.items()}
    return json.dumps(plain, sort_keys=True, default=str)


def plan_all(root: Path, serving_sample: int) -> tuple[dict, bool]:
    """Every platform stack, and the serving stacks: all of them (``serving_sample`` 0), or per kind of
    serving config up to ``serving_sample`` projects planned and repeated for the projects of that kind
    (returns whether counts are extrapolated)."""
    plans = dict(harness.plan_stacks(root=root, parallel=True))
    projects = harness.load_organization(root).model_projects
    kinds: dict[str, list[str]] = {}
    for project in projects:
        kinds.setdefault(_serving_kind(project.serving), []).append(project.name)
    extrapolated = False
    for stage in STAGES:
        for names in kinds.values():
            sample = names if serving_sample <= 0 else names[:serving_sample]
            extrapolated |= len(sample) < len(names)
            planned = [harness.plan_serving(f"{name}-{stage}", root=root) for name in sample]
            for i, name in enumerate(names):
                plans[f"{name}-{stage}"] = planned[i % len(planned)]
    return plans, extrapolated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=0, help="generated model projects (0: the default config)")
    parser.add_argument("--serving-sample", type=int, default=1,
                        help="serving stacks planned per stage and kind of serving config (0: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = REPO_ROOT if not args.projects else write_scale_root(Path(tmp), scale_organization(args.projects))
        plans, extrapolated = plan_all(root, args.serving_sample if args.projects else 0)
        title = f"{args.projects} model projects" if args.projects else "default config"
        if extrapolated:
            title += f" (serving stacks: {args.serving_sample} per stage and serving config planned, repeated for the others)"
        print(render_rows(quota_rows(plans), title))
        limits = check_plans(plans)
        print(limits.summary())
        kinds = Counter(f"{v.stack}: {v.type} {v.field} (limit {v.limit})" for v in limits.violations)
        for kind, number in sorted(kinds.items()):
            print(f"  {number:4d} x {kind}")


if __name__ == "__main__":
    main()
