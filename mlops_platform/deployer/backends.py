"""Where stack state and secrets live.

Three backends, chosen in this order:

1. ``--backend URL`` (or ``PULUMI_BACKEND_URL``): in CI the RES state bucket,
   ``s3://<platform>-pulumi-state-<res account>-<region>?region=<region>``, with the ``awskms`` secrets
   provider on the key bootstrap created (``awskms://alias/<platform>-pulumi-state?region=<region>``); a
   ``file://`` URL works the same way as the default below.
2. Pulumi Cloud when ``PULUMI_ACCESS_TOKEN`` is set (its own secrets provider).
3. Default: the local file backend ``.pulumi-state/`` in the repository (git-ignored) with the
   passphrase secrets provider, so nobody needs an account anywhere to start.

The stack config holds no secrets; the secrets provider only protects secret *outputs* in the state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from mlops_platform.deployer.errors import DeployerError, MissingCredentialsError, MissingPassphraseError

LOCAL_STATE_DIR = ".pulumi-state"
PULUMI_CLOUD_URL = "https://api.pulumi.com"


@dataclass(frozen=True)
class Backend:
    """A resolved state backend and the secrets provider its new stacks use."""

    kind: str
    """``local``, ``s3`` or ``cloud``."""
    url: str
    """The backend URL given to the CLI as ``PULUMI_BACKEND_URL``."""
    secrets_provider: str | None
    """``passphrase``, ``awskms://...`` or ``None`` for the backend's default (Pulumi Cloud)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment for every CLI invocation of this backend."""

    def stack_reference(self, project: str, stack: str) -> str:
        """The name a ``StackReference`` uses for ``stack`` of ``project`` on this backend."""
        return f"organization/{project}/{stack}"


def _has_aws_credentials() -> bool:
    import boto3

    return boto3.Session().get_credentials() is not None


def resolve_backend(
    repo_root: Path,
    backend_url: str | None = None,
    *,
    kms_alias: str,
    region: str,
    environ: Mapping[str, str] | None = None,
    has_aws_credentials=_has_aws_credentials,
) -> Backend:
    """Pick the backend as described in the module docstring; one-line errors for what is missing."""
    environ = os.environ if environ is None else environ
    url = backend_url or environ.get("PULUMI_BACKEND_URL")
    if url is None and environ.get("PULUMI_ACCESS_TOKEN"):
        url = PULUMI_CLOUD_URL
    if url is None:
        url = (Path(repo_root) / LOCAL_STATE_DIR).resolve().as_uri()

    scheme = urlparse(url).scheme
    if scheme == "file":
        if not (environ.get("PULUMI_CONFIG_PASSPHRASE") or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
            raise MissingPassphraseError(
                f"the file backend {url} uses the passphrase secrets provider: set PULUMI_CONFIG_PASSPHRASE "
                "(or PULUMI_CONFIG_PASSPHRASE_FILE)"
            )
        Path(urlparse(url).path).mkdir(parents=True, exist_ok=True)
        return Backend("local", url, "passphrase", {"PULUMI_BACKEND_URL": url})
    if scheme == "s3":
        if not has_aws_credentials():
            raise MissingCredentialsError(
                f"the S3 backend {url} needs AWS credentials (none found): log in, or assume the deploy role"
            )
        provider = f"awskms://{kms_alias}?region={region}"
        return Backend("s3", url, provider, {"PULUMI_BACKEND_URL": url})
    if scheme in ("https", "http"):
        if not environ.get("PULUMI_ACCESS_TOKEN"):
            raise MissingCredentialsError(f"the Pulumi Cloud backend {url} needs PULUMI_ACCESS_TOKEN")
        return Backend("cloud", url, None, {"PULUMI_BACKEND_URL": url})
    raise DeployerError(f"--backend {url}: unsupported backend (use s3://..., file://... or {PULUMI_CLOUD_URL})")
