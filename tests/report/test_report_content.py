"""What report.html holds (read as text, no browser): every section a reviewer is promised, from the
plan and the check, self-contained; and the pieces behind it on hand-built inputs."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from mlops_guard.engine import GateResult, NotEvaluated, Violation
from mlops_guard.registry import ALL_POLICIES
from mlops_platform.account_flows import ACCESS, EVENTS, TRUST, account_flows
from mlops_platform.cli import app
from mlops_platform.harness import ResourceRecord, StackPlan
from mlops_platform.review_report import policy_counts

from report_helpers import ACCESS_JSON


def _role(name: str, trusted: str, account: str = "222222222222") -> ResourceRecord:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{trusted}:root"}, "Action": "sts:AssumeRole"}]}
    return ResourceRecord(f"urn:pulumi:exp::p::aws:iam/role:Role::{name}", "aws:iam/role:Role", name, True, None, None,
                          {"assumeRolePolicy": json.dumps(policy)})


def _plan(stack: str, account: str, records: list[ResourceRecord], role: str = "exp") -> StackPlan:
    return StackPlan(stack, role, "mlops-platform", records, {}, account, "eu-central-1")


def test_every_section_is_there(report_html: str) -> None:
    for anchor in ("accounts-section", "stacks", "policies", "findings", "access", "config"):
        assert f'id="{anchor}"' in report_html, f"report.html: section #{anchor} is missing"


def test_the_page_references_nothing_outside_itself(report_html: str) -> None:
    external = [m for m in re.findall(r'(?:src|href)="([^"]*)"', report_html) if not m.startswith("#")]
    assert not external, f"report.html: must load nothing at view time, references {external}"
    assert "<link" not in report_html and "@import" not in report_html, "report.html: external stylesheet"


def test_every_policy_is_listed_with_its_references(report_html: str) -> None:
    for gp in ALL_POLICIES:
        assert f"<code>{gp.name}</code>" in report_html, f"report.html: policy {gp.name} missing from the table"
    assert "securityhub:KMS.4" in report_html and "cis:3.6" in report_html, "report.html: references missing"


def test_the_access_results_of_the_given_file_are_shown(report_html: str) -> None:
    document = json.loads(ACCESS_JSON.read_text())
    for check in document["checks"]:
        assert html.escape(check["step"]) in report_html, f"report.html: access check {check['step']!r} missing"
    assert "status-fail" in report_html.split('id="access"', 1)[1], "report.html: the failed access check is not marked"


def test_the_config_it_was_made_from_is_included(report_html: str, platform_plans) -> None:
    # A model project's stack (exp.<project>) has no file: its config is its account stack's.
    for name in ("organization.yaml", *sorted({f"Pulumi.{stack.partition('.')[0]}.yaml" for stack in platform_plans})):
        assert f"<code>{name}</code>" in report_html, f"report.html: config file {name} missing"


def test_protected_resources_are_listed(report_html: str, platform_plans) -> None:
    protected = next(r for plan in platform_plans.values() for r in plan.resources if r.protect)
    assert protected.name in report_html.split('id="stacks"', 1)[1], f"report.html: protected {protected.name} missing"


def test_the_diagram_follows_the_plan_not_a_drawing() -> None:
    """A trust the plan declares becomes an arrow; one it does not declare is not drawn."""
    exp = _plan("exp", "222222222222", [_role("deploy", "333333333333")])
    res = _plan("res", "333333333333", [], role="res")
    accounts, flows = account_flows({"exp": exp, "res": res})
    assert [(f.source, f.target, f.kind) for f in flows] == [("333333333333", "222222222222", TRUST)], flows
    accounts, flows = account_flows({"exp": _plan("exp", "222222222222", []), "res": res})
    assert flows == [], "no trust declared, none drawn"


def test_resource_grants_and_event_targets_are_flows() -> None:
    bucket_policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:role/reader"}, "Action": "s3:GetObject", "Resource": "*"}]}
    records = [
        ResourceRecord("urn:b", "aws:s3/bucketPolicy:BucketPolicy", "artifacts-policy", True, None, None, {"policy": json.dumps(bucket_policy)}),
        ResourceRecord("urn:t", "aws:cloudwatch/eventTarget:EventTarget", "to-res", True, None, None,
                       {"arn": "arn:aws:events:eu-central-1:333333333333:event-bus/models"}),
    ]
    _, flows = account_flows({"exp": _plan("exp", "222222222222", records)})
    found = {(f.source, f.target, f.kind) for f in flows}
    assert ("444444444444", "222222222222", ACCESS) in found and ("222222222222", "333333333333", EVENTS) in found, found


def test_vpc_endpoint_perimeters_are_not_flows() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "*", "Resource": "*"}]}
    endpoint = ResourceRecord("urn:e", "aws:ec2/vpcEndpoint:VpcEndpoint", "s3", True, None, None, {"policy": json.dumps(policy)})
    _, flows = account_flows({"exp": _plan("exp", "222222222222", [endpoint])})
    assert flows == [], "an endpoint policy naming the platform accounts is a perimeter, not a flow"


def test_policy_counts_split_pass_fail_and_not_evaluated() -> None:
    keys = [ResourceRecord(f"urn:pulumi:exp::p::aws:kms/key:Key::k{i}", "aws:kms/key:Key", f"k{i}", True, None, None, {}) for i in range(3)]
    plan = _plan("exp", "222222222222", keys)
    result = GateResult(stacks=["exp"])
    result.violations = [Violation("kms-key-rotation-enabled", keys[0].urn, keys[0].type, "mandatory", "medium", "k0: no rotation", "exp")]
    result.not_evaluated = [NotEvaluated("kms-key-rotation-enabled", keys[1].urn, "k1: enableKeyRotation is not known until apply")]
    result.resource_urns = {k.urn for k in keys}
    counts = policy_counts({"exp": plan}, result, [("only", result)], {})
    assert counts["kms-key-rotation-enabled"] == {"applies": 3, "pass": 1, "fail": 1, "notEvaluated": 1}


def test_a_malformed_access_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "access.json"
    bad.write_text(json.dumps({"results": []}))
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "r.html"), "--access-json", str(bad)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "--access-json" in result.stderr and "'checks'" in result.stderr, result.stderr
    assert not (tmp_path / "r.html").exists(), "no page is written from bad input"


def test_only_the_access_check_that_went_the_other_way_is_marked_failed(report_html: str) -> None:
    section = report_html.split('id="access"', 1)[1].split('id="config"', 1)[0]
    assert section.count("status-fail") == 1 and section.count("status-pass") == 2, section[:2000]


def test_access_check_outcomes() -> None:
    from mlops_platform.review_report import access_check_failed

    assert access_check_failed({"expected": "Allowed", "result": "ImplicitlyDenied"})
    assert not access_check_failed({"expected": "ImplicitlyDenied", "result": "ExplicitlyDenied"}), "both deny"
    assert access_check_failed({"expected": "Allowed", "result": "Error"})
    assert access_check_failed({"passed": False, "expected": "Allowed", "result": "Allowed"}), "an explicit verdict wins"
