"""An image whose name has a hyphen still gets a shell variable name for its repositories.

The image-build project passes ``QUARANTINE_<IMAGE>``/``RELEASE_<IMAGE>`` to images/build.sh, which
reads them by name (``repo_var``): ``RELEASE_BATCH-INFERENCE`` would be no variable bash can read.
"""

from __future__ import annotations

import os
import re
import subprocess

from components.image_pipeline import repository_variable
from mlops_core.paths import REPO_ROOT

SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def build_script_repo_var() -> str:
    (line,) = [line for line in (REPO_ROOT / "images/build.sh").read_text().splitlines() if line.startswith("repo_var()")]
    return line


def test_hyphenated_image_repository_variable_is_a_shell_name() -> None:
    assert repository_variable("RELEASE", "batch-inference") == "RELEASE_BATCH_INFERENCE", (
        "image-build project: batch-inference's release repository variable must be RELEASE_BATCH_INFERENCE"
    )


def test_every_repository_variable_is_a_shell_name() -> None:
    names = [repository_variable(kind, image) for kind in ("QUARANTINE", "RELEASE") for image in ("deploy", "inference", "batch-inference", "x.y")]
    bad = [name for name in names if not SHELL_NAME.match(name)]
    assert not bad, f"image-build project: {bad} are no shell variable names"


def test_build_script_reads_the_variable_the_pipeline_sets_for_a_hyphenated_image() -> None:
    variable = repository_variable("RELEASE", "batch-inference")
    result = subprocess.run(
        ["bash", "-c", f"{build_script_repo_var()}\nrepo_var RELEASE batch-inference"],
        env={"PATH": os.environ["PATH"], variable: "acme-batch-inference"}, capture_output=True, text=True, timeout=30,
    )
    assert result.stdout.strip() == "acme-batch-inference", (
        f"images/build.sh repo_var RELEASE batch-inference: {result.stdout.strip() or result.stderr.strip()!r}, "
        f"not the value of {variable}"
    )
