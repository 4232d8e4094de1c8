"""Studio's lifecycle configuration: SDK defaults that pass the guardrails, pip through CodeArtifact."""

from __future__ import annotations

import base64
import subprocess

import jsonschema
import pytest
import yaml
from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

from components.studio import TOKEN_RENEWAL_SECONDS, CodeArtifactLogin, SdkDefaults, lifecycle_script, sdk_config
from exp_helpers import by_name

DEFAULTS = SdkDefaults(
    bucket="mlops-weld-gun-pm-art-222222222222-eu-central-1",
    key_prefix="users/bob",
    kms_key_arn="arn:aws:kms:eu-central-1:222222222222:key/11111111-2222-3333-4444-555555555555",
    subnet_ids=["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
    security_group_ids=["sg-0a1b2c3d4e5f60718"],
    role_arn="arn:aws:iam::222222222222:role/mlops-project-weld-gun-pm",
)
LOGIN = CodeArtifactLogin(domain="mlops", domain_owner="222222222222", repository="team", region="eu-central-1")


def test_sdk_config_is_valid_for_the_installed_sdk() -> None:
    jsonschema.validate(sdk_config(DEFAULTS), SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


def test_sdk_default_bucket_is_the_project_bucket() -> None:
    assert sdk_config(DEFAULTS)["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"] == DEFAULTS.bucket


@pytest.mark.parametrize("job", ["TrainingJob", "ProcessingJob"])
def test_sdk_jobs_default_to_network_isolation_and_encryption(job) -> None:
    settings = sdk_config(DEFAULTS)["SageMaker"][job]
    network = settings.get("NetworkConfig", settings)
    assert network["EnableNetworkIsolation"] is True and network["EnableInterContainerTrafficEncryption"] is True, settings
    assert network["VpcConfig"] == {"SecurityGroupIds": DEFAULTS.security_group_ids, "Subnets": DEFAULTS.subnet_ids}, settings


def test_sdk_training_defaults_to_the_project_key_for_volumes_and_output() -> None:
    training = sdk_config(DEFAULTS)["SageMaker"]["TrainingJob"]
    assert training["ResourceConfig"]["VolumeKmsKeyId"] == training["OutputDataConfig"]["KmsKeyId"] == DEFAULTS.kms_key_arn


def test_lifecycle_script_is_valid_bash() -> None:
    script = lifecycle_script({"weld-gun-pm": sdk_config(DEFAULTS)}, LOGIN)
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_lifecycle_script_logs_pip_into_codeartifact_and_renews_the_token() -> None:
    script = lifecycle_script({"weld-gun-pm": sdk_config(DEFAULTS)}, LOGIN)
    login = "aws codeartifact login --tool pip --domain mlops --domain-owner 222222222222 --repository team --region eu-central-1"
    assert script.count(login) == 2 and f"while sleep {TOKEN_RENEWAL_SECONDS}" in script, script
    assert TOKEN_RENEWAL_SECONDS < 12 * 3600


def test_lifecycle_script_writes_one_config_per_project_and_a_default() -> None:
    script = lifecycle_script({"weld-gun-pm": sdk_config(DEFAULTS), "spot-weld-qa": sdk_config(DEFAULTS)}, LOGIN)
    assert 'projects/spot-weld-qa.yaml' in script and 'projects/weld-gun-pm.yaml' in script
    assert 'cp "$CONFIG_DIR/projects/spot-weld-qa.yaml" "$CONFIG_DIR/config.yaml"' in script, script


def test_lifecycle_script_needs_a_project() -> None:
    with pytest.raises(ValueError, match="at least one project"):
        lifecycle_script({}, LOGIN)


def _written_config(script: str, project: str) -> dict:
    marker = f"projects/{project}.yaml\" <<'SDKCONFIG'\n"
    body = script.split(marker, 1)[1].split("\nSDKCONFIG", 1)[0]
    return yaml.safe_load(body)


def test_stack_lifecycle_config_defaults_to_the_users_project_bucket(exp_plan) -> None:
    record = by_name(exp_plan, "exp-studio-bob-lifecycle")
    script = base64.b64decode(record.inputs["studioLifecycleConfigContent"]).decode()
    config = _written_config(script, "weld-gun-pm")
    bucket = exp_plan.outputs["projectBuckets"]["weld-gun-pm"]
    assert config["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"] == bucket, record.urn
    assert config["SageMaker"]["TrainingJob"]["VpcConfig"]["Subnets"] == sorted(exp_plan.outputs["subnetIds"]), record.urn


def test_stack_lifecycle_config_is_for_jupyterlab(exp_plan) -> None:
    for record in exp_plan.of_type("aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig"):
        assert record.inputs["studioLifecycleConfigAppType"] == "JupyterLab", record.urn
