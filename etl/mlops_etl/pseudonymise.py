"""Pseudonymisation of PII columns for the curated data lake (keyed HMAC-SHA256, never plain hashing).

Each data set in the organisation config lists its columns as ``{name, type, pii, treatment}``:

- ``pii: false``: copied unchanged (``treatment`` must be absent).
- ``pii: true, treatment: drop`` (the default for PII): the column is not in the curated table.
- ``pii: true, treatment: pseudonymise``: the value is replaced by ``HMAC-SHA256(key, value)`` in hex,
  typed ``string``. The same value under the same key always gives the same pseudonym (joins and
  group-bys across data sets still work), another key gives unrelated pseudonyms.

Why a keyed HMAC and not a hash: identifiers such as worker IDs or serial numbers come from small,
guessable sets, so ``sha256(value)`` is reversed by hashing every candidate (a dictionary attack).
Without the key (in Secrets Manager, under the data KMS key) that is not possible. The output is
**pseudonymised, not anonymised**: whoever holds the key can re-identify by the same dictionary attack,
so the curated table is still personal data (GDPR Art. 4(5)) and pseudonymised columns are never
granted to projects (:func:`grantable_columns`).

Values are encoded as UTF-8 text before hashing: ``str`` as is, ``bytes`` unchanged, anything else by
``str()`` (so the integer ``1042`` and the string ``"1042"`` share a pseudonym; ``1042.0`` does not).
Nulls stay null. Column names are matched case-insensitively and written lower-case, as the Glue Data
Catalog stores them.

This module is used by ``glue_jobs/curate_dataset.py`` (shipped with ``--extra-py-files``) and may be
imported by the Pulumi program to declare the curated table (:func:`build_curated_schema`) and the Glue
job's ``--pii_columns_json`` argument (:func:`columns_argument`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from mlops_etl.catalog_types import DeclaredTypeError, converter, to_declared

DROP = "drop"
PSEUDONYMISE = "pseudonymise"
TREATMENTS = (DROP, PSEUDONYMISE)
DEFAULT_PII_TREATMENT = DROP  # least data by default
PSEUDONYM_TYPE = "string"
MIN_KEY_BYTES = 32  # 256 bits, the HMAC-SHA256 output size

# The Glue job's own arguments (besides JOB_NAME), as getResolvedOptions names them.
JOB_ARGUMENTS = (
    "source_database",
    "source_table",
    "target_database",
    "target_table",
    "target_path",
    "hmac_secret_id",
    "pii_columns_json",
)


class SchemaError(ValueError):
    """The column list or a row does not fit the declared schema; ``str()`` is one line."""


class KeyMaterialError(ValueError):
    """The HMAC key is missing or too short; ``str()`` is one line and never contains key material."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a data set: ``treatment`` is None for non-PII columns."""

    name: str
    type: str
    pii: bool
    treatment: str | None = None


# A data set's column list: config mappings ({name, type, pii, treatment}) or parsed ColumnSpecs.
Columns = Iterable["Mapping[str, Any] | ColumnSpec"]


