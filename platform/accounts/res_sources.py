"""RES: what the release bucket ships, as archives (pure file selection, no resources).

The deployer bundle (what the deploy actions run) and the image sources (what the image pipeline
builds from), both read from the checkout the stack's sources live in, without caches and without
files generated per checkout.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from mlops_core.paths import policy_config_file
from mlops_core.roles import STAGES

#: What the deploy actions run, archive path -> repository path: the serving program with the
#: packages it and the deployer import (first on PYTHONPATH, so program and library always match) and
#: the policy pack. Never ``platform/``: at the root it would shadow the stdlib module.
DEPLOYER_BUNDLE_SOURCES = {
    "serving": "serving",
    "mlops_core": "mlops_core",
    "components": "components",
    "mlops_platform": "mlops_platform",
    "mlops_functions": "mlops_functions",
    "mlops_pipelines": "mlops_pipelines",
    "mlops_etl": "etl/mlops_etl",
    "policies": "policies",
}
#: What the image pipeline builds from: the images and what the deploy image installs (pyproject's layout).
IMAGE_SOURCES = {
    path: path
    # etl/mlops_etl only: the Glue job and the raw sample (sensitive columns before pseudonymisation) stay out.
    for path in ("images", "mlops_core", "components", "mlops_platform", "mlops_functions", "mlops_pipelines",
                 "etl/mlops_etl", "policies", "pyproject.toml", "constraints.txt", "README.md")
}
PLATFORM_IMAGES = ("deploy", "inference")

#: Never shipped: byte code and caches change on every run and would make every preview show a diff.
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
#: Generated per checkout from its organization.yaml: taken from the project root, never from the sources.
GENERATED_PARTS = ("policies/config/",)


def image_tag(source_root: Path, image: str) -> str:
    """The released tag of a platform image: ``images/<image>/VERSION`` (tags are immutable)."""
    return (source_root / "images" / image / "VERSION").read_text(encoding="utf-8").strip()


def archive_files(sources: dict[str, str], root: Path) -> dict[str, Path]:
    """Archive name -> file for the existing ``sources`` (archive path -> path under ``root``: files,
    or directories walked), sorted, without caches and generated files."""
    files: dict[str, Path] = {}
    for archive_path, relative in sources.items():
        path = root / relative
        if path.is_file():
            members = {archive_path: path}
        else:
            walked = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else []
            members = {f"{archive_path}/{f.relative_to(path).as_posix()}": f for f in walked}
        for name, file in members.items():
            skipped = SKIPPED_PARTS & set(Path(name).parts) or name.endswith(".pyc")
            if not skipped and not file.relative_to(root).as_posix().startswith(GENERATED_PARTS):
                files[name] = file
    return files


def deployer_bundle_files(source_root: Path, project_root: Path) -> dict[str, Path]:
    """The deployer bundle: the sources, plus the organisation file and the stages' policy configs of
    the checkout the stack reads its config from."""
    files = archive_files(DEPLOYER_BUNDLE_SOURCES, source_root)
    files["organization.yaml"] = project_root / "organization.yaml"
    for stage in STAGES:
        config = policy_config_file(project_root, stage)
        files[config.relative_to(project_root).as_posix()] = config
    return dict(sorted(files.items()))


def file_archive(files: dict[str, Path]) -> pulumi.AssetArchive:
    """An archive of the files under their archive names."""
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(file)) for name, file in files.items()})
