"""Account quotas: per account, the planned count of every resource with a default AWS quota.

Plans every platform stack, and serving stacks, of the default config or of a generated organisation
with N model projects, then prints, per account, each count beside its default quota and Service
Quotas code (data: mlops_platform/limits/account_quotas.yaml) and the AWS limits check's summary.

Run: .venv/bin/python benchmarks/quotas.py [--projects N] [--serving-sample K]
``organisation(n)`` and ``write_project(dest, org)`` are importable for other benchmarks.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

from mlops_core.paths import REPO_ROOT
from mlops_platform import harness
from mlops_platform.limits import check_plans
from mlops_platform.limits.accounts import quota_rows, render_rows

STAGES = ("dev", "int", "prod")


def organisation(projects: int, scientists: int = 60, leads: int = 10, lead_projects: int = 20) -> dict:
    """The repository's organization.yaml grown to ``projects`` model projects like its first one
    (serving with batch, API and monitor on every third), ``scientists`` people: ``leads`` leads in
    ``lead_projects`` projects each, the others scientists in one to three projects."""
    org = YAML().load((REPO_ROOT / "organization.yaml").read_text())
    template = copy.deepcopy(dict(org["modelProjects"][0]))
    names = [f"use-case-{i:03d}" for i in range(projects)]
    org["modelProjects"] = [
        {**copy.deepcopy(template), "name": name, "description": f"Model project {name}",
         "serving": copy.deepcopy(template.get("serving", {})) if i % 3 == 0 else {}}
        for i, name in enumerate(names)
    ]
    people = []
    for k in range(scientists):
        if k < leads:
            member = [names[(k * lead_projects + j) % projects] for j in range(min(lead_projects, projects))]
            people.append({"name": f"lead{k:02d}", "persona": "lead", "projects": sorted(set(member))})
        else:
            member = [names[(k + j * 7) % projects] for j in range(1 + k % 3)]
            people.append({"name": f"sci{k:02d}", "persona": "scientist", "projects": sorted(set(member))})
    org["dataScientists"] = people
    return org


def write_project(dest: Path, org: dict) -> Path:
    """A project directory with ``org`` as its organization.yaml, the repository's stack files and
    links to its programs (what the harness plans)."""
    for path in REPO_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, dest / path.name)
    for program in (harness.PLATFORM_PROGRAM, harness.SERVING_PROGRAM):
        (dest / program).symlink_to(REPO_ROOT / program, target_is_directory=True)
    with (dest / "organization.yaml").open("w") as handle:
        YAML().dump(org, handle)
    return dest


def _serving_kind(serving: dict) -> str:
    """A project's serving config as a comparable key (projects with equal keys plan alike)."""
    plain = {stage: value.model_dump() if hasattr(value, "model_dump") else value for stage, value in serving.items()}
    return json.dumps(plain, sort_keys=True, default=str)


def plan_all(root: Path, serving_sample: int) -> tuple[dict, bool]:
    """Every platform stack, and the serving stacks: all of them (``serving_sample`` 0), or per kind of
    serving config up to ``serving_sample`` projects planned and repeated for the projects of that kind
    (returns whether counts are extrapolated)."""
    plans = dict(harness.plan_stacks(root=root))
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
        root = REPO_ROOT if not args.projects else write_project(Path(tmp), organisation(args.projects))
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
