"""Deterministic `sourcedir.tar.gz` and content-hashed keys for the seed code."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import pytest
from pipeline_helpers import BUCKET, SAMPLE_CSV, SEED_DIR, make_spec

from mlops_pipelines.definition import build_pipeline_definition
from mlops_pipelines.sourcedir import SeedCodeError, build_sourcedir, content_key, package_seed_code, sample_data_object


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(SEED_DIR, copy, ignore=shutil.ignore_patterns("data", "__pycache__"))
    return copy


def members(archive: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return tar.getmembers()


def test_two_builds_are_byte_identical():
    assert build_sourcedir(SEED_DIR) == build_sourcedir(SEED_DIR)


def test_build_ignores_file_times_and_owners(seed_copy: Path):
    before = build_sourcedir(seed_copy)
    (seed_copy / "train.py").touch()
    (seed_copy / "train.py").chmod(0o755)
    assert build_sourcedir(seed_copy) == before


def test_archive_holds_exactly_the_training_and_serving_scripts():
    names = [member.name for member in members(build_sourcedir(SEED_DIR))]
    # No requirements.txt: the isolated training job cannot pip install.
    assert names == ["inference.py", "train.py"]


def test_archive_entries_have_fixed_metadata():
    for member in members(build_sourcedir(SEED_DIR)):
        assert (member.mtime, member.uid, member.gid, member.mode) == (0, 0, 0, 0o644), f"{member.name}: metadata not fixed"
        assert member.isfile()


def test_archive_content_is_the_scripts():
    with tarfile.open(fileobj=io.BytesIO(build_sourcedir(SEED_DIR)), mode="r:gz") as tar:
        assert tar.extractfile("train.py").read() == (SEED_DIR / "train.py").read_bytes()


def test_gzip_header_has_no_time_and_no_file_name():
    archive = build_sourcedir(SEED_DIR)
    flags, mtime = archive[3], int.from_bytes(archive[4:8], "little")
    assert mtime == 0, f"gzip header mtime {mtime}"
    assert not flags & 0x08, "gzip header carries a file name"
    assert gzip.decompress(archive)  # still a valid gzip stream


def test_archive_and_its_key_change_when_a_script_changes(seed_copy: Path):
    before = package_seed_code(seed_copy)
    (seed_copy / "train.py").write_text((seed_copy / "train.py").read_text() + "\n# retuned\n")
    after = package_seed_code(seed_copy)
    assert after.sourcedir.data != before.sourcedir.data
    assert after.sourcedir.key != before.sourcedir.key
    assert after.preprocess.key == before.preprocess.key, "an unchanged script must keep its key"
    assert after.evaluate.key == before.evaluate.key


def test_processing_script_key_changes_with_its_content(seed_copy: Path):
    before = package_seed_code(seed_copy)
    (seed_copy / "evaluate.py").write_text((seed_copy / "evaluate.py").read_text() + "\n")
    after = package_seed_code(seed_copy)
    assert after.evaluate.key != before.evaluate.key
    assert after.sourcedir.key == before.sourcedir.key


def test_keys_keep_the_file_name_and_embed_the_content_hash():
    seed = package_seed_code(SEED_DIR, key_prefix="code/pm")
    for code, name in ((seed.preprocess, "preprocess.py"), (seed.evaluate, "evaluate.py"), (seed.sourcedir, "sourcedir.tar.gz")):
        prefix, digest, file_name = code.key.rsplit("/", 2)
        assert (prefix, file_name) == ("code/pm", name)
        assert hashlib.sha256(code.data).hexdigest().startswith(digest)


def test_content_key_ignores_stray_slashes():
    assert content_key("/code/", b"x", "a.py") == f"code/{hashlib.sha256(b'x').hexdigest()[:16]}/a.py"


def test_spec_uris_name_the_three_objects_in_the_bucket():
    seed = package_seed_code(SEED_DIR)
    assert seed.spec_uris("bucket-a") == {
        "preprocess_code_uri": f"s3://bucket-a/{seed.preprocess.key}",
        "evaluate_code_uri": f"s3://bucket-a/{seed.evaluate.key}",
        "sourcedir_uri": f"s3://bucket-a/{seed.sourcedir.key}",
    }


def test_missing_script_is_reported_by_path(seed_copy: Path):
    (seed_copy / "inference.py").unlink()
    with pytest.raises(SeedCodeError, match="inference.py"):
        package_seed_code(seed_copy)


def test_definition_changes_exactly_when_a_script_changes(seed_copy: Path, definition_json: str):
    unchanged = package_seed_code(seed_copy).spec_uris(BUCKET)
    assert build_pipeline_definition(make_spec(**unchanged)) == definition_json, "an unchanged copy changed the definition"

    (seed_copy / "train.py").write_text((seed_copy / "train.py").read_text() + "\n# retuned\n")
    changed = package_seed_code(seed_copy).spec_uris(BUCKET)
    rebuilt = build_pipeline_definition(make_spec(**changed))
    assert rebuilt != definition_json
    # The only difference is the archive's key: nothing else in the pipeline moves.
    assert rebuilt.replace(changed["sourcedir_uri"], unchanged["sourcedir_uri"]) == definition_json


def test_sample_data_object_is_the_committed_csv_under_a_content_hashed_key():
    sample = sample_data_object(SEED_DIR, key_prefix="data/pm")
    assert sample.data == SAMPLE_CSV.read_bytes()
    assert sample.key == f"data/pm/{hashlib.sha256(sample.data).hexdigest()[:16]}/welding_sensors.csv"
    assert sample.uri("b") == f"s3://b/{sample.key}"


def test_content_base64_round_trips_the_binary_archive():
    code = package_seed_code(SEED_DIR).sourcedir
    assert base64.b64decode(code.content_base64) == code.data
