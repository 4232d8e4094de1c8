"""The Glue ETL code as S3 objects: the job script and a deterministic zip of ``mlops_etl/``.

Glue imports helper packages from ``--extra-py-files`` zips. The zip is built here, byte for byte
the same for the same sources (sorted entries, fixed timestamps and permissions), and uploaded under
a content-hashed key: a changed module changes the key, which changes the job's argument and
updates the job; an unchanged one leaves both alone. No file is written: the zip goes up as
``content_base64``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

#: The earliest timestamp a zip entry can carry; any fixed value makes the archive reproducible.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SKIPPED_PARTS = {"__pycache__"}


def package_files(package_dir: Path) -> list[Path]:
    """The package's Python sources, sorted by their path inside the package."""
    files = [
        path
        for path in package_dir.rglob("*.py")
        if path.is_file() and not _SKIPPED_PARTS.intersection(path.relative_to(package_dir).parts)
    ]
    return sorted(files, key=lambda path: path.relative_to(package_dir).as_posix())


def build_package_zip(package_dir: Path) -> bytes:
    """A zip holding ``<package name>/...`` at its root, identical for identical sources."""
    if not (package_dir / "__init__.py").is_file():
        raise ValueError(f"{package_dir} is not a Python package (no __init__.py)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in package_files(package_dir):
            info = zipfile.ZipInfo(f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below mean the same everywhere
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def content_key(prefix: str, stem: str, suffix: str, content: bytes) -> str:
    """``<prefix><stem>-<sha256[:16]><suffix>``: a new key whenever the content changes."""
    return f"{prefix}{stem}-{hashlib.sha256(content).hexdigest()[:16]}{suffix}"


@dataclass
class EtlCodeArgs:
    """Inputs of an :class:`EtlCode`."""

    bucket: pulumi.Input[str]
    """The ETL assets bucket (a SecureBucket)."""
    kms_key_arn: pulumi.Input[str]
    """Key the objects are encrypted with (the bucket's key)."""
    script_path: Path
    """The Glue job script in the repo (``etl/curate_dataset.py``)."""
    package_dir: Path
    """The helper package shipped with ``--extra-py-files`` (``mlops_etl/``)."""
    key_prefix: str = "glue/"


class EtlCode(pulumi.ComponentResource):
    """The Glue script and helper zip, uploaded under content-hashed keys."""

    script_location: pulumi.Output[str]
    """``s3://`` URI of the script (the job's ``command.scriptLocation``)."""
    extra_py_files: pulumi.Output[str]
    """``s3://`` URI of the zip (the job's ``--extra-py-files``)."""

    def __init__(self, name: str, args: EtlCodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:EtlCode", name, None, opts)
        script = args.script_path.read_bytes()
        package = build_package_zip(args.package_dir)
        script_key = content_key(args.key_prefix, args.script_path.stem, ".py", script)
        package_key = content_key(args.key_prefix, args.package_dir.name, ".zip", package)
        here = pulumi.ResourceOptions(parent=self)
        script_object = aws.s3.BucketObjectv2(
            f"{name}-script",
            aws.s3.BucketObjectv2Args(
                bucket=args.bucket,
                key=script_key,
                content=script.decode("utf-8"),
                content_type="text/x-python",
                server_side_encryption="aws:kms",
                kms_key_id=args.kms_key_arn,
                bucket_key_enabled=True,
            ),
            opts=here,
        )
        package_object = aws.s3.BucketObjectv2(
            f"{name}-package",
            aws.s3.BucketObjectv2Args(
                bucket=args.bucket,
                key=package_key,
                content_base64=base64.b64encode(package).decode("ascii"),
                content_type="application/zip",
                server_side_encryption="aws:kms",
                kms_key_id=args.kms_key_arn,
                bucket_key_enabled=True,
            ),
            opts=here,
        )
        self.script_location = pulumi.Output.concat("s3://", script_object.bucket, "/", script_object.key)
        self.extra_py_files = pulumi.Output.concat("s3://", package_object.bucket, "/", package_object.key)
        self.register_outputs({"scriptLocation": self.script_location, "extraPyFiles": self.extra_py_files})
