"""Readers for the model build pipeline resources of a planned EXP stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mlops_platform.harness import ResourceRecord, StackPlan

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
COMPONENT = "mlops:pipelines:ModelBuildPipeline"


def component_name(project: str) -> str:
    return f"exp-{project}-build"


def children(plan: StackPlan, project: str, type_token: str | None = None) -> list[ResourceRecord]:
    """Resources declared inside the project's ModelBuildPipeline component (at any depth)."""
    by_urn = {r.urn: r for r in plan.resources}
    component = one([r for r in plan.resources if r.type == COMPONENT and r.name == component_name(project)], f"component of {project}")

    def inside(record: ResourceRecord) -> bool:
        parent = record.parent
        while parent is not None:
            if parent == component.urn:
                return True
            parent = by_urn[parent].parent if parent in by_urn else None
        return False

    return [r for r in plan.resources if inside(r) and (type_token is None or r.type == type_token)]


def one(records: list[ResourceRecord], what: str) -> ResourceRecord:
    assert len(records) == 1, f"expected one {what}, found {[r.urn for r in records]}"
    return records[0]


def pipeline_of(plan: StackPlan, project: str) -> ResourceRecord:
    return one(children(plan, project, PIPELINE), f"pipeline of project {project}")


def definition_of(record: ResourceRecord) -> dict[str, Any]:
    return json.loads(record.inputs["pipelineDefinition"])


def document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def all_steps(steps: list[dict]) -> Iterator[dict]:
    """Every step, including those nested in condition branches."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from all_steps(step["Arguments"].get("IfSteps", []))
            yield from all_steps(step["Arguments"].get("ElseSteps", []))


def step_of_type(definition: dict, step_type: str, index: int = 0) -> dict:
    return [s for s in all_steps(definition["Steps"]) if s["Type"] == step_type][index]


def role_documents(plan: StackPlan, role_name: str) -> list[dict[str, Any]]:
    """Inline policy documents attached to a role (RolePolicy ``role`` input is the role's name)."""
    return [document(r.inputs["policy"]) for r in plan.of_type(ROLE_POLICY) if r.inputs.get("role") == role_name]


def combined(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}


def matches_pattern(pattern: Any, event: Any) -> bool:
    """EventBridge matching for value lists and nested objects (what the failure rule uses)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(key in event and matches_pattern(value, event[key]) for key, value in pattern.items())
    if isinstance(pattern, list):
        return event in pattern
    return pattern == event