def parse_columns(columns: Columns) -> tuple[ColumnSpec, ...]:
    """Validate a data set's column list (mappings or :class:`ColumnSpec`) and fill in PII defaults."""
    specs: list[ColumnSpec] = []
    seen: set[str] = set()
    for index, column in enumerate(columns):
        where = f"columns[{index}]"
        if isinstance(column, ColumnSpec):
            column = asdict(column)
        if not isinstance(column, Mapping):
            raise SchemaError(f"{where}: must be an object with name, type and pii")
        name = column.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SchemaError(f"{where}.name: must be a non-empty string")
        name = name.strip().lower()
        where = f"column {name!r}"
        if name in seen:
            raise SchemaError(f"{where}: declared twice (names are case-insensitive)")
        seen.add(name)
        column_type = column.get("type")
        if not isinstance(column_type, str) or not column_type.strip():
            raise SchemaError(f"{where}: type must be a non-empty string")
        try:
            converter(column_type)
        except DeclaredTypeError as error:
            raise SchemaError(f"{where}: {error}") from None
        pii = column.get("pii", False)
        if not isinstance(pii, bool):
            raise SchemaError(f"{where}: pii must be true or false, not {pii!r}")
        treatment = column.get("treatment")
        if not pii:
            if treatment is not None:
                raise SchemaError(f"{where}: treatment {treatment!r} is only allowed on a pii column")
        else:
            treatment = DEFAULT_PII_TREATMENT if treatment is None else treatment
            if treatment not in TREATMENTS:
                raise SchemaError(f"{where}: treatment must be one of {', '.join(TREATMENTS)}, not {treatment!r}")
        specs.append(ColumnSpec(name=name, type=column_type.strip(), pii=pii, treatment=treatment))
    if not specs:
        raise SchemaError("columns: the data set declares no columns")
    return tuple(specs)


def build_curated_schema(columns: Columns) -> list[dict[str, Any]]:
    """The curated table's columns, in source order: ``[{name, type, comment, pseudonymised}]``.

    Dropped columns are absent; pseudonymised ones are typed ``string``; others keep their type.
    ``name``/``type``/``comment`` map onto a Glue catalog table column.
    """
    curated: list[dict[str, Any]] = []
    for spec in parse_columns(columns):
        if spec.treatment == DROP:
            continue
        if spec.treatment == PSEUDONYMISE:
            curated.append(
                {
                    "name": spec.name,
                    "type": PSEUDONYM_TYPE,
                    "comment": "HMAC-SHA256 pseudonym (hex); still personal data",
                    "pseudonymised": True,
                }
            )
        else:
            curated.append({"name": spec.name, "type": spec.type, "comment": "", "pseudonymised": False})
    if not curated:
        raise SchemaError("columns: every column is dropped, the curated table would be empty")
    return curated


def grantable_columns(columns: Columns) -> list[str]:
    """Curated columns that may be granted to projects: the non-PII ones (pseudonyms are still PII)."""
    return [spec.name for spec in parse_columns(columns) if not spec.pii]


def columns_argument(columns: Columns) -> str:
    """The Glue job's ``--pii_columns_json`` value: the data set's full, normalised column list."""
    return json.dumps([asdict(spec) for spec in parse_columns(columns)], separators=(",", ":"))


def parse_columns_argument(text: str) -> tuple[ColumnSpec, ...]:
    """Parse ``--pii_columns_json`` (see :func:`columns_argument`)."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise SchemaError(f"--pii_columns_json: not valid JSON ({error.msg} at position {error.pos})") from None
    if not isinstance(value, list):
        raise SchemaError("--pii_columns_json: must be a JSON list of columns")
    return parse_columns(value)


def check_source_columns(source_columns: Iterable[str], specs: Iterable[ColumnSpec]) -> None:
    """Fail closed when the raw table and the declared columns differ.

    An undeclared column has no PII classification, so it must not flow to the curated table; a
    declared column missing from the source means the config and the catalog disagree.
    """
    declared = {spec.name for spec in specs}
    actual = {name.lower() for name in source_columns}
    unknown, missing = sorted(actual - declared), sorted(declared - actual)
    problems = []
    if unknown:
        problems.append(f"undeclared source columns {', '.join(unknown)} (classify them as pii or not)")
    if missing:
        problems.append(f"declared columns missing from the source: {', '.join(missing)}")
    if problems:
        raise SchemaError("; ".join(problems))


def check_declared_schema(declared_columns: Iterable[Mapping[str, Any]], curated: Iterable[Mapping[str, Any]]) -> None:
    """Compare a catalog table's columns (``[{Name, Type}]`` as GetTable returns them) with the curated schema."""
    declared = [(str(column.get("Name", "")).lower(), str(column.get("Type", "")).lower()) for column in declared_columns]
    expected = [(column["name"], column["type"].lower()) for column in curated]
    if declared != expected:
        raise SchemaError(
            "the curated table's declared columns "
            + ", ".join(f"{name}:{kind}" for name, kind in declared)
            + " differ from the curated schema "
            + ", ".join(f"{name}:{kind}" for name, kind in expected)
        )


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8")


