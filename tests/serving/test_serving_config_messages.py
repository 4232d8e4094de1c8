"""Serving stack config errors read like the platform's: what a valid value looks like, never the
raw regular expression."""

from __future__ import annotations

import pytest

from mlops_core.config import ConfigError, load_organization


def test_a_bad_model_package_arn_is_explained_without_a_pattern(serving_settings_module) -> None:
    with pytest.raises(ConfigError) as caught:
        serving_settings_module.resolve_settings(
            "weld-gun-pm-dev", {"serving:modelPackageArn": "not-an-arn"}, load_organization())
    message = str(caught.value)
    assert "serving:modelPackageArn" in message and "versioned model package ARN" in message, message
    assert "^" not in message and "\\d" not in message, f"raw pattern in {message!r}"


def test_every_problem_of_a_serving_stack_config_is_reported(serving_settings_module) -> None:
    with pytest.raises(ConfigError) as caught:
        serving_settings_module.resolve_settings(
            "weld-gun-pm-dev", {"serving:modelPackageArn": "not-an-arn", "serving:baselineStatisticsUri": "nope"},
            load_organization())
    lines = str(caught.value).splitlines()
    assert any("serving:modelPackageArn" in l for l in lines) and any("serving:baselineStatisticsUri" in l for l in lines), lines
