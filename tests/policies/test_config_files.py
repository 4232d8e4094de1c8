"""Policy configuration: committed per-role files equal the generated ones; exceptions documented."""

from __future__ import annotations

import json
import re

import pytest

from mlops_core.paths import REPO_ROOT
from mlops_core.roles import STACK_ROLES as ROLES
from mlops_guard.config import PolicyConfigError, apply_defaults, load_pack_config, parse_pack_config
from mlops_guard.registry import BY_NAME
from mlops_platform.policy_config import generate_all, role_for_stack

EXCEPTIONS_MD = REPO_ROOT / "README.md"  # the README lists every advisory exception with its reason


def test_committed_policy_configs_match_the_generator() -> None:
    generated = generate_all(REPO_ROOT)
    for path, content in generated.items():
        name = path.relative_to(REPO_ROOT)
        assert path.exists(), f"{name} is missing; run `python -m mlops_platform.policy_config`"
        assert path.read_text(encoding="utf-8") == content, f"{name} differs from the generated config; regenerate it"


def test_there_is_one_config_file_per_role() -> None:
    generated = sorted(path.relative_to(REPO_ROOT).as_posix() for path in generate_all(REPO_ROOT))
    assert generated == sorted(f"policies/config/{role}.json" for role in ROLES)


def _documented_exceptions() -> set[tuple[str, str]]:
    rows = set()
    section = EXCEPTIONS_MD.read_text(encoding="utf-8").split("## Advisory exceptions", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        match = re.match(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*([a-z, ]+)\s*\|\s*(.+?)\s*\|$", line)
        if match:
            assert match.group(3), f"exception for {match.group(1)} has no reason"
            rows |= {(match.group(1), role.strip()) for role in match.group(2).split(",")}
    return rows


def _advisory_in_files() -> set[tuple[str, str]]:
    found = set()
    for role in ROLES:
        document = json.loads((REPO_ROOT / f"policies/config/{role}.json").read_text(encoding="utf-8"))
        assert document.get("all") == "mandatory", f"policies/config/{role}.json: default enforcement must be mandatory"
        for name, entry in document.items():
            if isinstance(entry, dict) and entry.get("enforcementLevel") == "advisory":
                found.add((name, role))
            if isinstance(entry, str) and entry != "mandatory":
                found.add((name, role))
    return found


def test_every_advisory_exception_is_documented_with_a_reason() -> None:
    documented = _documented_exceptions()
    assert documented, "README.md lists no advisory exception (the table could not be read)"
    assert _advisory_in_files() == documented


def test_serving_stacks_use_their_stage_config() -> None:
    assert role_for_stack("churn-prod") == "prod"
    assert role_for_stack("churn-int") == "int"
    assert role_for_stack("sandbox") is None


def test_defaults_are_applied_offline() -> None:
    values = apply_defaults(BY_NAME["cloudwatch-log-retention"], {})
    assert values["minimumRetentionDays"] == 365


def test_configured_value_overrides_the_default() -> None:
    values = apply_defaults(BY_NAME["cloudwatch-log-retention"], {"minimumRetentionDays": 400})
    assert values["minimumRetentionDays"] == 400


def test_a_wrongly_typed_config_value_is_rejected_in_one_line() -> None:
    with pytest.raises(PolicyConfigError) as error:
        parse_pack_config({"cloudwatch-log-retention": {"minimumRetentionDays": "a year"}}, "cfg.json")
    assert "cfg.json" in str(error.value) and "minimumRetentionDays" in str(error.value)
    assert "\n" not in str(error.value)


def test_an_unknown_policy_name_is_rejected() -> None:
    with pytest.raises(PolicyConfigError, match="unknown policy 'no-such-policy'"):
        parse_pack_config({"no-such-policy": "advisory"}, "cfg.json")


def test_an_unknown_enforcement_level_is_rejected() -> None:
    with pytest.raises(PolicyConfigError, match="unknown enforcement level 'strict'"):
        parse_pack_config({"all": "strict"}, "cfg.json")


def test_a_malformed_config_file_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="not valid JSON"):
        load_pack_config(path)


def test_level_resolution_follows_the_policy_server() -> None:
    config = parse_pack_config({"all": "advisory", "kms-key-rotation-enabled": {"enforcementLevel": "disabled"}}, "x")
    assert config.level("kms-key-rotation-enabled") == "disabled"
    assert config.level("efs-encrypted") == "advisory"


def test_generated_config_lists_platform_accounts_and_regional_sagemaker_registries() -> None:
    from mlops_platform.policy_config import generate_policy_config

    document = generate_policy_config("dev", {"dev": "111111111111"}, "eu-west-1")
    registries = document["sagemaker-image-approved-registry"]["approvedImageRegistries"]
    assert "111111111111.dkr.ecr.eu-west-1.amazonaws.com" in registries
    assert "685385470294.dkr.ecr.eu-west-1.amazonaws.com" in registries  # xgboost's eu-west-1 account
    assert all(".eu-west-1." in r for r in registries)


def test_privileged_codebuild_is_allowed_only_for_the_image_builders_of_res() -> None:
    from mlops_platform.policy_config import generate_policy_config

    accounts = {"res": "333333333333"}
    res = generate_policy_config("res", accounts, "eu-central-1", ["mlops-image-build"])
    dev = generate_policy_config("dev", accounts, "eu-central-1", ["mlops-image-build"])
    assert res["codebuild-project-hardened"]["privilegedProjects"] == ["mlops-image-build"]
    assert "codebuild-project-hardened" not in dev
