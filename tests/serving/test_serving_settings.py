"""Serving settings: stage defaults, model overrides, deployer config, endpoint names (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.batch_inference import transform_state_machine_definition
from mlops_core.config import STAGES, ConfigError, OrganizationConfig, load_organization
from mlops_core.naming import endpoint_name

ORG = load_organization()


def org_with(**changes) -> OrganizationConfig:
    data = ORG.model_dump(by_alias=True)
    data.update(changes)
    return OrganizationConfig.model_validate(data)


# ---- committed stage defaults ---------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_committed_stage_defaults_validate(serving_settings_module, stage) -> None:
    serving_settings_module.load_stage_defaults(stage)


def test_prod_defaults_enable_all_three_extensions(serving_settings_module) -> None:
    extensions = serving_settings_module.load_stage_defaults("prod").extensions
    assert (extensions.batch_inference, extensions.private_api, extensions.model_monitor) == (True, True, True)


def test_only_prod_defaults_autoscale(serving_settings_module) -> None:
    scaling = {stage: serving_settings_module.load_stage_defaults(stage).autoscaling.enabled for stage in STAGES}
    assert scaling == {"dev": False, "int": False, "prod": True}, scaling


def test_bad_stage_defaults_name_file_and_key(serving_settings_module, tmp_path: Path) -> None:
    data = yaml.safe_load((serving_settings_module.STAGES_DIR / "prod.yaml").read_text())
    data["autoscaling"]["minCapacity"] = 9
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        serving_settings_module.load_stage_defaults("prod", tmp_path)
    assert str(caught.value) == "serving/stages/prod.yaml: autoscaling: minCapacity 9 exceeds maxCapacity 6", str(caught.value)


def test_unknown_key_in_stage_defaults_is_refused(serving_settings_module, tmp_path: Path) -> None:
    data = yaml.safe_load((serving_settings_module.STAGES_DIR / "dev.yaml").read_text())
    data["instanceCount"] = 3
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"^serving/stages/dev.yaml: instanceCount: unknown key$"):
        serving_settings_module.load_stage_defaults("dev", tmp_path)


# ---- merging ---------------------------------------------------------------------------------------


def test_model_overrides_replace_stage_defaults(serving_settings_module) -> None:
    projects = ORG.model_dump(by_alias=True)["modelProjects"]
    projects[1]["serving"] = {"dev": {"instanceType": "ml.c5.xlarge", "privateApi": True, "maxCapacity": 4}}
    settings = serving_settings_module.resolve_settings("spot-weld-qa-dev", {}, org_with(modelProjects=projects))
    assert settings.defaults.instance_type == "ml.c5.xlarge"
    assert settings.extensions.private_api is True
    assert settings.defaults.autoscaling.max_capacity == 4


def test_override_that_breaks_a_rule_names_organization_yaml(serving_settings_module) -> None:
    projects = ORG.model_dump(by_alias=True)["modelProjects"]
    projects[0]["serving"] = {"prod": {"maxCapacity": 1}}
    with pytest.raises(ConfigError) as caught:
        serving_settings_module.resolve_settings("weld-gun-pm-prod", {}, org_with(modelProjects=projects))
    assert str(caught.value).startswith("organization.yaml: modelProjects (weld-gun-pm).serving.prod"), str(caught.value)


def test_project_and_stage_come_from_the_stack_name(serving_settings_module) -> None:
    settings = serving_settings_module.resolve_settings("spot-weld-qa-int", {}, ORG)
    assert (settings.project, settings.stage, settings.platform_stack) == ("spot-weld-qa", "int", "int")


def test_config_keys_override_the_stack_name(serving_settings_module) -> None:
    config = {"serving:project": "weld-gun-pm", "serving:stage": "prod", "serving:platformStack": "prod-eu"}
    settings = serving_settings_module.resolve_settings("pm-canary", config, ORG)
    assert (settings.project, settings.stage, settings.platform_stack) == ("weld-gun-pm", "prod", "prod-eu")


def test_unknown_project_is_one_line(serving_settings_module) -> None:
    with pytest.raises(ConfigError, match=r"serving:project: unknown model project 'paint-qa'"):
        serving_settings_module.resolve_settings("paint-qa-dev", {}, ORG)


def test_autoscaling_switch_off_deactivates_scaling(serving_settings_module) -> None:
    settings = serving_settings_module.resolve_settings("weld-gun-pm-prod", {"serving:autoscalingEnabled": "false"}, ORG)
    assert settings.defaults.autoscaling.enabled is True and settings.autoscaling_active is False


# ---- endpoint names -------------------------------------------------------------------------------


def test_endpoint_names_are_unique_across_projects_and_stages() -> None:
    names = [endpoint_name(ORG, p.name, stage) for p in ORG.model_projects for stage in STAGES]
    assert len(set(names)) == len(names), names


def test_endpoint_names_fit_sagemakers_limit() -> None:
    for project in ORG.model_projects:
        for stage in STAGES:
            name = endpoint_name(ORG, project.name, stage)
            assert len(name) <= 63, name


def test_longest_names_the_schema_allows_fit_63_characters() -> None:
    longest = "p" * 22  # ProjectName: at most 22 characters; platformName: at most 32
    projects = [*ORG.model_dump(by_alias=True)["modelProjects"], {"name": longest}]
    org = org_with(platformName="a" * 32, modelProjects=projects)
    assert len(endpoint_name(org, longest, "prod")) <= 63


def test_a_name_over_63_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds SageMaker's 63 characters"):
        endpoint_name(org_with(platformName="a" * 32), "x" * 40, "prod")


def test_too_long_serving_bucket_name_is_a_config_error(serving_settings_module) -> None:
    projects = [*ORG.model_dump(by_alias=True)["modelProjects"], {"name": "p" * 22}]
    org = org_with(platformName="a" * 32, modelProjects=projects)
    with pytest.raises(ConfigError, match=r"^serving stack p{22}-prod: serving:project: bucket name .* exceeds 63"):
        serving_settings_module.resolve_settings(f"{'p' * 22}-prod", {}, org)


# ---- batch state machine definition ---------------------------------------------------------------


def definition(**changes):
    args = dict(
        model_name="m", job_name_prefix="weld-gun-pm-", input_s3_uri="s3://in/input/", output_s3_uri="s3://out/output/",
        kms_key_arn="arn:aws:kms:eu-central-1:666666666666:key/k", instance_type="ml.m5.large", instance_count=1,
        content_type="text/csv",
    )
    args.update(changes)
    return transform_state_machine_definition(**args)


def test_transform_job_names_fit_63_characters() -> None:
    with pytest.raises(ValueError, match="leaves no room for a UUID"):
        definition(job_name_prefix="x" * 28)


def test_nvme_transform_omits_the_volume_key() -> None:
    resources = definition(volume_kms=False)["States"]["Transform"]["Parameters"]["TransformResources"]
    assert "VolumeKmsKeyId" not in resources, resources
