"""Glue ETL job: raw catalog table -> curated Parquet with PII columns dropped or pseudonymised.

A thin Spark wrapper. Every decision (which columns, which treatment, the keyed HMAC-SHA256, schema
checks) lives in the ``mlops_etl`` package, unit-tested without Spark; the job receives it with
``--extra-py-files s3://<bucket>/<prefix>/mlops_etl.zip`` (a zip holding ``mlops_etl/`` at its root,
built and uploaded by the data stack).

Job (for the data stack): Glue 4.0 or later (Python 3.10+), type ``glueetl``, the platform's Glue
security configuration and NETWORK connection, ``--job-bookmark-option job-bookmark-disable`` (each
run rewrites the whole curated table, so bookmarks would only skip data).

Arguments (all required; ``JOB_NAME`` is set by Glue):
    --source_database   Glue database of the raw table
    --source_table      raw table (declared by Pulumi from the data set config)
    --target_database   Glue database of the curated table
    --target_table      curated table (declared by Pulumi with ``mlops_etl.pseudonymise.build_curated_schema``)
    --target_path       s3:// location of the curated table; overwritten on every run
    --hmac_secret_id    Secrets Manager secret id/ARN of the HMAC key (at least 32 bytes)
    --pii_columns_json  the data set's full column list, ``mlops_etl.pseudonymise.columns_argument(columns)``

Job role IAM: ``glue:GetTable``/``glue:GetDatabase``/``glue:GetPartitions`` on the two tables and
databases, ``lakeformation:GetDataAccess`` (Lake Formation vends the S3 access for registered
locations), S3 read on the raw location and write on ``--target_path`` where not vended by Lake
Formation, ``secretsmanager:GetSecretValue`` on the key secret, ``kms:Decrypt``/``kms:GenerateDataKey``
on the data key; Lake Formation SELECT on the raw table and DESCRIBE on the curated one.
"""

from __future__ import annotations

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from mlops_etl.catalog_types import spark_schema_ddl
from mlops_etl.pseudonymise import (
    KeyMaterialError,
    SchemaError,
    build_curated_schema,
    check_declared_schema,
    check_source_columns,
    load_hmac_key,
    make_partition_function,
    parse_columns_argument,
)


def main() -> None:
    args = getResolvedOptions(
        sys.argv,
        [
            "JOB_NAME",
            "source_database",
            "source_table",
            "target_database",
            "target_table",
            "target_path",
            "hmac_secret_id",
            "pii_columns_json",
        ],
    )
    columns = parse_columns_argument(args["pii_columns_json"])
    curated = build_curated_schema(columns)

    # Refuse to write files the declared curated table could not read.
    target = boto3.client("glue").get_table(DatabaseName=args["target_database"], Name=args["target_table"])
    check_declared_schema(target["Table"]["StorageDescriptor"]["Columns"], curated)

    key = load_hmac_key(args["hmac_secret_id"])

    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    raw = glue_context.create_dynamic_frame.from_catalog(
        database=args["source_database"], table_name=args["source_table"], transformation_ctx="raw"
    ).toDF()
    check_source_columns(raw.columns, columns)

    # The declared types, never the inferred ones (a CSV's int comes out long, which Athena rejects
    # against the table's int): the rows carry values converted to them, the frame has their schema.
    rows = raw.rdd.map(lambda row: row.asDict()).mapPartitions(make_partition_function(columns, key))
    spark.createDataFrame(rows, spark_schema_ddl(curated)).write.mode("overwrite").parquet(args["target_path"])
    job.commit()


if __name__ == "__main__":
    try:
        main()
    except (SchemaError, KeyMaterialError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
