"""Benchmark: the platform at a hundred use cases.

Writes an organisation (``organization.yaml``) with N model projects (each reading one data set with
a row filter for its plant; a third of them served in PROD with batch inference, private API and
model monitor), 60 data scientists (leads in 20 projects each, the others in 1-3) and 10 data sets,
beside the committed stack files and links to the programs; plans every platform stack and a
sample of serving stacks from it, and prints:

* resources per stack, wall time and peak memory (``resource.getrusage``);
* the size of every shared document (a policy, trust policy or key policy of a resource that
  belongs to no project and no person) at 2, 50 and 100 projects: they must not grow;
* the largest Studio lifecycle configuration (limit 16 KiB);
* the onboarding blast radius: how many existing resources change when one project is added.

The generator (:func:`scale_organization`, :func:`write_scale_root`) and the measurements are
importable; ``tests/foundation/test_scale.py`` runs a small variant in ``make test``.

    .venv/bin/python benchmarks/scale.py [--projects 100] [--serving-sample 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The packages come from the project's virtualenv (an editable install), never from a sys.path entry
# for the checkout: the root holds platform/, which would shadow the standard library's module.
REPO_ROOT = Path(__file__).resolve().parents[1]

from mlops_platform.harness import StackPlan, default_stacks, plan_serving, plan_stacks

PLANTS = ["wolfsburg", "emden", "zwickau", "kassel", "salzgitter", "hanover", "ingolstadt", "neckarsulm", "dresden", "brunswick"]
USE_CASES = ["pm", "qa", "en", "vi"]
#: Stack bound of issue #16: no stack above this at 100 projects.
MAX_STACK_RESOURCES = 2000
#: Studio rejects lifecycle configuration content above this (base64).
MAX_LIFECYCLE_CONTENT = 16384
#: Inputs that hold an IAM or resource policy document.
DOCUMENT_INPUTS = ("policy", "assumeRolePolicy", "inlinePolicy")
LIFECYCLE_TYPE = "aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig"


def project_name(index: int) -> str:
    """``<plant>-<use case>-<nnn>``: unique, valid as a project name, realistic in length."""
    return f"{PLANTS[index % len(PLANTS)][:6]}-{USE_CASES[index % len(USE_CASES)]}-{index:03d}"


def _data_set(index: int, template: dict[str, Any]) -> dict[str, Any]:
    """A copy of the committed data set (its columns feed the seed pipeline) under a new name."""
    return {
        "name": f"{template['name']}_{index:02d}",
        "location": f"{template['location'].rstrip('/')}-{index:02d}/",
        "columns": template["columns"],
    }


def _project(index: int, data_sets: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    project: dict[str, Any] = {
        "name": project_name(index),
        "description": f"Use case {index} at {PLANTS[index % len(PLANTS)]}",
        "metricThreshold": 0.5,
        "dataAccess": [
            {
                "dataSet": data_sets[index % len(data_sets)]["name"],
                "columns": columns,
                "rowFilter": f"plant = '{PLANTS[index % len(PLANTS)]}'",
            }
        ],
    }
    if index % 3 == 0:
        project["serving"] = {"prod": {"batchInference": True, "privateApi": True, "modelMonitor": True}}
    return project


def _people(projects: int, scientists: int, leads: int, lead_projects: int) -> list[dict[str, Any]]:
    """``leads`` leads with ``lead_projects`` projects each (consecutive, wrapping), the others in 1-3.

    Membership depends only on the project count, not on which size is asked for first, and the
    same people exist at every size (their projects wrap), so growth shows only with projects.
    """
    people = []
    for index in range(scientists):
        if index < leads:
            start = index * max(1, projects // max(1, leads))
            members = [(start + k) % projects for k in range(min(lead_projects, projects))]
            persona = "lead"
        else:
            start = index * 7
            members = [(start + k * 13) % projects for k in range(1 + index % 3)]
            persona = ("scientist", "ml_engineer")[index % 2]
        names = sorted({project_name(i) for i in members})
        people.append({"name": f"user-{index:02d}", "persona": persona, "projects": names})
    return people


def scale_organization(
    projects: int = 100,
    *,
    scientists: int = 60,
    leads: int = 10,
    lead_projects: int = 20,
    data_sets: int = 10,
    base: Path = REPO_ROOT / "organization.yaml",
) -> dict[str, Any]:
    """The committed organisation with generated projects, people and data sets (a plain mapping
    in ``organization.yaml``'s shape; accounts, tags, identity, operators and workspace kept)."""
    organization = yaml.safe_load(base.read_text())
    template = organization["dataSets"][0]
    columns = next(a["columns"] for p in organization["modelProjects"] for a in p.get("dataAccess", []) if a.get("columns"))
    organization["dataSets"] = [_data_set(i, template) for i in range(data_sets)]
    organization["modelProjects"] = [_project(i, organization["dataSets"], columns) for i in range(projects)]
    organization["dataScientists"] = _people(projects, scientists, leads, lead_projects)
    return organization


def write_scale_root(root: Path, organization: dict[str, Any], source: Path = REPO_ROOT) -> Path:
    """A project directory: the organisation, the committed stack files, links to the programs."""
    root.mkdir(parents=True, exist_ok=True)
    for path in source.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    for program in ("platform", "serving"):
        link = root / program
        if not link.exists():
            link.symlink_to(source / program, target_is_directory=True)
    (root / "organization.yaml").write_text(yaml.safe_dump(organization, sort_keys=False))
    return root


# ---- measurements ------------------------------------------------------------------------------


def _owner(plan: StackPlan, names: Iterable[str]) -> dict[str, str | None]:
    """URN -> the project or person a resource belongs to (its name or an ancestor's names it)."""
    names = sorted(names, key=len, reverse=True)
    by_urn = {r.urn: r for r in plan.resources}
    owners: dict[str, str | None] = {}

    def owner(urn: str) -> str | None:
        if urn not in owners:
            record = by_urn[urn]
            own = next((n for n in names if f"-{n}-" in f"-{record.name}-"), None)
            owners[urn] = own or (owner(record.parent) if record.parent in by_urn else None)
        return owners[urn]

    for record in plan.resources:
        owner(record.urn)
    return owners


def shared_documents(plans: dict[str, StackPlan], owners: Iterable[str]) -> dict[str, int]:
    """``<stack>:<resource>.<input>`` -> size in characters (whitespace not counted) of every policy
    document of a resource that belongs to no project and no person."""
    owners = list(owners)
    sizes = {}
    for stack, plan in plans.items():
        owned = _owner(plan, owners)
        for record in plan.resources:
            if owned[record.urn] is not None:
                continue
            for key in DOCUMENT_INPUTS:
                value = record.inputs.get(key)
                if isinstance(value, str) and value.lstrip().startswith("{"):
                    sizes[f"{stack}:{record.name}.{key}"] = len("".join(value.split()))
    return sizes


def lifecycle_sizes(plan: StackPlan) -> dict[str, int]:
    """Studio lifecycle configuration -> its content's size (base64, as Studio counts it)."""
    return {r.name: len(r.inputs.get("studioLifecycleConfigContent", "")) for r in plan.of_type(LIFECYCLE_TYPE)}


def _fingerprint(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def changed_resources(before: dict[str, StackPlan], after: dict[str, StackPlan]) -> dict[str, list[str]]:
    """Per stack the URNs that exist in both plans with different inputs (what an update touches)."""
    changed = {}
    for stack, plan in after.items():
        old = {r.urn: _fingerprint(r.inputs) for r in before[stack].resources} if stack in before else {}
        changed[stack] = sorted(r.urn for r in plan.resources if r.urn in old and old[r.urn] != _fingerprint(r.inputs))
    return changed


def plan_organization(root: Path, organization: dict[str, Any], stacks: list[str] | None = None,
                      parallel: bool = False) -> dict[str, StackPlan]:
    """Plan ``organization``'s stacks (``parallel``: in two worker processes, as `mlops-platform plan` does)."""
    write_scale_root(root, organization)
    return plan_stacks(stacks or default_stacks(root), root=root, parallel=parallel)


def owners_of(organization: dict[str, Any]) -> list[str]:
    """Every project and person name (what per-project and per-person resources are named after)."""
    return [p["name"] for p in organization["modelProjects"]] + [
        p["name"] for p in [*organization.get("dataScientists", []), *organization.get("operators", [])]
    ]


def onboarding(projects: int, **people: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The organisation before and after project ``projects + 1`` joins (no one's membership
    changes: a new project has no members yet)."""
    before = scale_organization(projects, **people)
    after = scale_organization(projects + 1, **people)
    after["dataScientists"] = before["dataScientists"]
    return before, after


def blast_radius(workdir: Path, projects: int, parallel: bool = False, **people: int) -> dict[str, list[str]]:
    """Existing resources whose inputs change when project ``projects + 1`` is onboarded."""
    before, after = onboarding(projects, **people)
    return changed_resources(
        plan_organization(workdir / f"blast-{projects}", before, parallel=parallel),
        plan_organization(workdir / f"blast-{projects}-plus-one", after, parallel=parallel),
    )


# ---- the benchmark -------------------------------------------------------------------------------


@dataclass
class Report:
    lines: list[str]

    def add(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


def _peak_mb() -> float:
    """The largest process's peak RSS: this one or a planning worker."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def _plan_at_scale(out: Report, workdir: Path, projects: int, serving_sample: int) -> dict[str, StackPlan]:
    organization = scale_organization(projects)
    start = time.perf_counter()
    plans = plan_organization(workdir / f"scale-{projects}", organization, parallel=True)
    elapsed = time.perf_counter() - start
    total = sum(len(p.resources) for p in plans.values())
    out.add(f"## {projects} projects, {len(organization['dataScientists'])} data scientists, {len(organization['dataSets'])} data sets")
    out.add(f"platform stacks planned in {elapsed:.1f} s, {total} resources, peak RSS {_peak_mb():.0f} MB")
    for stack, plan in sorted(plans.items()):
        flag = "" if len(plan.resources) <= MAX_STACK_RESOURCES else f"  ABOVE {MAX_STACK_RESOURCES}"
        out.add(f"  {stack:<20} {len(plan.resources):>6} resources{flag}")
    served = [p["name"] for p in organization["modelProjects"] if p.get("serving")][:serving_sample]
    start = time.perf_counter()
    for name in served:
        plan = plan_serving(f"{name}-prod", root=workdir / f"scale-{projects}")
        out.add(f"  serving {name}-prod: {len(plan.resources)} resources")
    if served:
        out.add(f"serving sample planned in {time.perf_counter() - start:.1f} s, peak RSS {_peak_mb():.0f} MB")
    largest = max(lifecycle_sizes(plans["exp"]).items(), key=lambda kv: kv[1]) if "exp" in plans else None
    if largest:
        out.add(f"largest Studio lifecycle configuration: {largest[0]} {largest[1]} of {MAX_LIFECYCLE_CONTENT} bytes")
    return plans


def _shared_document_table(out: Report, workdir: Path, sizes_at: list[int], plans_at: dict[int, dict[str, StackPlan]]) -> None:
    tables = {}
    for projects in sizes_at:
        organization = scale_organization(projects)
        plans = plans_at.get(projects) or plan_organization(workdir / f"scale-{projects}", organization, parallel=True)
        tables[projects] = shared_documents(plans, owners_of(organization))
    keys = sorted(set().union(*tables.values()))
    grown = [k for k in keys if len({tables[n].get(k) for n in sizes_at}) > 1]
    out.add(f"## shared documents: {len(keys)}, sizes at {', '.join(map(str, sizes_at))} projects (non-whitespace characters)")
    for key in grown or keys[:0]:
        out.add(f"  GROWS {key}: " + " / ".join(str(tables[n].get(key, "-")) for n in sizes_at))
    largest = sorted(keys, key=lambda k: -max(tables[n].get(k, 0) for n in sizes_at))[:10]
    for key in largest:
        out.add(f"  {key}: " + " / ".join(str(tables[n].get(key, "-")) for n in sizes_at))
    out.add(f"{len(grown)} shared document(s) grow with the number of projects")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--serving-sample", type=int, default=3)
    parser.add_argument("--sizes", default="2,50", help="smaller sizes for the shared-document table")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / ".plan-cache" / "scale")
    args = parser.parse_args()
    out = Report([])
    plans = _plan_at_scale(out, args.workdir, args.projects, args.serving_sample)
    sizes = sorted({*(int(n) for n in args.sizes.split(",") if n), args.projects})
    _shared_document_table(out, args.workdir, sizes, {args.projects: plans})
    for projects in (2, args.projects):
        changed = blast_radius(args.workdir, projects, parallel=True)
        total = sum(len(urns) for urns in changed.values())
        per_stack = ", ".join(f"{stack} {len(urns)}" for stack, urns in sorted(changed.items()) if urns)
        out.add(f"blast radius of project {projects + 1}: {total} existing resource(s) change ({per_stack or 'none'})")


if __name__ == "__main__":
    main()
