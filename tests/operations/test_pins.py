"""The version pins agree across pyproject, constraints, the policy pack's requirements and the
images' tags, and `mlops-platform pins bump` moves them together."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_core.paths import REPO_ROOT
from mlops_platform.cli import app
from mlops_platform.pins import (
    CONSTRAINTS,
    DEPLOY_VERSION,
    INFERENCE_REQUIREMENTS,
    INFERENCE_VERSION,
    PACK_REQUIREMENTS,
    PYPROJECT,
    PinError,
    bump,
    disagreements,
    line_pins,
    pyproject_pins,
)

FILES = (PYPROJECT, CONSTRAINTS, PACK_REQUIREMENTS, DEPLOY_VERSION, INFERENCE_VERSION, INFERENCE_REQUIREMENTS)


@pytest.fixture
def pinned(tmp_path: Path) -> Path:
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_the_repository_s_pins_agree() -> None:
    found = disagreements(REPO_ROOT)
    assert not found, "pins disagree (`mlops-platform pins bump NAME==VERSION` fixes them together):\n" + "\n".join(map(str, found))


def test_the_scan_reads_every_pinning_file() -> None:
    assert len(pyproject_pins((REPO_ROOT / PYPROJECT).read_text())) >= 15, "pyproject's pins were not read"
    assert {"pulumi", "pulumi-policy"} <= set(line_pins((REPO_ROOT / PACK_REQUIREMENTS).read_text()))


@pytest.mark.parametrize(
    "file, old, new",
    [
        (PYPROJECT, '"pydantic==2.14.4"', '"pydantic==2.14.5"'),
        (PACK_REQUIREMENTS, "pulumi-policy==1.21.0", "pulumi-policy==1.22.0"),
        (DEPLOY_VERSION, "-aws7.51.1-", "-aws7.52.0-"),
    ],
)
def test_one_file_moved_alone_is_a_disagreement(pinned: Path, file: str, old: str, new: str) -> None:
    path = pinned / file
    assert old in path.read_text(), f"{file} no longer holds {old}"
    path.write_text(path.read_text().replace(old, new))
    found = [str(d) for d in disagreements(pinned)]
    assert any(line.startswith(f"{file}: ") for line in found), f"{file} moved alone, not reported: {found}"


def test_bump_moves_every_file_and_they_agree(pinned: Path) -> None:
    changes = bump(pinned, ["pulumi-aws==7.52.0", "scikit-learn==1.9.2"])
    assert "pulumi-aws: 7.51.1 -> 7.52.0" in changes and disagreements(pinned) == [], changes
    assert line_pins((pinned / CONSTRAINTS).read_text())["pulumi-aws"] == "7.52.0"
    assert pyproject_pins((pinned / PYPROJECT).read_text())["pulumi-aws"] == "7.52.0"
    assert (pinned / DEPLOY_VERSION).read_text().strip() == "pulumi3.272.0-aws7.52.0-r1"
    assert (pinned / INFERENCE_VERSION).read_text().strip() != (REPO_ROOT / INFERENCE_VERSION).read_text().strip(), \
        "scikit-learn is in the inference image: its tag must change"


def test_another_pin_gives_the_deploy_image_a_new_revision(pinned: Path) -> None:
    before = (pinned / DEPLOY_VERSION).read_text().strip()
    bump(pinned, ["pydantic==2.14.5"])
    revision = int(before.rsplit("-r", 1)[1])
    assert (pinned / DEPLOY_VERSION).read_text().strip() == f"{before.rsplit('-r', 1)[0]}-r{revision + 1}"
    assert (pinned / INFERENCE_VERSION).read_text() == (REPO_ROOT / INFERENCE_VERSION).read_text(), "inference unchanged"


def test_an_unknown_package_changes_nothing(pinned: Path) -> None:
    before = {name: (pinned / name).read_text() for name in FILES}
    with pytest.raises(PinError, match="not in constraints.txt"):
        bump(pinned, ["left-pad==1.0.0"])
    assert {name: (pinned / name).read_text() for name in FILES} == before


def test_the_command_reports_bad_input_in_one_line(pinned: Path) -> None:
    result = CliRunner().invoke(app, ["-C", str(REPO_ROOT), "pins", "bump", "pulumi-aws"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "NAME==VERSION" in result.stderr, result.output


def test_pins_check_passes_on_the_repository() -> None:
    result = CliRunner().invoke(app, ["pins", "check"])
    assert result.exit_code == 0, result.output
