"""The guardrail pack's pipeline-definition policies pass on the built definition (and notice damage).

The policies are the guard engineer's (`policies/mlops_guard/rules/pipeline_definition.py`); this
only feeds them the definition this package builds, with their default configuration.
"""

from __future__ import annotations

import json

import pytest
from mlops_guard.model import Report, Resource
from mlops_guard.registry import ALL_POLICIES
from mlops_guard.rules.pipeline_definition import PIPELINE
from pipeline_helpers import step_named

from mlops_pipelines.definition import STEP_BASELINE, STEP_TRAIN


POLICIES = [guard for guard in ALL_POLICIES if guard.area == "pipeline_definition"]


def evaluate(definition_text: str) -> dict[str, Report]:
    resource = Resource(type=PIPELINE, name="pm-model-build", urn="urn:pulumi:exp::platform::pipeline", props={"pipelineDefinition": definition_text})
    reports = {}
    for guard in POLICIES:
        report = Report(default_urn=resource.urn, policy=guard.name)
        guard.check(resource, {key: schema["default"] for key, schema in guard.config.items()}, report)
        reports[guard.name] = report
    return reports


@pytest.mark.parametrize("policy_name", [guard.name for guard in POLICIES])
def test_policy_passes_on_the_built_definition(definition_json: str, athena_definition: dict, policy_name: str):
    for text in (definition_json, json.dumps(athena_definition)):
        report = evaluate(text)[policy_name]
        assert report.violations == [], [finding.message for finding in report.violations]
        assert report.not_evaluated == [], [finding.message for finding in report.not_evaluated]


def test_vpc_policy_notices_a_training_step_without_isolation(definition: dict):
    damaged = json.loads(json.dumps(definition))
    step_named(damaged, STEP_TRAIN)["Arguments"]["EnableNetworkIsolation"] = False
    messages = [finding.message for finding in evaluate(json.dumps(damaged))["sagemaker-pipeline-steps-in-vpc"].violations]
    assert any(STEP_TRAIN in message and "EnableNetworkIsolation" in message for message in messages), messages


def test_encryption_policy_notices_a_baseline_step_without_output_key(definition: dict):
    damaged = json.loads(json.dumps(definition))
    del step_named(damaged, STEP_BASELINE)["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    messages = [finding.message for finding in evaluate(json.dumps(damaged))["sagemaker-pipeline-steps-encrypted"].violations]
    assert any(STEP_BASELINE in message and "output KMS key" in message for message in messages), messages
