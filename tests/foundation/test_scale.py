"""The scale fixture's small variant: what must not grow with the number of projects.

``benchmarks/scale.py`` generates organisations of any size; here 2, 3, 12 and 13 projects with
the same six data scientists (a lead in every project), so only the projects differ.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from mlops_core.paths import REPO_ROOT
from mlops_platform.harness import ResourceRecord, StackPlan

PEOPLE = {"scientists": 6, "leads": 1, "lead_projects": 12}
#: Studio's limit for a lifecycle configuration's content (base64), from the SageMaker API reference.
STUDIO_LIFECYCLE_LIMIT = 16384


def _load_scale():
    spec = importlib.util.spec_from_file_location("scale", REPO_ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale"] = module
    spec.loader.exec_module(module)
    return module


scale = _load_scale()


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict]:
    """Plans of every platform stack at 2, 3, 12 and 13 projects (3 and 13: one project onboarded)."""
    workdir = tmp_path_factory.mktemp("scale")
    result = {}
    for projects in (2, 12):
        before, after = scale.onboarding(projects, **PEOPLE)
        result[projects] = scale.plan_organization(workdir / f"p{projects}", before)
        result[projects + 1] = scale.plan_organization(workdir / f"p{projects + 1}", after)
    return result


def test_generator_makes_the_asked_organisation() -> None:
    organization = scale.scale_organization(100)
    projects, people = organization["modelProjects"], organization["dataScientists"]
    leads = [p for p in people if p["persona"] == "lead"]
    assert len(projects) == 100 and len({p["name"] for p in projects}) == 100, "100 distinct projects"
    assert len(people) == 60 and len(organization["dataSets"]) == 10, (len(people), len(organization["dataSets"]))
    assert leads and all(len(p["projects"]) == 20 for p in leads), [len(p["projects"]) for p in leads]
    assert all(1 <= len(p["projects"]) <= 3 for p in people if p["persona"] != "lead"), "scientists in 1-3 projects"
    assert sum(bool(p.get("serving")) for p in projects) == 34, "serving with batch, API and monitor on a third"
    assert all(a.get("rowFilter") for p in projects for a in p["dataAccess"]), "every data access filters rows by plant"


def test_generated_organisation_is_valid(tmp_path: Path) -> None:
    from mlops_core.config import load_organization

    root = scale.write_scale_root(tmp_path, scale.scale_organization(100))
    assert len(load_organization(root).model_projects) == 100


def test_lead_in_twelve_projects_has_a_lifecycle_under_studios_limit(plans) -> None:
    sizes = scale.lifecycle_sizes(plans[12]["exp"])
    lead = "exp-studio-user-00-lifecycle"
    assert sizes[lead] < STUDIO_LIFECYCLE_LIMIT, f"{lead}: {sizes[lead]} bytes, Studio allows {STUDIO_LIFECYCLE_LIMIT}"


def test_lifecycle_does_not_grow_with_the_leads_projects(plans) -> None:
    at_2, at_12 = (scale.lifecycle_sizes(plans[n]["exp"])["exp-studio-user-00-lifecycle"] for n in (2, 12))
    assert at_2 == at_12, f"the lead's lifecycle grows from {at_2} (2 projects) to {at_12} bytes (12 projects)"


def test_shared_documents_are_the_same_size_at_2_and_12_projects(plans) -> None:
    owners = scale.owners_of(scale.scale_organization(12, **PEOPLE))
    at_2, at_12 = (scale.shared_documents(plans[n], owners) for n in (2, 12))
    assert at_2, "no shared documents found: the measurement sees nothing"
    grown = {key: (at_2.get(key), size) for key, size in at_12.items() if at_2.get(key) != size}
    assert not grown, f"shared documents that grow with projects (size at 2, at 12): {grown}"


def _plan_with(*records: ResourceRecord) -> dict[str, StackPlan]:
    return {"exp": StackPlan("exp", "exp", "mlops-platform", list(records), {})}


def _policy(name: str, document: dict) -> ResourceRecord:
    return ResourceRecord(f"urn:pulumi:exp::p::aws:iam/policy:Policy::{name}", "aws:iam/policy:Policy", name, True, None, None, {"policy": json.dumps(document)})


def test_shared_document_measurement_sees_a_document_that_lists_projects() -> None:
    # The checker can fail: a shared document naming every project is larger with more projects.
    sizes = [
        scale.shared_documents(_plan_with(_policy("exp-listing", {"Resource": [scale.project_name(i) for i in range(n)]})), [])
        for n in (2, 12)
    ]
    assert sizes[0]["exp:exp-listing.policy"] < sizes[1]["exp:exp-listing.policy"], sizes


def test_shared_document_measurement_leaves_out_a_projects_own_documents() -> None:
    own = _policy(f"exp-{scale.project_name(0)}-policy", {"Resource": ["a"]})
    assert scale.shared_documents(_plan_with(own), [scale.project_name(0)]) == {}, "a project's own policy is not shared"


def test_blast_radius_counts_an_existing_resource_whose_inputs_change() -> None:
    before, after = _policy("exp-shared", {"Resource": ["a"]}), _policy("exp-shared", {"Resource": ["a", "b"]})
    assert scale.changed_resources(_plan_with(before), _plan_with(after)) == {"exp": [after.urn]}


def test_onboarding_changes_the_same_number_of_resources_at_3_and_13_projects(plans) -> None:
    third = scale.changed_resources(plans[2], plans[3])
    thirteenth = scale.changed_resources(plans[12], plans[13])
    counts = {stack: (len(third[stack]), len(thirteenth[stack])) for stack in third}
    assert all(a == b for a, b in counts.values()), f"existing resources changed per stack (3rd, 13th project): {counts}"
