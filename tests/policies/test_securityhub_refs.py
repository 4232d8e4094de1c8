"""Every ``SH:<id>`` ref on a policy names a Security Hub CSPM control from AWS's user guide
(tools/securityhub_controls.yaml), and the FSBP coverage table (tools/fsbp_controls.yaml) lists exactly
that list's FSBP controls under AWS's titles."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import yaml

from mlops_core.paths import REPO_ROOT
from mlops_guard.define import PolicyRegister
from mlops_guard.registry import ALL_POLICIES


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass looks its module up while it is defined
    spec.loader.exec_module(module)
    return module


CONTROLS_TOOL = _tool("securityhub_controls")
CONTROLS = CONTROLS_TOOL.load()
FSBP_TABLE = yaml.safe_load((REPO_ROOT / "tools" / "fsbp_controls.yaml").read_text(encoding="utf-8"))["services"]
STANDARDS = {"AWS-FSBP", "AWS-AI-SBP", "CIS", "NIST.800-53.r5", "NIST.800-171.r2", "PCI-DSS"}
IDENTITY = {"control": "TEST-CONTROL", "description": "d", "severity": "high", "remediation": "r", "types": ("aws:s3/bucket:Bucket",)}


def test_every_cited_security_hub_control_is_in_the_list() -> None:
    unknown = CONTROLS_TOOL.unknown_refs(ALL_POLICIES, CONTROLS)
    assert not unknown, f"SH refs that are not Security Hub controls in tools/securityhub_controls.yaml: {unknown}"


def test_the_ref_check_reports_a_made_up_control_id() -> None:
    made_up = PolicyRegister().resource_policy(name="made-up-ref", refs=("SH:S3.17", "SH:S3.99"), **IDENTITY)(lambda *_: None)
    assert CONTROLS_TOOL.unknown_refs([made_up], CONTROLS) == ["made-up-ref: SH:S3.99"]


def test_the_pack_cites_security_hub_controls() -> None:
    assert len(CONTROLS_TOOL.cited(ALL_POLICIES)) >= 40, "the ref check saw almost no SH refs: is the framework name right?"


def test_every_control_is_filed_under_its_service() -> None:
    data = yaml.safe_load(CONTROLS_TOOL.DATA.read_text(encoding="utf-8"))
    wrong = [c for service, s in data["services"].items() for c in s["controls"] if c.split(".")[0] != service]
    assert not wrong, f"tools/securityhub_controls.yaml: controls filed under another service: {wrong}"


def test_every_control_names_known_standards() -> None:
    odd = {c.id: c.standards for c in CONTROLS.values() if not c.standards or set(c.standards) - STANDARDS}
    assert not odd, f"tools/securityhub_controls.yaml: controls without a standard, or with an unknown one: {odd}"


def test_the_fsbp_table_lists_exactly_the_fsbp_controls_of_the_list() -> None:
    mismatches = CONTROLS_TOOL.fsbp_table_mismatches(FSBP_TABLE, CONTROLS)
    assert not mismatches, f"tools/fsbp_controls.yaml disagrees with tools/securityhub_controls.yaml: {mismatches}"


def test_the_table_check_reports_a_missing_an_extra_and_a_retitled_control() -> None:
    table = {
        "KMS": {
            "KMS.1": {"title": CONTROLS["KMS.1"].title},
            "KMS.2": {"title": CONTROLS["KMS.2"].title},
            "KMS.3": {"title": "KMS keys are kept"},
            "KMS.4": {"title": CONTROLS["KMS.4"].title},
        }
    }
    assert CONTROLS_TOOL.fsbp_table_mismatches(table, CONTROLS) == [
        "KMS: KMS.5 is an FSBP control the table leaves out",
        "KMS: KMS.4 is not an FSBP control of securityhub_controls.yaml",
        f"KMS: KMS.3 is titled 'KMS keys are kept', AWS's title is {CONTROLS['KMS.3'].title!r}",
    ]
