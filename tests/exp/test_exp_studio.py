"""Studio's lifecycle configuration: SDK defaults that pass the guardrails, pip through CodeArtifact."""

from __future__ import annotations

import base64
import shlex
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

from components.studio import (
    SDK_CONFIG_KEY,
    TOKEN_RENEWAL_SECONDS,
    CodeArtifactLogin,
    SdkConfigSource,
    SdkDefaults,
    lifecycle_script,
    sdk_config,
)
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


SOURCE = SdkConfigSource(
    user="bob",
    region="eu-central-1",
    account_id="222222222222",
    object_url="s3://mlops-{project}-art-222222222222-eu-central-1/platform/sagemaker-sdk-config.yaml",
)


def test_lifecycle_script_is_valid_bash() -> None:
    script = lifecycle_script(SOURCE, LOGIN)
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_lifecycle_script_logs_pip_into_codeartifact_and_renews_the_token() -> None:
    script = lifecycle_script(SOURCE, LOGIN)
    login = "aws codeartifact login --tool pip --domain mlops --domain-owner 222222222222 --repository team --region eu-central-1"
    assert script.count(login) == 2 and f"while sleep {TOKEN_RENEWAL_SECONDS}" in script, script
    assert TOKEN_RENEWAL_SECONDS < 12 * 3600


def _run_start_script(tmp_path: Path, tag_value: str) -> Path:
    """Run the script with stand-ins for aws, python3 and sudo; returns the fake home."""
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(
        "#!/bin/bash\n"
        f'if [ "$1 $2" = "sagemaker list-tags" ]; then echo "$4" >> {tmp_path}/asked; printf "%b\\n" {shlex.quote(tag_value)}; exit 0; fi\n'
        'if [ "$1 $2" = "s3 cp" ]; then echo "url: $3"; echo "prefix: users/__STUDIO_USER__"; exit 0; fi\n'
        "exit 0\n"
    )
    (bin_dir / "python3").write_text("#!/bin/bash\necho d-abc123\n")
    (bin_dir / "sudo").write_text("#!/bin/bash\nexit 1\n")
    (bin_dir / "nohup").write_text("#!/bin/bash\nexit 0\n")  # no token-renewal loop left behind
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    script = lifecycle_script(SOURCE, LOGIN).replace("/home/sagemaker-user", str(home))
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return home / ".config" / "sagemaker"


def test_lifecycle_script_fetches_one_config_per_tagged_project_and_a_default(tmp_path: Path) -> None:
    config_dir = _run_start_script(tmp_path, "weld-gun-pm spot-weld-qa")
    written = sorted(p.name for p in (config_dir / "projects").iterdir())
    assert written == ["spot-weld-qa.yaml", "weld-gun-pm.yaml"], written
    default = yaml.safe_load((config_dir / "config.yaml").read_text())
    assert default["url"] == "s3://mlops-spot-weld-qa-art-222222222222-eu-central-1/platform/sagemaker-sdk-config.yaml", default
    assert default["prefix"] == "users/bob", "the user's name replaces the placeholder in the shared object"


def test_lifecycle_script_reads_projects_from_continuation_tags(tmp_path: Path) -> None:
    # The CLI prints the values of mlops:project and mlops:project-2 tab-separated.
    config_dir = _run_start_script(tmp_path, "weld-gun-pm\tspot-weld-qa zone-qa")
    written = sorted(p.name for p in (config_dir / "projects").iterdir())
    assert written == ["spot-weld-qa.yaml", "weld-gun-pm.yaml", "zone-qa.yaml"], written


def test_lifecycle_script_reads_the_tags_of_the_users_own_profile(tmp_path: Path) -> None:
    _run_start_script(tmp_path, "weld-gun-pm")
    asked = (tmp_path / "asked").read_text().split()
    assert asked == ["arn:aws:sagemaker:eu-central-1:222222222222:user-profile/d-abc123/bob"], asked


def test_stack_lifecycle_configs_differ_only_in_the_user_name(exp_plan) -> None:
    # carol works on two projects, bob on one: the script names neither's projects.
    scripts = {
        user: base64.b64decode(by_name(exp_plan, f"exp-studio-{user}-lifecycle").inputs["studioLifecycleConfigContent"]).decode()
        for user in ("bob", "carol")
    }
    assert scripts["carol"].replace("carol", "bob") == scripts["bob"], "a lifecycle script grows with the user's projects"


def test_stack_sdk_config_object_defaults_to_the_project_bucket(exp_plan) -> None:
    record = by_name(exp_plan, "exp-weld-gun-pm-sdk-config")
    config = yaml.safe_load(record.inputs["content"])
    bucket = exp_plan.outputs["projectStacks"]["weld-gun-pm"]["projectBucket"]
    assert record.inputs["bucket"] == bucket and record.inputs["key"] == SDK_CONFIG_KEY, record.urn
    assert config["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"] == bucket, record.urn
    assert config["SageMaker"]["TrainingJob"]["VpcConfig"]["Subnets"] == sorted(exp_plan.outputs["subnetIds"]), record.urn


def test_stack_lifecycle_config_fetches_from_the_project_buckets(exp_plan) -> None:
    record = by_name(exp_plan, "exp-studio-bob-lifecycle")
    script = base64.b64decode(record.inputs["studioLifecycleConfigContent"]).decode()
    bucket = exp_plan.outputs["projectStacks"]["weld-gun-pm"]["projectBucket"]
    assert f"s3://{bucket.replace('weld-gun-pm', '${project}')}/{SDK_CONFIG_KEY}" in script, record.urn


def test_stack_lifecycle_config_is_for_jupyterlab(exp_plan) -> None:
    for record in exp_plan.of_type("aws:sagemaker/studioLifecycleConfig:StudioLifecycleConfig"):
        assert record.inputs["studioLifecycleConfigAppType"] == "JupyterLab", record.urn
