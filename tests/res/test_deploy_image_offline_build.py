"""The deploy image's offline install builds our project from the staged wheelhouse alone.

``images/deploy/Dockerfile`` installs the repository with ``pip install --no-index --find-links
/tmp/wheels``; pip builds it from source, so the build-system requirements (pyproject
``[build-system].requires``: setuptools, wheel) must be in the wheelhouse, which
``images/stage_toolchain.sh`` downloads from ``constraints.txt``.

What this covers: the wheelhouse is made with the script's own ``pip download`` flags (parsed from
it), limited to the build requirements' pins of ``constraints.txt`` (the full tree is hundreds of
MB), constrained by ``constraints.txt`` as the full download is; the install is the Dockerfile's
own command and ``PIP_*`` environment (parsed from it), in a fresh virtualenv, on a copy of the
source, plus ``--no-deps`` (the runtime wheels are not downloaded). Downloading needs the package
index, as the script does.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mlops_core.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "images/deploy/Dockerfile"
STAGE_SCRIPT = REPO_ROOT / "images/stage_toolchain.sh"
CONSTRAINTS = REPO_ROOT / "constraints.txt"


def logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def dockerfile_install() -> list[str]:
    (run,) = [line for line in logical_lines(DOCKERFILE.read_text()) if line.startswith("RUN") and "--no-index" in line]
    (install,) = [step.strip() for step in run[len("RUN"):].split("&&") if "pip install" in step]
    return shlex.split(install)


def dockerfile_pip_environment() -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in logical_lines(DOCKERFILE.read_text()):
        if line.startswith("ENV "):
            settings.update(pair.split("=", 1) for pair in shlex.split(line[len("ENV "):]))
    return {name: value for name, value in settings.items() if name.startswith("PIP_")}


def stage_download() -> list[str]:
    (download,) = [line for line in logical_lines(STAGE_SCRIPT.read_text()) if "pip download" in line]
    return shlex.split(download)


def build_requirement_names() -> list[str]:
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    return [re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower() for requirement in requires]


def pinned_lines(names: list[str]) -> list[str]:
    pins = {line.split("==")[0].lower().replace("_", "-"): line for line in CONSTRAINTS.read_text().splitlines() if "==" in line}
    return [pins[name] for name in names if name in pins]


def replaced(command: list[str], option: str, value: str) -> list[str]:
    index = command.index(option)
    return command[: index + 1] + [value] + command[index + 2 :]


def test_every_build_requirement_is_pinned_in_constraints() -> None:
    names = build_requirement_names()
    pinned = {line.split("==")[0].lower() for line in pinned_lines(names)}
    missing = [name for name in names if name not in pinned]
    assert not missing, f"constraints.txt: no pin for the build requirements {missing}, so stage_toolchain.sh's wheelhouse lacks them"


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("stage")
    requirements = work / "build-requirements.txt"
    requirements.write_text("\n".join(pinned_lines(build_requirement_names())) + "\n")
    command = stage_download()
    assert command[:4] == ["python3", "-m", "pip", "download"], f"stage_toolchain.sh: unexpected download {command[:4]}"
    command = replaced(replaced(command, "--dest", str(work / "wheels")), "-r", str(requirements))
    subprocess.run([sys.executable, *command[1:], "-c", str(CONSTRAINTS)], check=True, capture_output=True, timeout=300)
    return work / "wheels"


def test_deploy_image_offline_install_builds_the_project_from_the_wheelhouse(wheelhouse, tmp_path) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        REPO_ROOT, source,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__", "*.egg-info", "build", "dist"),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = dockerfile_install()
    assert install[0] == "/opt/venv/bin/pip" and install[-1] == "/tmp/src", f"Dockerfile: unexpected install {install}"
    paths = {"/opt/venv/bin/pip": str(venv / "bin/pip"), "/tmp/wheels": str(wheelhouse), "/tmp/src": str(source)}
    command = [re.sub("|".join(map(re.escape, paths)), lambda m: paths[m.group(0)], token) for token in install]
    # The image's pip settings only: none of this machine's (a local find-links would hide a gap).
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    environment = {**inherited, **dockerfile_pip_environment(), "PIP_CONFIG_FILE": os.devnull}
    result = subprocess.run([*command, "--no-deps"], env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, "the deploy image's offline install failed:\n" + (result.stderr or result.stdout)[-2000:]
    show = subprocess.run([str(venv / "bin/pip"), "show", "mlops-platform"], capture_output=True, text=True)
    assert show.returncode == 0, "the offline install did not install mlops-platform"
