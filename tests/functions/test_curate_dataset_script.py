"""The Glue job script: it compiles, uses only what mlops_etl provides, takes the documented arguments,
and (run against stand-ins for awsglue/pyspark, which cannot run here) writes pseudonymised rows.

The stand-ins only record what the script asks Spark/Glue to do; the transformation itself runs for
real through mlops_etl. What is NOT covered: real Spark semantics (types, Parquet output, Lake
Formation access), which need a Glue environment.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import importlib
import py_compile
import runpy
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from mlops_etl import pseudonymise
from mlops_etl.pseudonymise import build_curated_schema, columns_argument

SCRIPT = Path(__file__).resolve().parents[2] / "etl" / "curate_dataset.py"
EXPECTED_ARGUMENTS = [
    "JOB_NAME",
    "source_database",
    "source_table",
    "target_database",
    "target_table",
    "target_path",
    "hmac_secret_id",
    "pii_columns_json",
]
SECRET_ID = "mlops/data/pseudonymisation-key"
KEY = "s" * 64
COLUMNS = [
    {"name": "robot_id", "type": "string", "pii": False},
    {"name": "operator_id", "type": "string", "pii": True, "treatment": "pseudonymise"},
    {"name": "operator_name", "type": "string", "pii": True, "treatment": "drop"},
    {"name": "fault", "type": "int", "pii": False},
]
RAW_ROWS = [
    {"robot_id": "R16", "operator_id": "W-1042", "operator_name": "Anna Berger", "fault": 0},
    {"robot_id": "R04", "operator_id": "W-1043", "operator_name": "Luca Rossi", "fault": 1},
]


def script_tree() -> ast.Module:
    return ast.parse(SCRIPT.read_text(encoding="utf-8"))


def test_script_compiles(tmp_path):
    py_compile.compile(str(SCRIPT), cfile=str(tmp_path / "curate_dataset.pyc"), doraise=True)


def test_script_uses_only_names_that_exist_in_mlops_etl():
    missing = []
    for node in ast.walk(script_tree()):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlops_etl"):
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{alias.name}" for alias in node.names if not hasattr(module, alias.name)]
    assert not missing, f"etl/curate_dataset.py imports names mlops_etl does not define: {missing}"


def test_script_imports_only_what_glue_provides_and_mlops_etl(source_imports):
    assert source_imports(SCRIPT) <= {"awsglue", "pyspark", "boto3", "mlops_etl"}


def test_script_reads_exactly_the_documented_job_arguments():
    calls = [
        node
        for node in ast.walk(script_tree())
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getResolvedOptions"
    ]
    assert len(calls) == 1, "the script must call getResolvedOptions once"
    assert ast.literal_eval(calls[0].args[1]) == EXPECTED_ARGUMENTS


def test_mlops_etl_job_arguments_constant_matches_the_script():
    assert list(pseudonymise.JOB_ARGUMENTS) == EXPECTED_ARGUMENTS[1:]


# --- a run against stand-ins ----------------------------------------------------------------------


class Recorder:
    """What the script asked Glue/Spark to do."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.written_rows: list[tuple] = []
        self.written_schema = None


class FakeRDD:
    def __init__(self, items):
        self.items = list(items)

    def map(self, function):
        return FakeRDD(map(function, self.items))

    def mapPartitions(self, function):  # noqa: N802 - Spark's name
        return FakeRDD(function(iter(self.items)))


class FakeRow(dict):
    def asDict(self):  # noqa: N802 - Spark's name
        return dict(self)


def install_fake_glue(monkeypatch, recorder: Recorder, raw_rows, raw_columns):
    fields = [SimpleNamespace(name=name, dataType=f"raw-type-of-{name}") for name in raw_columns]
    raw_frame = SimpleNamespace(
        rdd=FakeRDD(FakeRow(row) for row in raw_rows), columns=list(raw_columns), schema=SimpleNamespace(fields=fields)
    )

    class Writer:
        def mode(self, mode):
            recorder.calls.append(("mode", mode))
            return self

        def parquet(self, path):
            recorder.calls.append(("parquet", path))

    class Spark:
        def createDataFrame(self, rdd, schema):  # noqa: N802 - Spark's name
            recorder.written_rows, recorder.written_schema = rdd.items, schema
            return SimpleNamespace(write=Writer())

    class GlueContext:
        def __init__(self, spark_context):
            self.spark_session = Spark()
            self.create_dynamic_frame = SimpleNamespace(from_catalog=self.from_catalog)

        def from_catalog(self, database, table_name, transformation_ctx):
            recorder.calls.append(("from_catalog", database, table_name))
            return SimpleNamespace(toDF=lambda: raw_frame)

    class Job:
        def __init__(self, glue_context):
            pass

        def init(self, name, args):
            recorder.calls.append(("job.init", name))

        def commit(self):
            recorder.calls.append(("job.commit",))

    def get_resolved_options(argv, names):
        pairs = dict(zip(argv[1::2], argv[2::2]))
        return {name: pairs[f"--{name}"] for name in names}

    modules = {
        "awsglue": types.ModuleType("awsglue"),
        "awsglue.context": types.ModuleType("awsglue.context"),
        "awsglue.job": types.ModuleType("awsglue.job"),
        "awsglue.utils": types.ModuleType("awsglue.utils"),
        "pyspark": types.ModuleType("pyspark"),
        "pyspark.context": types.ModuleType("pyspark.context"),
        "pyspark.sql": types.ModuleType("pyspark.sql"),
        "pyspark.sql.types": types.ModuleType("pyspark.sql.types"),
    }
    modules["awsglue.context"].GlueContext = GlueContext
    modules["awsglue.job"].Job = Job
    modules["awsglue.utils"].getResolvedOptions = get_resolved_options
    modules["pyspark.context"].SparkContext = SimpleNamespace(getOrCreate=lambda: object())
    modules["pyspark.sql.types"].StringType = lambda: "string"
    modules["pyspark.sql.types"].StructField = lambda name, kind, nullable: (name, kind, nullable)
    modules["pyspark.sql.types"].StructType = list
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def aws(monkeypatch):
    glue = boto3.client("glue", region_name="eu-central-1")
    secrets = boto3.client("secretsmanager", region_name="eu-central-1")
    with Stubber(glue) as glue_stub, Stubber(secrets) as secrets_stub:
        clients = {"glue": glue, "secretsmanager": secrets}
        monkeypatch.setattr(boto3, "client", lambda service, *a, **k: clients[service])
        yield glue_stub, secrets_stub