def pseudonym(value: Any, key: bytes) -> str | None:
    """``HMAC-SHA256(key, value)`` as lower-case hex; None stays None. No key-length policy here."""
    if value is None:
        return None
    return hmac.new(key, _value_bytes(value), hashlib.sha256).hexdigest()


def validate_key(key: bytes) -> bytes:
    """Check the HMAC key: bytes of at least :data:`MIN_KEY_BYTES`."""
    if not isinstance(key, (bytes, bytearray)):
        raise KeyMaterialError("the HMAC key must be bytes")
    if len(key) < MIN_KEY_BYTES:
        raise KeyMaterialError(f"the HMAC key has {len(key)} bytes; at least {MIN_KEY_BYTES} are required")
    return bytes(key)


def make_row_transformer(specs: Iterable[ColumnSpec], key: bytes) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function turning one raw row (a mapping) into its curated row (a dict in curated order).

    Kept columns come out as their declared type (:func:`mlops_etl.catalog_types.to_declared`),
    pseudonyms as strings. Raises :class:`SchemaError` for a row with an undeclared column, without a
    declared one, or with a value that does not fit its declared type.
    """
    specs = tuple(specs)
    key = validate_key(key)
    declared = {spec.name for spec in specs}
    kept = [spec for spec in specs if spec.treatment != DROP]
    converters = {spec.name: converter(spec.type) for spec in kept}

    def transform(row: Mapping[str, Any]) -> dict[str, Any]:
        values = {str(name).lower(): value for name, value in row.items()}
        unknown = sorted(set(values) - declared)
        if unknown:
            raise SchemaError(f"row has undeclared columns: {', '.join(unknown)}")
        curated: dict[str, Any] = {}
        for spec in kept:
            if spec.name not in values:
                raise SchemaError(f"row lacks declared column {spec.name!r}")
            value = values[spec.name]
            if spec.treatment == PSEUDONYMISE:
                curated[spec.name] = pseudonym(value, key)
                continue
            try:
                curated[spec.name] = to_declared(value, spec.type, converters[spec.name])
            except DeclaredTypeError as error:
                raise SchemaError(f"column {spec.name!r}: {error}") from None
        return curated

    return transform


def make_partition_function(
    specs: Iterable[ColumnSpec], key: bytes
) -> Callable[[Iterable[Mapping[str, Any]]], Iterator[tuple[Any, ...]]]:
    """For Spark's ``mapPartitions``: raw rows (mappings) -> curated tuples in curated column order."""
    transform = make_row_transformer(specs, key)

    def curate_partition(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield tuple(transform(row).values())

    return curate_partition


def load_hmac_key(secret_id: str, client: Any = None) -> bytes:
    """Read the HMAC key from Secrets Manager (``GetSecretValue``; ``SecretBinary`` or UTF-8 ``SecretString``).

    Create the secret with at least 32 random bytes, e.g. a 64-character random password without
    punctuation. IAM: ``secretsmanager:GetSecretValue`` on the secret and ``kms:Decrypt`` on its key.
    """
    if client is None:
        import boto3  # only here: the pure functions above must not need boto3

        client = boto3.client("secretsmanager")
    response = client.get_secret_value(SecretId=secret_id)
    if response.get("SecretBinary") is not None:
        key = response["SecretBinary"]
    elif response.get("SecretString") is not None:
        key = response["SecretString"].encode("utf-8")
    else:
        raise KeyMaterialError(f"secret {secret_id}: has no value")
    try:
        return validate_key(key)
    except KeyMaterialError as error:
        raise KeyMaterialError(f"secret {secret_id}: {error}") from None
