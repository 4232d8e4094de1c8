"""The committed raw sample, curated with the ETL's own functions, fits the table Pulumi declares.

The Glue job refuses to write when the declared curated table differs from the curated schema
(``check_declared_schema``); this runs that check, and the row transformation, offline.
"""

from __future__ import annotations

import csv
import io
import re

from mlops_etl.pseudonymise import build_curated_schema, check_declared_schema, make_row_transformer, parse_columns
from mlops_core.paths import REPO_ROOT

KEY = b"k" * 32


def sample_rows(data_set) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((REPO_ROOT / data_set.sample_data).read_text())))


def declared_curated_columns(plan, data_set) -> list[dict[str, str]]:
    (table,) = [r for r in plan.of_type("aws:glue/catalogTable:CatalogTable") if r.inputs["name"] == f"{data_set.name}_curated"]
    return [{"Name": c["name"], "Type": c["type"]} for c in table.inputs["storageDescriptor"]["columns"]]


def test_declared_curated_table_passes_the_jobs_schema_check(data_plan, org) -> None:
    for data_set in org.data_sets:
        columns = [c.model_dump() for c in data_set.columns]
        check_declared_schema(declared_curated_columns(data_plan, data_set), build_curated_schema(columns))


def test_curated_sample_rows_have_exactly_the_declared_columns(data_plan, org) -> None:
    for data_set in [d for d in org.data_sets if d.sample_data]:
        transform = make_row_transformer(parse_columns([c.model_dump() for c in data_set.columns]), KEY)
        declared = [c["Name"] for c in declared_curated_columns(data_plan, data_set)]
        for row in sample_rows(data_set)[:200]:
            assert list(transform(row)) == declared, f"{data_set.name}: curated row columns differ from the table"


def test_no_raw_pii_value_reaches_the_curated_sample(org) -> None:
    for data_set in [d for d in org.data_sets if d.sample_data]:
        specs = parse_columns([c.model_dump() for c in data_set.columns])
        transform = make_row_transformer(specs, KEY)
        pii = [s.name for s in specs if s.pii]
        for row in sample_rows(data_set):
            curated = transform(row)
            values = {str(v) for v in curated.values()}
            leaked = [name for name in pii if row[name] in values]
            assert not leaked, f"{data_set.name}: raw {leaked} value in a curated row"
            for spec in specs:
                if spec.treatment == "pseudonymise":
                    assert re.fullmatch(r"[0-9a-f]{64}", curated[spec.name]), f"{spec.name}: {curated[spec.name]!r}"
