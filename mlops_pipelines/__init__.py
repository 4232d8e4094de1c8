"""The model build pipeline: one definition builder for every path (Pulumi, Service Catalog CodeBuild).

Public API (importing this package does not import the SageMaker SDK):

* `PipelineSpec`, `AthenaSource`, `PipelineSpecError`: the validated inputs (`spec.py`).
* `build_pipeline_definition(spec) -> str`: the definition JSON, offline and deterministic.
* `cached_pipeline_definition(spec, cache_dir=None) -> str`: the same, cached by a hash of its inputs.
* `package_seed_code(source_dir, key_prefix) -> SeedCode`: the seed scripts as content-hashed S3
  objects (`SeedCode.objects()`, `SeedCode.spec_uris(bucket)`); `build_sourcedir` for the archive;
  `sample_data_object()` for the sample CSV (content-hashed key too).
* `deploy.upsert_pipeline(client, spec, definition)` / `deploy.start_pipeline(client, name, git_commit)`:
  create-or-update and start for paths without Pulumi (the CodeBuild job).

`python -m mlops_pipelines --help` exposes the same for a CodeBuild buildspec.
"""

from mlops_pipelines.cache import cached_pipeline_definition, definition_cache_key
from mlops_pipelines.definition import build_pipeline_definition
from mlops_pipelines.sourcedir import (
    CodeObject,
    SeedCode,
    SeedCodeError,
    build_sourcedir,
    package_seed_code,
    sample_data_object,
)
from mlops_pipelines.spec import AthenaSource, PipelineSpec, PipelineSpecError

__all__ = [
    "AthenaSource",
    "CodeObject",
    "PipelineSpec",
    "PipelineSpecError",
    "SeedCode",
    "SeedCodeError",
    "build_pipeline_definition",
    "build_sourcedir",
    "cached_pipeline_definition",
    "definition_cache_key",
    "package_seed_code",
    "sample_data_object",
]
