"""Building the definition makes no AWS call and no connection, and gives the same JSON every time.

The subprocess test is the strong one: a fresh interpreter also covers importing the SDK (importing
`sagemaker.train` creates boto3 clients), with an environment that would send credential resolution
to the network (profile, container credentials endpoint) if the offline helper did not isolate it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from pipeline_helpers import REPO_ROOT, NetworkGuard, make_spec, spec_fields

from mlops_pipelines.definition import build_pipeline_definition
from mlops_pipelines.offline_session import offline_sdk

_SUBPROCESS_BUILD = textwrap.dedent(
    """
    import importlib.machinery, json, socket, sys
    import botocore.endpoint

    attempts = []

    def refuse(what):
        attempts.append(what)
        raise RuntimeError("network access while building the definition: " + what)

    botocore.endpoint.Endpoint.make_request = lambda self, model, request: refuse("AWS API call " + model.name)
    socket.socket.connect = lambda self, address: refuse("socket connect to " + repr(address))

    class RepoFinder:  # mlops_pipelines from the checkout, without putting the root on sys.path
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.partition(".")[0] != "mlops_pipelines":
                return None
            return importlib.machinery.PathFinder.find_spec(name, [sys.argv[1]] if "." not in name else path)

    sys.meta_path.append(RepoFinder)
    from mlops_pipelines import PipelineSpec, build_pipeline_definition

    spec = PipelineSpec.from_dict(json.loads(sys.argv[2]))
    try:
        definition = build_pipeline_definition(spec)
    except Exception as error:
        print(json.dumps({"attempts": attempts, "error": repr(error)}))
        raise SystemExit(1)
    print(json.dumps({"attempts": attempts, "definition": definition}))
    """
)


SDK_DEFAULTS_FILE = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      Session:
        DefaultS3Bucket: someone-elses-bucket
  ProcessingJob:
    Environment:
      INJECTED: 'from-a-config-file'
  TrainingJob:
    Environment:
      INJECTED: 'from-a-config-file'
    VpcConfig:
      Subnets: ['subnet-0fffffffffffffff0']
      SecurityGroupIds: ['sg-0fffffffffffffff0']
"""


@pytest.fixture(scope="module")
def subprocess_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("home")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        # Each of these would make credential resolution reach out to the network.
        "AWS_PROFILE": "platform-admin",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2/v2/credentials/abc",
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_CONFIG_FILE": str(home / "config"),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": "s3://someone-elses-bucket/sagemaker/config.yaml",
    }
    (home / "config").write_text("[profile platform-admin]\ncredential_source = EcsContainer\nregion = us-east-1\n")
    # An SDK defaults file (like Studio's admin config) that would change the definition if read.
    sdk_config = home / ".config" / "sagemaker" / "config.yaml"
    sdk_config.parent.mkdir(parents=True)
    sdk_config.write_text(SDK_DEFAULTS_FILE)
    spec = json.dumps(make_spec().to_dict())
    result = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS_BUILD, str(REPO_ROOT), spec],
        capture_output=True, text=True, timeout=180, env=environment, cwd=home,
    )
    assert result.stdout, f"subprocess build printed nothing; stderr: {result.stderr[-2000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_fresh_process_build_makes_no_aws_call_or_connection(subprocess_build: dict):
    assert subprocess_build["attempts"] == [], f"network attempts: {subprocess_build['attempts']}"
    assert "error" not in subprocess_build, subprocess_build.get("error")


def test_fresh_process_build_equals_the_in_process_build(subprocess_build: dict, definition_json: str):
    # Also proves independence from the machine's SDK defaults file (SDK_DEFAULTS_FILE).
    assert subprocess_build["definition"] == definition_json
    assert "from-a-config-file" not in subprocess_build["definition"]


@pytest.fixture(scope="module")
def observed_build() -> dict:
    """One in-process build of a fresh, equal spec with the guard on and the process state recorded."""
    import botocore.endpoint
    from sagemaker.core.config.config_manager import SageMakerConfig

    guard = NetworkGuard()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.endpoint.Endpoint, "make_request", lambda self, model, request: guard.refuse(f"AWS API call {model.name}"))
        patch.setattr(socket.socket, "connect", lambda self, address: guard.refuse(f"socket connect to {address!r}"))
        # Ambient settings that would send credential resolution to the network if they leaked in.
        patch.setenv("AWS_PROFILE", "someone")
        patch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")
        patch.delenv("SAGEMAKER_VALIDATE_ROLE", raising=False)
        before = {
            "environment": dict(os.environ),
            "default_session": boto3.DEFAULT_SESSION,
            "logging_disable": logging.root.manager.disable,
            "validator": SageMakerConfig.__dict__["validate_sagemaker_config"],
        }
        definition = build_pipeline_definition(make_spec())
        after = {
            "environment": dict(os.environ),
            "default_session": boto3.DEFAULT_SESSION,
            "logging_disable": logging.root.manager.disable,
            "validator": SageMakerConfig.__dict__["validate_sagemaker_config"],
        }
    return {"definition": definition, "attempts": guard.attempts, "before": before, "after": after}