def stub_target_table(glue_stub, columns):
    glue_stub.add_response(
        "get_table",
        {
            "Table": {
                "Name": "sensor_readings",
                "DatabaseName": "curated",
                "StorageDescriptor": {"Columns": [{"Name": c["name"], "Type": c["type"]} for c in columns]},
            }
        },
        {"DatabaseName": "curated", "Name": "sensor_readings"},
    )


def run_script(monkeypatch, recorder, raw_rows=RAW_ROWS, raw_columns=None):
    install_fake_glue(monkeypatch, recorder, raw_rows, raw_columns or [c["name"] for c in COLUMNS])
    argv = [str(SCRIPT), "--JOB_NAME", "mlops-curate-sensor-readings",
            "--source_database", "raw", "--source_table", "sensor_readings",
            "--target_database", "curated", "--target_table", "sensor_readings",
            "--target_path", "s3://mlops-curated-111111111111-eu-central-1/sensor_readings/",
            "--hmac_secret_id", SECRET_ID, "--pii_columns_json", columns_argument(COLUMNS)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPT), run_name="__main__")


def test_job_writes_pseudonymised_rows_without_dropped_columns(monkeypatch, aws):
    glue_stub, secrets_stub = aws
    stub_target_table(glue_stub, build_curated_schema(COLUMNS))
    secrets_stub.add_response(
        "get_secret_value", {"Name": SECRET_ID, "SecretString": KEY}, {"SecretId": SECRET_ID}
    )
    recorder = Recorder()
    run_script(monkeypatch, recorder)
    pseudonym = hmac.new(KEY.encode(), b"W-1042", hashlib.sha256).hexdigest()
    assert recorder.written_rows[0] == ("R16", pseudonym, 0)


def test_job_writes_pseudonyms_as_strings_and_every_column_in_its_declared_type(monkeypatch, aws):
    glue_stub, secrets_stub = aws
    stub_target_table(glue_stub, build_curated_schema(COLUMNS))
    secrets_stub.add_response("get_secret_value", {"Name": SECRET_ID, "SecretString": KEY}, {"SecretId": SECRET_ID})
    recorder = Recorder()
    run_script(monkeypatch, recorder)
    assert recorder.written_schema == "`robot_id` STRING, `operator_id` STRING, `fault` INT", (
        "curate_dataset.py: the DataFrame's schema is not the declared catalog types (pseudonyms as strings)"
    )


def test_job_overwrites_the_target_path_and_commits(monkeypatch, aws):
    glue_stub, secrets_stub = aws
    stub_target_table(glue_stub, build_curated_schema(COLUMNS))
    secrets_stub.add_response("get_secret_value", {"Name": SECRET_ID, "SecretString": KEY}, {"SecretId": SECRET_ID})
    recorder = Recorder()
    run_script(monkeypatch, recorder)
    assert recorder.calls[-3:] == [
        ("mode", "overwrite"),
        ("parquet", "s3://mlops-curated-111111111111-eu-central-1/sensor_readings/"),
        ("job.commit",),
    ]


def test_job_stops_with_one_line_when_the_declared_table_differs(monkeypatch, aws, capsys):
    glue_stub, _ = aws
    stale = build_curated_schema(COLUMNS) + [{"name": "operator_name", "type": "string"}]
    stub_target_table(glue_stub, stale)
    with pytest.raises(SystemExit) as exited:
        run_script(monkeypatch, Recorder())
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the curated table's declared columns") and error.count("\n") == 1


def test_job_refuses_a_raw_table_with_an_undeclared_column(monkeypatch, aws, capsys):
    glue_stub, secrets_stub = aws
    stub_target_table(glue_stub, build_curated_schema(COLUMNS))
    secrets_stub.add_response("get_secret_value", {"Name": SECRET_ID, "SecretString": KEY}, {"SecretId": SECRET_ID})
    recorder = Recorder()
    with pytest.raises(SystemExit):
        run_script(monkeypatch, recorder, raw_columns=[c["name"] for c in COLUMNS] + ["badge_number"])
    assert "badge_number" in capsys.readouterr().err
    assert not recorder.written_rows, "nothing may be written when the raw table has unclassified columns"


@pytest.mark.parametrize("path", [SCRIPT, Path(pseudonymise.__file__)], ids=["script", "mlops_etl.pseudonymise"])
def test_glue_code_is_python_3_10_syntax(path):
    # Glue 4.0 runs Python 3.10; this catches newer syntax (not newer library calls).
    ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 10))
