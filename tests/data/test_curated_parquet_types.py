"""The curated Parquet files carry the catalog table's declared types, not the types a CSV infers.

Athena reads a Parquet file against the table's declared columns and fails with ``HIVE_BAD_DATA``
when, say, a declared ``int`` arrives as INT64. The sample is curated with the job's own row
function and written with the job's own Spark schema (``spark_schema_ddl``), translated to Arrow by
Spark's documented Parquet mapping (below, written out by hand); the written file's schema is then
compared with the table Pulumi declares, through Athena's Hive-to-Parquet mapping. What Spark itself
does with the DDL is not run here (no Spark offline): docs/verify-in-sandbox.md.
"""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlops_core.paths import REPO_ROOT
from mlops_etl.catalog_types import spark_schema_ddl
from mlops_etl.pseudonymise import SchemaError, build_curated_schema, make_row_transformer, parse_columns

KEY = b"k" * 32

#: Spark SQL type -> what Spark writes to Parquet (Spark SQL guide, "Parquet Files"; as Arrow types).
SPARK_TO_ARROW = {
    "STRING": pa.string(),
    "INT": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "FLOAT": pa.float32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}
#: Hive/Glue catalog type -> the Parquet type Athena reads it from (Athena, "Data types in Athena").
CATALOG_TO_ARROW = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


def arrow_schema(ddl: str) -> pa.Schema:
    fields = re.findall(r"`([^`]+)` ([A-Z]+)", ddl)
    return pa.schema([pa.field(name, SPARK_TO_ARROW[kind]) for name, kind in fields])


def sample_data_sets(org):
    return [d for d in org.data_sets if d.sample_data]


def declared_curated_columns(plan, data_set) -> list[tuple[str, str]]:
    (table,) = [r for r in plan.of_type("aws:glue/catalogTable:CatalogTable") if r.inputs["name"] == f"{data_set.name}_curated"]
    return [(c["name"], c["type"]) for c in table.inputs["storageDescriptor"]["columns"]]


def write_curated_sample(data_set, directory) -> pa.Schema:
    columns = [c.model_dump() for c in data_set.columns]
    transform = make_row_transformer(parse_columns(columns), KEY)
    rows = [transform(row) for row in csv.DictReader(io.StringIO((REPO_ROOT / data_set.sample_data).read_text()))]
    path = directory / f"{data_set.name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(spark_schema_ddl(build_curated_schema(columns)))), path)
    return pq.read_schema(path)


def test_curated_parquet_columns_have_the_declared_catalog_types(data_plan, org, tmp_path) -> None:
    for data_set in sample_data_sets(org):
        written = write_curated_sample(data_set, tmp_path)
        for name, declared in declared_curated_columns(data_plan, data_set):
            assert written.field(name).type == CATALOG_TO_ARROW[declared], (
                f"{data_set.name}_curated.{name}: the Parquet file has {written.field(name).type}, "
                f"the catalog declares {declared} (Athena reads it as {CATALOG_TO_ARROW[declared]})"
            )


def test_declared_int_fault_is_int32_in_the_curated_parquet(org, tmp_path) -> None:
    (data_set,) = [d for d in org.data_sets if d.name == "welding_sensors"]
    written = write_curated_sample(data_set, tmp_path)
    assert written.field("fault").type == pa.int32(), f"welding_sensors_curated.fault: {written.field('fault').type}, not int32"


def transform_one(declared: str, value: str):
    transform = make_row_transformer(parse_columns([{"name": "x", "type": declared}]), KEY)
    return transform({"x": value})["x"]


def test_a_curated_int_outside_32_bits_is_refused() -> None:
    with pytest.raises(SchemaError, match="column 'x'.*2147483648.*int"):
        transform_one("int", "2147483648")


def test_a_curated_int_with_a_fraction_is_refused() -> None:
    with pytest.raises(SchemaError, match="column 'x'.*1.5"):
        transform_one("int", "1.5")


def test_an_empty_numeric_field_is_curated_as_null() -> None:
    assert transform_one("double", "") is None, "an empty CSV field of a double column must be null, not ''"


def test_a_decimal_is_curated_at_its_declared_scale() -> None:
    assert str(transform_one("decimal(5,2)", "3.14159")) == "3.14", "decimal(5,2) must keep two decimal places"


def test_a_column_type_the_curation_cannot_write_is_refused() -> None:
    with pytest.raises(SchemaError, match="column 'x'.*'map<string,int>'"):
        parse_columns([{"name": "x", "type": "map<string,int>"}])
