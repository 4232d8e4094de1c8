"""The ``mlops_etl`` zip shipped with ``--extra-py-files`` is deterministic and importable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components.etl_package import ZIP_TIMESTAMP, build_package_zip, content_key
from mlops_core.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "etl" / "mlops_etl"


def test_two_builds_are_byte_identical() -> None:
    assert build_package_zip(PACKAGE) == build_package_zip(PACKAGE)


def test_build_ignores_file_times_and_caches(tmp_path: Path) -> None:
    copy = tmp_path / "mlops_etl"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "pseudonymise.cpython-311.pyc").write_bytes(b"stale")
    assert build_package_zip(copy) == build_package_zip(PACKAGE)


def test_entries_are_sorted_with_fixed_times_and_modes() -> None:
    archive = zipfile.ZipFile(__import__("io").BytesIO(build_package_zip(PACKAGE)))
    names = archive.namelist()
    expected = sorted(f"mlops_etl/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    assert names == expected, names
    for info in archive.infolist():
        assert info.date_time == ZIP_TIMESTAMP and (info.external_attr >> 16) == 0o644, info.filename


def test_zip_content_equals_the_sources() -> None:
    archive = zipfile.ZipFile(__import__("io").BytesIO(build_package_zip(PACKAGE)))
    for name in archive.namelist():
        assert archive.read(name) == (PACKAGE.parent / name).read_bytes(), name


def test_glue_can_import_the_package_from_the_zip(tmp_path: Path) -> None:
    bundle = tmp_path / "mlops_etl.zip"
    bundle.write_bytes(build_package_zip(PACKAGE))
    code = "from mlops_etl.pseudonymise import pseudonym; print(pseudonym('W1001', b'k' * 32))"
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(bundle)!r}); {code}"],
                            capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0 and len(result.stdout.strip()) == 64, result.stderr


def test_content_key_changes_with_content() -> None:
    assert content_key("glue/", "mlops_etl", ".zip", b"a") != content_key("glue/", "mlops_etl", ".zip", b"b")
    assert content_key("glue/", "mlops_etl", ".zip", b"a").startswith("glue/mlops_etl-")


def test_a_directory_without_init_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Python package"):
        build_package_zip(tmp_path)
