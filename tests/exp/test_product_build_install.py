"""The Model Building product's build installs *our* ``mlops-platform``, never a same-named public one.

The build's install phase (``service_catalog.install_commands``) runs here verbatim in a fresh
virtualenv, against two local PyPI-style indexes on loopback standing in for CodeArtifact:

* ``internal``: the platform's own repository (no upstream), holding ``mlops-platform`` 0.1.0;
* ``team``: the repository with the ``public:pypi`` upstream, which merges what the public index
  serves: there a dependency-confusion ``mlops-platform`` 99.0.0.

A stand-in ``aws`` on PATH answers the three CodeArtifact calls the commands make (login writes the
pip config, the token, the internal endpoint). The installed package says where it came from.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import subprocess
import sys
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from components.service_catalog import TemplateSettings, install_commands

OURS, PUBLIC = "0.1.0", "99.0.0"


def _wheel(directory: Path, version: str, origin: str) -> str:
    name = f"mlops_platform-{version}-py3-none-any.whl"
    info = f"mlops_platform-{version}.dist-info"
    files = {
        "mlops_platform_origin/__init__.py": f"ORIGIN = {origin!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: mlops-platform\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(directory / name, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return name


def _index(root: Path, repository: str, wheels: list[tuple[str, str]]) -> None:
    """A PEP 503 simple index ``<root>/<repository>/simple/mlops-platform/``."""
    project = root / repository / "simple" / "mlops-platform"
    project.mkdir(parents=True)
    links = []
    for version, origin in wheels:
        file = _wheel(project, version, origin)
        links.append(f'<a href="{file}">{file}</a>')
    (project / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    (root / repository / "simple" / "index.html").write_text('<a href="mlops-platform/">mlops-platform</a>')


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("codeartifact")
    _index(root, "internal", [(OURS, "internal")])
    # The team repository merges its upstreams: ours (internal) and the public index's.
    _index(root, "team", [(OURS, "internal"), (PUBLIC, "public")])
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _fake_aws(bin_dir: Path, base: str, pip_conf: Path) -> None:
    script = bin_dir / "aws"
    script.write_text(
        "#!/usr/bin/env bash\n"
        'case "$1 $2" in\n'
        f'  "codeartifact login") printf "[global]\\nindex-url = {base}/team/simple/\\n" > "{pip_conf}" ;;\n'
        '  "codeartifact get-authorization-token") echo token ;;\n'
        '  "codeartifact get-repository-endpoint")\n'
        '     repo=$(echo "$@" | sed -E "s/.*--repository ([^ ]+).*/\\1/")\n'
        f'     echo "{base}/$repo/" ;;\n'
        '  *) echo "unexpected aws call: $*" >&2; exit 2 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)


def _settings(requirements: tuple[str, ...]) -> TemplateSettings:
    text = dict.fromkeys(
        ["platform_name", "account_id", "region", "res_account_id", "vpc_id", "kms_key_arn", "logs_key_arn",
         "artifacts_bucket", "boundary_arn", "connection_arn", "source_provider_type", "repository_host",
         "event_bus_arn", "events_role_arn"], "x")
    return TemplateSettings(
        **text, stage_account_ids=[], subnet_ids=[], security_group_ids=[], guardrail_policy_arns=[],
        codeartifact_domain="mlops", codeartifact_repository="team", codeartifact_internal_repository="internal",
        platform_requirements=requirements,
    )


def _run_install(tmp_path: Path, base: str, commands: list[str]) -> str:
    venv, bin_dir, project = tmp_path / "venv", tmp_path / "bin", tmp_path / "project"
    bin_dir.mkdir()
    project.mkdir()
    (project / "requirements.txt").write_text("mlops-platform\n")  # a project naming us without a pin
    pip_conf = tmp_path / "pip.conf"
    _fake_aws(bin_dir, base, pip_conf)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{bin_dir}:{os.environ['PATH']}", "PIP_CONFIG_FILE": str(pip_conf),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1", "VIRTUAL_ENV": str(venv)}
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(commands)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"install phase failed:\n{done.stdout}\n{done.stderr}"
    return subprocess.run([str(venv / "bin" / "python"), "-c", "import mlops_platform_origin as m; print(m.ORIGIN)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_build_installs_our_package_not_a_same_named_public_one(tmp_path, indexes) -> None:
    origin = _run_install(tmp_path, indexes, install_commands(_settings((f"mlops-platform=={OURS}",))))
    assert origin == "internal", f"Model Building build installed mlops-platform from the {origin} index (dependency confusion)"


def test_installing_through_the_team_repository_alone_lets_the_public_package_win(tmp_path, indexes) -> None:
    """The threat the build guards against: unpinned, through the public upstream, 99.0.0 wins."""
    origin = _run_install(tmp_path, indexes, install_commands(_settings(())))
    assert origin == "public", "the stand-in team index does not model the public upstream's merge"


def test_the_planned_product_pins_the_installed_platform_version(exp_plan) -> None:
    from importlib.metadata import version

    templates = [o for o in exp_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if str(o.inputs.get("key", "")).startswith("model-building/")]
    assert templates, "exp uploads the Model Building template"
    body = templates[0].inputs["content"]
    assert f"mlops-platform=={version('mlops-platform')}" in body, "the product's build does not pin our mlops-platform"
    assert "--repository internal" in body, "the product's build does not read our packages from the internal repository"