def test_in_process_build_makes_no_aws_call_or_connection(observed_build: dict):
    assert observed_build["attempts"] == [], f"network attempts: {observed_build['attempts']}"
    assert json.loads(observed_build["definition"])["Steps"]


def test_guard_catches_what_an_unisolated_sdk_call_would_do(network_guard):
    # The guard itself must see a real client call; otherwise the tests above prove nothing.
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="eu-central-1").client("sts")
    with pytest.raises(RuntimeError, match="network access"):
        client.get_caller_identity()
    assert network_guard.attempts == ["AWS API call sts:GetCallerIdentity"]


def test_guard_catches_an_unisolated_default_bucket_lookup(network_guard):
    # What `Session.default_bucket()` does without the preset bucket: list and create buckets.
    from sagemaker.core.helper.session_helper import Session

    session = Session(boto_session=boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="eu-central-1"))
    with pytest.raises(Exception):
        session.default_bucket()
    assert network_guard.attempts, "default_bucket() made no request the guard saw"


def test_two_builds_of_equal_specs_give_byte_identical_json(observed_build: dict, definition_json: str):
    assert observed_build["definition"] == definition_json


def test_a_changed_spec_changes_the_definition(definition_json: str):
    assert build_pipeline_definition(make_spec(metric_threshold=0.62)) != definition_json


def test_build_restores_the_environment(observed_build: dict):
    assert observed_build["after"]["environment"] == observed_build["before"]["environment"]


def test_build_restores_the_default_boto3_session_and_logging(observed_build: dict):
    assert observed_build["after"]["default_session"] is observed_build["before"]["default_session"]
    assert observed_build["after"]["logging_disable"] == observed_build["before"]["logging_disable"]


def test_build_leaves_the_sdk_config_validator_working(observed_build: dict):
    from sagemaker.core.config.config_manager import SageMakerConfig

    assert observed_build["after"]["validator"] is observed_build["before"]["validator"]
    SageMakerConfig().validate_sagemaker_config({"SchemaVersion": "1.0"})  # callable on an instance again
    with pytest.raises(Exception, match="SchemaVersion|is not valid|required"):
        SageMakerConfig().validate_sagemaker_config({"SageMaker": {"NoSuchSection": {}}})


def test_offline_environment_hides_ambient_credentials(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALCREDENTIALS1")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-session-token")
    with offline_sdk("eu-central-1"):
        credentials = boto3.Session().get_credentials()
        assert credentials.access_key != "AKIAREALCREDENTIALS1"
        assert credentials.token is None
        assert os.environ["SAGEMAKER_VALIDATE_ROLE"] == "false"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALCREDENTIALS1"


def test_build_rejects_something_that_is_not_a_spec():
    with pytest.raises(TypeError, match="PipelineSpec"):
        build_pipeline_definition(spec_fields())


def test_package_import_does_not_import_the_sdk():
    # Pulumi programs import the package on every run; the SDK import (seconds) must wait for a build.
    code = (
        "import importlib.machinery, sys\n"
        "class F:\n"
        "    @staticmethod\n"
        "    def find_spec(n, p=None, t=None):\n"
        "        return importlib.machinery.PathFinder.find_spec(n, [sys.argv[1]] if '.' not in n else p) if n.partition('.')[0] == 'mlops_pipelines' else None\n"
        "sys.meta_path.append(F)\n"
        "import mlops_pipelines\n"
        "print(sorted(m for m in sys.modules if m == 'sagemaker' or m.startswith('sagemaker.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(REPO_ROOT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"importing mlops_pipelines imported {result.stdout.strip()}"


def test_repository_root_is_not_on_sys_path_in_the_subprocess_helpers():
    # `platform/` at the root must never shadow the stdlib module; the helpers above use finders.
    assert str(REPO_ROOT) not in [str(Path(p).resolve()) for p in sys.path if p]
