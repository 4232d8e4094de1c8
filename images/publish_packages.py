"""Release step: publish the platform's own packages to the EXP account's ``internal`` CodeArtifact repository.

    python images/publish_packages.py --domain <platform> --domain-owner <exp-account> --region <region> [--dist DIR]

Builds the wheel of this checkout (``pip wheel --no-deps``), then for each package of
``components.codeartifact.PLATFORM_PACKAGES``:

1. sets the package origin control in ``internal`` to ``publish=ALLOW, upstream=BLOCK``
   (``aws codeartifact put-package-origin-configuration``). Not in ``team``: there ``upstream=BLOCK``
   would also cut off ``internal``; the product's build never resolves our names through ``team``
   (it installs them from ``internal``, pinned, first: ``service_catalog.install_commands``);
2. uploads the wheel to ``internal`` through the PyPI upload API (what twine speaks; stdlib only,
   so the release needs nothing beyond the deploy image). A version already published is refused by
   CodeArtifact (versions are immutable): bump ``pyproject.toml``'s version to release again.

Runs as the EXP package publisher role (``<platform>-package-publisher``, the exp stack's output
``packagePublisherRoleArn``), allowed ``codeartifact:PublishPackageVersion`` and
``codeartifact:PutPackageOriginConfiguration`` on exactly those packages in ``internal``; the deploy
workflow's ``publish-packages`` job chains into it after the exp stack is deployed.
Exit 2 with one line on bad input or a failed call.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from components.codeartifact import PLATFORM_PACKAGES  # noqa: E402

REPOSITORIES = ("internal",)


def _aws(*args: str) -> str:
    done = subprocess.run(["aws", *args, "--output", "json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: aws {' '.join(args[:2])}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return done.stdout


def _multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode() + path.read_bytes() + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def upload(endpoint: str, token: str, wheel: Path, name: str, version: str) -> None:
    """POST the wheel to a PyPI upload endpoint (legacy upload API, ``:action=file_upload``)."""
    body, boundary = _multipart(
        {":action": "file_upload", "protocol_version": "1", "metadata_version": "2.1", "name": name, "version": version,
         "filetype": "bdist_wheel", "pyversion": "py3", "sha256_digest": hashlib.sha256(wheel.read_bytes()).hexdigest()},
        "content", wheel,
    )
    request = urllib.request.Request(endpoint, data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": "Basic " + base64.b64encode(f"aws:{token}".encode()).decode(),
    })
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            if response.status >= 300:
                raise SystemExit(f"error: upload of {wheel.name}: HTTP {response.status}")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"error: upload of {wheel.name}: HTTP {error.code} {error.reason}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True)
    parser.add_argument("--domain-owner", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--dist", type=Path, default=None, help="where to build the wheel (default: a temporary directory)")
    args = parser.parse_args(argv)
    where = ["--domain", args.domain, "--domain-owner", args.domain_owner, "--region", args.region]
    dist = args.dist or Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(REPO)], check=True)
    for name in PLATFORM_PACKAGES:
        wheels = sorted(dist.glob(f"{name.replace('-', '_')}-*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"error: expected one wheel of {name} in {dist}, found {len(wheels)}")
        version = wheels[0].name.split("-")[1]
        for repository in REPOSITORIES:
            _aws("codeartifact", "put-package-origin-configuration", *where, "--repository", repository, "--format", "pypi",
                 "--package", name, "--restrictions", "publish=ALLOW,upstream=BLOCK")
        token = json.loads(_aws("codeartifact", "get-authorization-token", *where))["authorizationToken"]
        endpoint = json.loads(_aws("codeartifact", "get-repository-endpoint", *where, "--repository", "internal", "--format", "pypi"))["repositoryEndpoint"]
        upload(endpoint, token, wheels[0], name, version)
        print(f"published {name} {version} to {args.domain}/internal (upstream blocked for {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
