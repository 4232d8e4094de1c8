"""Cache built pipeline definitions by a hash of everything they depend on.

Building a definition imports the SageMaker SDK (about 2.5 s) and runs its step compilers; the
offline plan builds one per model project on every run. The key covers the spec, the source of
this package (a builder change invalidates old entries) and the installed sagemaker version, so a
hit returns exactly what a fresh build would. Entries live in `<repo>/.plan-cache/pipeline-definitions/`
(git-ignored) in a source checkout, else in the system temp directory, or where `cache_dir` /
`MLOPS_PIPELINE_CACHE_DIR` say.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from mlops_pipelines.spec import PipelineSpec

CACHE_DIR_VARIABLE = "MLOPS_PIPELINE_CACHE_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parent
_CACHE_SUBDIR = "pipeline-definitions"


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE])
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / ".plan-cache" / _CACHE_SUBDIR
    return Path(tempfile.gettempdir()) / "mlops-platform" / _CACHE_SUBDIR


def _builder_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def definition_cache_key(spec: PipelineSpec) -> str:
    """SHA-256 over the spec, this package's source and the sagemaker version."""
    material = {
        "spec": spec.to_dict(),
        "builder": _builder_fingerprint(),
        "sagemaker": metadata.version("sagemaker"),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def cached_pipeline_definition(spec: PipelineSpec, cache_dir: Path | None = None) -> str:
    """`build_pipeline_definition(spec)`, served from the cache when the inputs are unchanged."""
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entry = directory / f"{definition_cache_key(spec)}.json"
    try:
        cached = entry.read_text(encoding="utf-8")
        json.loads(cached)
        return cached
    except (OSError, ValueError):
        pass  # missing or damaged entry: rebuild below

    from mlops_pipelines.definition import build_pipeline_definition

    definition = build_pipeline_definition(spec)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half an entry.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, suffix=".tmp", delete=False) as handle:
            handle.write(definition)
        os.replace(handle.name, entry)
    except OSError:
        pass  # a read-only or full disk costs speed, not correctness
    return definition
