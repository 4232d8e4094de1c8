"""The pack as the Pulumi CLI runs it: the entry point starts, and the policy server reports our rules.

The server path uses pulumi-policy's private ``_PolicyAnalyzerServicer`` (pinned at 1.21.0), the
same object ``PolicyPack`` serves over gRPC, so enforcement levels, config and the unknown-value
proxy are the real ones.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from mlops_guard.normalize import UNKNOWN
from mlops_guard.registry import PACK_NAME, crossguard_policies
from mlops_core.paths import REPO_ROOT

from .conftest import GOLDEN

KEY = "aws:kms/key:Key"


def test_pack_entry_point_starts_and_prints_its_port() -> None:
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "policies" / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT / "policies",
    )
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=60)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    assert first.strip().isdigit(), f"the pack did not print a port: {first!r}; stderr: {stderr.decode()[-2000:]}"
    assert 0 < int(first) < 65536


def _servicer(config: dict | None = None) -> _PolicyAnalyzerServicer:
    """The analyzer, configured the way the CLI configures it from --policy-pack-config."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "1.0.0", crossguard_policies(), EnforcementLevel.MANDATORY)
    if config:
        levels = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "disabled": proto.DISABLED}
        request = proto.ConfigureAnalyzerRequest()
        for name, entry in config.items():
            properties = struct_pb2.Struct()
            properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
            request.policyConfig[name].CopyFrom(
                proto.PolicyConfig(enforcementLevel=levels[entry.get("enforcementLevel", "mandatory")], properties=properties)
            )
        servicer.Configure(request, None)
    return servicer


def _analyze(type_token: str, props: dict, config: dict | None = None):
    properties = struct_pb2.Struct()
    properties.update(props)
    request = proto.AnalyzeRequest(type=type_token, name="key", urn=f"urn:pulumi:dev::p::{type_token}::key", properties=properties)
    return _servicer(config).Analyze(request, None)


def test_server_passes_the_golden_key() -> None:
    response = _analyze(KEY, GOLDEN[KEY])
    assert not response.diagnostics, [d.message for d in response.diagnostics]


def test_server_reports_a_mandatory_violation() -> None:
    response = _analyze(KEY, {**GOLDEN[KEY], "enableKeyRotation": False})
    found = [d for d in response.diagnostics if d.policyName == "kms-key-rotation-enabled"]
    assert found, "kms-key-rotation-enabled did not fire through the policy server"
    assert found[0].enforcementLevel == proto.MANDATORY


def test_server_turns_not_evaluated_into_an_advisory_preview_diagnostic() -> None:
    response = _analyze(KEY, {**GOLDEN[KEY], "enableKeyRotation": UNKNOWN})
    found = [d for d in response.diagnostics if d.policyName == "kms-key-rotation-enabled"]
    assert found and found[0].enforcementLevel == proto.ADVISORY
    assert "during preview" in found[0].message


def test_server_applies_the_policy_config_enforcement_level() -> None:
    config = {"kms-key-rotation-enabled": {"enforcementLevel": "advisory"}}
    response = _analyze(KEY, {**GOLDEN[KEY], "enableKeyRotation": False}, config)
    found = [d for d in response.diagnostics if d.policyName == "kms-key-rotation-enabled"]
    assert found and found[0].enforcementLevel == proto.ADVISORY


def test_server_runs_stack_policies_over_property_dependencies() -> None:
    bucket_urn = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::data"
    properties = struct_pb2.Struct()
    properties.update({"bucket": "data-bucket"})
    request = proto.AnalyzeStackRequest(
        resources=[proto.AnalyzerResource(type="aws:s3/bucket:Bucket", name="data", urn=bucket_urn, properties=properties)]
    )
    response = _servicer().AnalyzeStack(request, None)
    policies = {d.policyName for d in response.diagnostics}
    assert "s3-bucket-encrypted-with-kms" in policies and "s3-bucket-has-public-access-block" in policies
    messages = [d.message for d in response.diagnostics if d.policyName == "s3-bucket-encrypted-with-kms"]
    assert any("data: the bucket has no server-side encryption" in m for m in messages), messages


def test_server_uses_schema_defaults_and_configured_values() -> None:
    log_group = "aws:cloudwatch/logGroup:LogGroup"
    short = {**GOLDEN[log_group], "retentionInDays": 90}
    default = [d for d in _analyze(log_group, short).diagnostics if d.policyName == "cloudwatch-log-retention"]
    relaxed = _analyze(log_group, short, {"cloudwatch-log-retention": {"minimumRetentionDays": 30}})
    assert default, "the 365-day default did not apply"
    assert not [d for d in relaxed.diagnostics if d.policyName == "cloudwatch-log-retention"]
