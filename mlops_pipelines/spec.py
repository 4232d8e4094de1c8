"""`PipelineSpec`: everything the model build pipeline definition depends on, validated.

Pure data (no SageMaker SDK import): the Pulumi program, the "Model Building" product's CodeBuild
job and the tests build one from their own inputs, and `build_pipeline_definition` turns it into
the pipeline definition JSON. Equal specs give byte-identical definitions, so a spec's
`to_dict()` is also the cache key (see `cache.py`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# scikit-learn framework image version used for processing, training and inference when no image
# URI is given. One version for all three: the model is a joblib pickle, which only loads reliably
# with the scikit-learn version that wrote it. 1.9-0 matches the repository's scikit-learn 1.9.
DEFAULT_SKLEARN_VERSION = "1.9-0"

_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/[a-zA-Z0-9-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_IMAGE_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
_S3_PREFIX = re.compile(r"^[a-zA-Z0-9!_.*'()/-]*$")


class PipelineSpecError(ValueError):
    """A spec field is invalid. `str()` is one line: `<field>: <problem>`."""


@dataclass(frozen=True)
class AthenaSource:
    """The curated data set in the DATA account, read through an Athena `DatasetDefinition`.

    SageMaker runs the query (Lake Formation governs access) and hands the result to the
    network-isolated preprocessing container as JSON-lines files.
    """

    database: str
    """Glue database of the curated data set (a Lake Formation resource link in EXP)."""
    query: str
    """SELECT returning the `fault` label and the feature columns the seed scripts expect."""
    work_group: str = "primary"
    """Athena workgroup the query runs in (its settings may enforce the result location)."""
    catalog: str = "AwsDataCatalog"
    """Data catalog name."""


@dataclass(frozen=True)
class PipelineSpec:
    """Inputs of the model build pipeline definition. Lists are normalised to tuples."""

    pipeline_name: str
    """SageMaker pipeline name; also the S3 prefix of execution outputs unless `output_prefix` is set."""
    region: str
    """AWS region of the EXP account (selects the AWS-owned scikit-learn and Model Monitor images)."""
    role_arn: str
    """Pipeline role: the pipeline runs as it, and every job step passes it to its job."""
    bucket: str
    """The project's artifacts bucket (SSE-KMS); all step outputs go under `s3://<bucket>/<output_prefix>/`."""
    kms_key_arn: str
    """Key for job volumes, job outputs and the Athena query results (key ARN, same region)."""
    subnet_ids: tuple[str, ...]
    """Private EXP subnets every job runs in."""
    security_group_ids: tuple[str, ...]
    """Security groups of the jobs."""
    model_package_group_name: str
    """The project's model package group; new versions are registered `PendingManualApproval`."""
    preprocess_code_uri: str
    """`s3://.../preprocess.py` under a content-hashed key (see `sourcedir.package_seed_code`)."""
    evaluate_code_uri: str
    """`s3://.../evaluate.py` under a content-hashed key."""
    sourcedir_uri: str
    """`s3://.../sourcedir.tar.gz` (train.py + inference.py) under a content-hashed key."""
    input_data_uri: str | None = None
    """S3 prefix or object of the raw data (the sample CSV); exactly one of this and `athena`."""
    athena: AthenaSource | None = None
    """The curated data set through Athena, when the DATA stack exists."""
    metric_threshold: float = 0.5
    """Minimum test PR-AUC for registration (a literal in the condition: an execution cannot lower it)."""
    min_margin_over_baseline: float = 0.2
    """Minimum PR-AUC margin over the trivial baseline (the fault rate) for registration."""
    min_precision: float = 0.5
    """Precision floor for the decision threshold chosen in training and the reported recall."""
    default_dataset_version: str = "sample"
    """Default of the `DatasetVersion` execution parameter recorded in the model package."""
    output_prefix: str = ""
    """S3 key prefix of execution outputs; empty means `pipelines/<pipeline_name>`."""
    processing_image_uri: str | None = None
    """Image for preprocessing and evaluation; None: SageMaker's scikit-learn image for `region`."""
    training_image_uri: str | None = None
    """Training image; None: SageMaker's scikit-learn image for `region`."""
    inference_image_uri: str | None = None
    """Serving image of the registered model; None: SageMaker's scikit-learn image for `region`."""
    sklearn_version: str = DEFAULT_SKLEARN_VERSION
    """scikit-learn framework image version used for the images not given explicitly."""
    processing_instance_type: str = "ml.m5.large"
    training_instance_type: str = "ml.m5.large"
    baseline_instance_type: str = "ml.m5.large"
    inference_instance_types: tuple[str, ...] = ("ml.m5.large",)
    """Real-time instance types recorded in the model package."""
    transform_instance_types: tuple[str, ...] = ("ml.m5.large",)
    """Batch transform instance types recorded in the model package."""
    volume_size_gb: int = 30
    max_runtime_seconds: int = 3600
    """Stop condition of every job."""
    tags: tuple[tuple[str, str], ...] = field(default=())
    """Tags on every job the pipeline starts (e.g. `mlops:project`); a mapping is accepted."""

    def __post_init__(self) -> None:
        # Accept lists and mappings from callers (JSON, Pulumi outputs) but keep the spec hashable.
        for name in ("subnet_ids", "security_group_ids", "inference_instance_types", "transform_instance_types"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise PipelineSpecError(f"{name}: expected a list of strings, got a single string")
            object.__setattr__(self, name, tuple(value))
        tags = self.tags.items() if isinstance(self.tags, Mapping) else self.tags
        object.__setattr__(self, "tags", tuple(sorted((str(k), str(v)) for k, v in tags)))
        if isinstance(self.athena, Mapping):
            object.__setattr__(self, "athena", _athena_from_dict(self.athena))
        _validate(self)

    @property
    def resolved_output_prefix(self) -> str:
        return (self.output_prefix or f"pipelines/{self.pipeline_name}").strip("/")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible form (`from_dict` reverses it)."""
        data = dataclasses.asdict(self)
        for name in ("subnet_ids", "security_group_ids", "inference_instance_types", "transform_instance_types"):
            data[name] = list(data[name])
        data["tags"] = dict(self.tags)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineSpec:
        """Build a spec from `to_dict()` output or a hand-written JSON object (snake_case keys)."""
        if not isinstance(data, Mapping):
            raise PipelineSpecError("spec: expected a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PipelineSpecError(f"{unknown[0]}: unknown field (known: {', '.join(sorted(known))})")
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise PipelineSpecError(f"{missing[0]}: required field missing")
        try:
            return cls(**data)
        except TypeError as error:
            raise PipelineSpecError(f"spec: {error}") from None


def _athena_from_dict(data: Mapping[str, Any]) -> AthenaSource:
    known = {f.name for f in dataclasses.fields(AthenaSource)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PipelineSpecError(f"athena.{unknown[0]}: unknown field")
    try:
        return AthenaSource(**data)
    except TypeError as error:
        raise PipelineSpecError(f"athena: {error}") from None


def _check(condition: bool, field_name: str, problem: str) -> None:
    if not condition:
        raise PipelineSpecError(f"{field_name}: {problem}")


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _validate(spec: PipelineSpec) -> None:
    _check(_is_str(spec.pipeline_name) and bool(_PIPELINE_NAME.match(spec.pipeline_name)), "pipeline_name",
           f"{spec.pipeline_name!r} is not a valid SageMaker pipeline name (letters, digits, hyphens)")
    _check(_is_str(spec.region) and bool(_REGION.match(spec.region)), "region", f"{spec.region!r} is not an AWS region")
    _check(_is_str(spec.role_arn) and bool(_ROLE_ARN.match(spec.role_arn)), "role_arn", f"{spec.role_arn!r} is not an IAM role ARN")
    key = _KMS_KEY_ARN.match(spec.kms_key_arn) if isinstance(spec.kms_key_arn, str) else None
    _check(key is not None, "kms_key_arn", f"{spec.kms_key_arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    _check(key.group("region") == spec.region, "kms_key_arn", f"key is in {key.group('region')}, the pipeline in {spec.region}")
    _check(_is_str(spec.bucket) and bool(_BUCKET.match(spec.bucket)), "bucket", f"{spec.bucket!r} is not an S3 bucket name")
    _check(len(spec.subnet_ids) > 0, "subnet_ids", "at least one subnet is required (jobs run in the VPC)")
    for subnet in spec.subnet_ids:
        _check(isinstance(subnet, str) and bool(_SUBNET.match(subnet)), "subnet_ids", f"{subnet!r} is not a subnet id")
    _check(len(spec.security_group_ids) > 0, "security_group_ids", "at least one security group is required")
    for group in spec.security_group_ids:
        _check(isinstance(group, str) and bool(_SECURITY_GROUP.match(group)), "security_group_ids", f"{group!r} is not a security group id")
    _check(_is_str(spec.model_package_group_name) and bool(_GROUP_NAME.match(spec.model_package_group_name)),
           "model_package_group_name", f"{spec.model_package_group_name!r} is not a model package group name")
    for name, suffix in (("preprocess_code_uri", ".py"), ("evaluate_code_uri", ".py"), ("sourcedir_uri", ".tar.gz")):
        value = getattr(spec, name)
        _check(_is_str(value) and bool(_S3_URI.match(value)) and value.endswith(suffix), name, f"{value!r} is not an s3:// URI of a {suffix} file")
    _check((spec.input_data_uri is None) != (spec.athena is None), "input_data_uri",
           "give exactly one of input_data_uri (S3 sample data) and athena (curated data set)")
    if spec.input_data_uri is not None:
        _check(_is_str(spec.input_data_uri) and bool(_S3_URI.match(spec.input_data_uri)), "input_data_uri", f"{spec.input_data_uri!r} is not an s3:// URI")
    if spec.athena is not None:
        _check(isinstance(spec.athena, AthenaSource), "athena", "expected an AthenaSource or a mapping")
        for name in ("database", "query", "work_group", "catalog"):
            _check(_is_str(getattr(spec.athena, name)), f"athena.{name}", "must be a non-empty string")
        _check(spec.athena.query.lstrip().lower().startswith(("select", "with")), "athena.query", "must be a SELECT query")
    for name in ("metric_threshold", "min_margin_over_baseline", "min_precision"):
        value = getattr(spec, name)
        _check(isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0, name, f"{value!r} is not a number in [0, 1]")
    _check(_is_str(spec.default_dataset_version), "default_dataset_version", "must be a non-empty string")
    _check(isinstance(spec.output_prefix, str) and bool(_S3_PREFIX.match(spec.output_prefix)), "output_prefix", f"{spec.output_prefix!r} is not a plain S3 key prefix")
    for name in ("processing_image_uri", "training_image_uri", "inference_image_uri"):
        value = getattr(spec, name)
        _check(value is None or (isinstance(value, str) and bool(_IMAGE_URI.match(value))), name, f"{value!r} is not an ECR image URI")
    _check(_is_str(spec.sklearn_version), "sklearn_version", "must be a non-empty string")
    for name in ("processing_instance_type", "training_instance_type", "baseline_instance_type"):
        value = getattr(spec, name)
        _check(isinstance(value, str) and bool(_INSTANCE_TYPE.match(value)), name, f"{value!r} is not a SageMaker instance type")
    for name in ("inference_instance_types", "transform_instance_types"):
        values = getattr(spec, name)
        _check(len(values) > 0, name, "at least one instance type is required")
        for value in values:
            _check(isinstance(value, str) and bool(_INSTANCE_TYPE.match(value)), name, f"{value!r} is not a SageMaker instance type")
    _check(isinstance(spec.volume_size_gb, int) and 1 <= spec.volume_size_gb <= 16384, "volume_size_gb", f"{spec.volume_size_gb!r} is not 1..16384")
    _check(isinstance(spec.max_runtime_seconds, int) and 60 <= spec.max_runtime_seconds <= 432000, "max_runtime_seconds",
           f"{spec.max_runtime_seconds!r} is not 60..432000")
    for key_name, value in spec.tags:
        _check(0 < len(key_name) <= 128 and not key_name.lower().startswith("aws:"), "tags", f"{key_name!r} is not a usable tag key")
        _check(len(value) <= 256, "tags", f"value of {key_name!r} is longer than 256 characters")
