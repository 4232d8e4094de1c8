"""Build SageMaker pipeline definitions with the sagemaker SDK v3 offline and deterministically.

The obvious SDK code talks to AWS while merely *defining* a pipeline: `ModelTrainer` validates
the role through IAM, `Session.default_bucket()` lists and creates buckets, `source_code=` uploads
driver files under timestamped keys, telemetry calls STS and an HTTP endpoint, and importing
`sagemaker.train` (and constructing a `ProcessingStep`) creates boto3 clients, which resolve
credentials through the instance metadata service. Under `pulumi up` those calls would use the
ambient credentials rather than the stack's provider, and the definition would change each run.

`offline_sdk(region)` closes all of these doors for the duration of a build:

* the process environment carries placeholder static credentials and the region, and the
  metadata, container, profile, web-identity and SDK-config-override variables are removed, so
  every boto3 session the SDK creates resolves credentials locally and cannot authenticate;
* `boto3.DEFAULT_SESSION` is such a session (the SDK falls back to it);
* `SAGEMAKER_VALIDATE_ROLE=false` (no IAM role simulation);
* the constant SDK config is schema-validated once per build, not on each of ~60 lookups;
* log records up to WARNING and the "no job is started" warnings are silenced.

Everything is restored afterwards; a lock serialises builds because the environment is process
wide. `pipeline_session(...)` returns a `PipelineSession` whose SDK config is explicit (telemetry
opted out, no config files read) and whose default bucket is preset, so no code path can probe or
create `sagemaker-<region>-<account>`.

The builder itself must avoid the remaining uploading paths, which these guards would turn into
errors rather than silently fix: `ScriptProcessor(...).run(code="s3://...")` only (no local
code), training without `source_code` (script mode through `sagemaker_program` /
`sagemaker_submit_directory`), `ModelBuilder(s3_model_data_url=..., dependencies={})` for
registration (`model_path=` silently drops `ModelDataUrl`; the default `dependencies` triggers a
code upload), and an explicit `output_s3_uri` for the `QualityCheckStep`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

# Placeholder credentials: a request signed with them is refused, so nothing can succeed by accident.
OFFLINE_ACCESS_KEY_ID = "AKIAOFFLINEPIPELINEDEF"
OFFLINE_SECRET_ACCESS_KEY = "offline-pipeline-definition-build-no-aws-calls"

# SDK defaults config used instead of the admin/user config files (which may point at S3 and
# would make the definition depend on the machine that builds it).
OFFLINE_SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}

_REMOVED_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
    "SAGEMAKER_USER_CONFIG_OVERRIDE",
)
_BUILD_LOCK = threading.RLock()


def _offline_environment(region: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": OFFLINE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": OFFLINE_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }


def offline_boto_session(region: str):
    """A boto3 session with placeholder static credentials: creating clients needs no network."""
    import boto3

    return boto3.Session(
        aws_access_key_id=OFFLINE_ACCESS_KEY_ID,
        aws_secret_access_key=OFFLINE_SECRET_ACCESS_KEY,
        region_name=region,
    )


@contextlib.contextmanager
def offline_sdk(region: str) -> Iterator[None]:
    """Run the enclosed SDK code with credentials, config and logging isolated (see module doc)."""
    import boto3

    with _BUILD_LOCK:
        saved_environment = {name: os.environ.get(name) for name in (*_REMOVED_VARIABLES, *_offline_environment(region))}
        saved_default_session = boto3.DEFAULT_SESSION
        saved_logging_disable = logging.root.manager.disable
        saved_validator = None
        try:
            for name in _REMOVED_VARIABLES:
                os.environ.pop(name, None)
            os.environ.update(_offline_environment(region))
            boto3.DEFAULT_SESSION = offline_boto_session(region)
            saved_validator = _validate_offline_config_once()
            # The SDK logs config lookups and "popping out" notices at INFO/WARNING on every build.
            logging.disable(logging.WARNING)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Running within a PipelineSession")
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                yield
        finally:
            if saved_validator is not None:
                # Put back the class attribute itself (a staticmethod object), not the function.
                _config_manager().SageMakerConfig.validate_sagemaker_config = saved_validator
            boto3.DEFAULT_SESSION = saved_default_session
            for name, value in saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            logging.disable(saved_logging_disable)


def _config_manager():
    from sagemaker.core.config import config_manager

    return config_manager


def _validate_offline_config_once():
    """Validate `OFFLINE_SDK_CONFIG` against the SDK's schema once, not on every lookup.

    The SDK re-validates the session's config (schema check included) on each of the ~60 config
    lookups of a build, about 90 % of its run time. The config is a constant here. Returns the
    original class attribute (the staticmethod object), which `offline_sdk` puts back.
    """
    config_class = _config_manager().SageMakerConfig
    original_attribute = config_class.__dict__["validate_sagemaker_config"]
    original = config_class.validate_sagemaker_config  # the plain function behind the staticmethod
    validated: list[dict] = []

    def validate(sagemaker_config=None):
        if sagemaker_config == OFFLINE_SDK_CONFIG:
            if not validated:
                original(sagemaker_config)
                validated.append(sagemaker_config)
            return None
        return original(sagemaker_config)

    config_class.validate_sagemaker_config = staticmethod(validate)
    return original_attribute


def pipeline_session(region: str, bucket: str):
    """A `PipelineSession` for `offline_sdk`: explicit SDK config, default bucket preset to `bucket`."""
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    session = PipelineSession(
        boto_session=offline_boto_session(region),
        default_bucket=bucket,
        sagemaker_config=OFFLINE_SDK_CONFIG,
    )
    # `default_bucket=` only names the bucket; `default_bucket()` would still list and create it.
    # Setting the resolved value makes `default_bucket()` return at once.
    session._default_bucket = bucket
    return session
