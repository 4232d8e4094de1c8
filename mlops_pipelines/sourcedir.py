"""Package the seed scripts for S3: a deterministic `sourcedir.tar.gz` and content-hashed keys.

The pipeline definition names its code by S3 URI, and each key contains the SHA-256 of the
object, so a changed script changes its key, hence the definition, hence the pipeline; an
unchanged script leaves all three alone. For that the archive must be byte-identical whenever
its inputs are: entries sorted, owner 0/root, mode 0644, mtime 0, ustar format, gzip header
without file name and with mtime 0.

The processing scripts are uploaded as single files (`ScriptProcessor` runs
`/opt/ml/processing/input/code/<basename>`, so the key keeps the script name); training gets
`sourcedir.tar.gz` with `train.py` and `inference.py` (script mode; `train.py` copies
`inference.py` into the model archive for the serving container).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

SEED_CODE_DIR = Path(__file__).resolve().parent.parent / "seed_code" / "predictive_maintenance"
"""The seed project in a source checkout of this repository."""
SOURCEDIR_FILES = ("inference.py", "train.py")
"""Files of the training `sourcedir.tar.gz`. No requirements.txt: isolated jobs cannot pip install."""
PREPROCESS_SCRIPT = "preprocess.py"
EVALUATE_SCRIPT = "evaluate.py"
SOURCEDIR_NAME = "sourcedir.tar.gz"
SAMPLE_DATA_FILE = Path("data") / "welding_sensors.csv"
"""The committed sample data set, relative to the seed project (see its README)."""
_HASH_LENGTH = 16


class SeedCodeError(ValueError):
    """A seed script is missing or unreadable; `str()` names the file."""


def build_sourcedir(source_dir: Path, files: tuple[str, ...] = SOURCEDIR_FILES) -> bytes:
    """Return a deterministic gzip'd tar of `files` (relative to `source_dir`), sorted by name."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name in sorted(files):
                data = _read(Path(source_dir) / name)
                info = tarfile.TarInfo(name=name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.type = tarfile.REGTYPE
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def content_key(key_prefix: str, data: bytes, file_name: str) -> str:
    """`<key_prefix>/<sha256 prefix of data>/<file_name>`: the key changes exactly when the data does."""
    digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
    return "/".join(part for part in (key_prefix.strip("/"), digest, file_name) if part)


@dataclass(frozen=True)
class CodeObject:
    """One S3 object to upload: its key, bytes and SHA-256 (hex)."""

    key: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def content_base64(self) -> str:
        """The bytes for `aws.s3.BucketObjectv2(content_base64=...)` (the archive is binary)."""
        return base64.b64encode(self.data).decode("ascii")

    def uri(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.key}"


@dataclass(frozen=True)
class SeedCode:
    """The three code objects of the model build pipeline."""

    preprocess: CodeObject
    evaluate: CodeObject
    sourcedir: CodeObject

    def objects(self) -> tuple[CodeObject, ...]:
        return (self.preprocess, self.evaluate, self.sourcedir)

    def spec_uris(self, bucket: str) -> dict[str, str]:
        """The `PipelineSpec` fields naming this code: `PipelineSpec(**seed.spec_uris(bucket), ...)`."""
        return {
            "preprocess_code_uri": self.preprocess.uri(bucket),
            "evaluate_code_uri": self.evaluate.uri(bucket),
            "sourcedir_uri": self.sourcedir.uri(bucket),
        }


def package_seed_code(source_dir: Path = SEED_CODE_DIR, key_prefix: str = "code") -> SeedCode:
    """Read the seed scripts in `source_dir` and return them as content-addressed S3 objects."""
    source_dir = Path(source_dir)
    preprocess = _read(source_dir / PREPROCESS_SCRIPT)
    evaluate = _read(source_dir / EVALUATE_SCRIPT)
    sourcedir = build_sourcedir(source_dir)
    return SeedCode(
        preprocess=CodeObject(content_key(key_prefix, preprocess, PREPROCESS_SCRIPT), preprocess),
        evaluate=CodeObject(content_key(key_prefix, evaluate, EVALUATE_SCRIPT), evaluate),
        sourcedir=CodeObject(content_key(key_prefix, sourcedir, SOURCEDIR_NAME), sourcedir),
    )


def sample_data_object(source_dir: Path = SEED_CODE_DIR, key_prefix: str = "data/sample") -> CodeObject:
    """The sample CSV under a content-hashed key; `PipelineSpec(input_data_uri=obj.uri(bucket))`."""
    path = Path(source_dir) / SAMPLE_DATA_FILE
    data = _read(path)
    return CodeObject(content_key(key_prefix, data, path.name), data)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SeedCodeError(f"{path}: cannot read seed file ({error.strerror or error})") from None
