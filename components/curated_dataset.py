"""One data set of the lake: raw table -> Glue ETL (pseudonymisation) -> curated table.

Builds, for a data set from ``organization.yaml`` (``dataSets``):

* a Glue database with two tables: ``<name>_raw`` (CSV in the raw bucket, every column as
  configured, PII included) and ``<name>_curated`` (Parquet in the curated bucket). The curated
  table is declared here from :func:`mlops_etl.pseudonymise.build_curated_schema`, so its schema
  exists, and the model build pipeline's Athena input resolves, before the first ETL run;
* the sample CSV (``sampleData``) uploaded to the raw location;
* the Glue job running ``etl/curate_dataset.py`` with the ``mlops_etl`` zip, the lake's
  security configuration and NETWORK connection, and its arguments; a scheduled trigger (the data
  set's ``curationSchedule``) and an on-demand trigger (``aws glue start-trigger --name
  <job>-on-demand``);
* Lake Formation permissions for the ETL role: SELECT/DESCRIBE on the raw table, DESCRIBE on the
  curated one (the job checks the declared schema before writing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from mlops_etl.pseudonymise import build_curated_schema, columns_argument
from mlops_core.config import DataSet

CSV_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
#: Glue 4.0: Spark 3.3, Python 3.10 (``mlops_etl`` needs 3.10+).
GLUE_VERSION = "4.0"


@dataclass
class CuratedDatasetArgs:
    """Inputs of a :class:`CuratedDataset`."""

    data_set: DataSet
    """The data set's config (``mlops_core.config.DataSet``: name, location, columns, sample_data)."""
    account_id: str
    database_name: str
    raw_table_name: str
    curated_table_name: str
    job_name: str
    raw_bucket: pulumi.Input[str]
    curated_bucket: pulumi.Input[str]
    etl_bucket: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    """The data key (sample upload)."""
    etl_role_arn: pulumi.Input[str]
    security_configuration: pulumi.Input[str]
    connection_name: pulumi.Input[str]
    hmac_secret_arn: pulumi.Input[str]
    script_location: pulumi.Input[str]
    extra_py_files: pulumi.Input[str]
    repo_root: Path
    """Where ``sampleData`` paths are resolved."""
    catalog_ready: list[pulumi.Resource] = field(default_factory=list)
    """What the database and tables must wait for: the catalog's encryption settings and the Lake
    Formation settings and registrations. Given to each of them: a component's ``depends_on`` does
    not reach its children, so the caller's options cannot order them."""
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: int = 60


def raw_columns(data_set: DataSet) -> list[aws.glue.CatalogTableStorageDescriptorColumnArgs]:
    return [
        aws.glue.CatalogTableStorageDescriptorColumnArgs(
            name=column.name, type=column.type, comment="PII" if column.pii else None
        )
        for column in data_set.columns
    ]


def curated_columns(data_set: DataSet) -> list[aws.glue.CatalogTableStorageDescriptorColumnArgs]:
    """The curated table's columns: dropped PII absent, pseudonymised PII as string."""
    schema = build_curated_schema([column.model_dump() for column in data_set.columns])
    return [
        aws.glue.CatalogTableStorageDescriptorColumnArgs(name=c["name"], type=c["type"], comment=c["comment"] or None)
        for c in schema
    ]


def job_arguments(
    args: CuratedDatasetArgs, target_path: str, secret_arn: str, extra_py_files: str, etl_bucket: str
) -> dict[str, str]:
    """The Glue job's default arguments (plain values; see ``etl/curate_dataset.py``)."""
    return {
        "--job-language": "python",
        "--extra-py-files": extra_py_files,
        # Each run rewrites the whole curated table; bookmarks would only skip data.
        "--job-bookmark-option": "job-bookmark-disable",
        "--TempDir": f"s3://{etl_bucket}/tmp/{args.job_name}/",
        "--enable-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--source_database": args.database_name,
        "--source_table": args.raw_table_name,
        "--target_database": args.database_name,
        "--target_table": args.curated_table_name,
        "--target_path": target_path,
        "--hmac_secret_id": secret_arn,
        "--pii_columns_json": columns_argument([column.model_dump() for column in args.data_set.columns]),
    }


class CuratedDataset(pulumi.ComponentResource):
    """Database, raw and curated tables, sample upload, curation job and triggers of one data set."""

    database: aws.glue.CatalogDatabase
    raw_table: aws.glue.CatalogTable
    curated_table: aws.glue.CatalogTable
    job: aws.glue.Job
    curated_location: pulumi.Output[str]

    def __init__(self, name: str, args: CuratedDatasetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:data:CuratedDataset", name, None, opts)
        data_set = args.data_set
        self.curated_location = pulumi.Output.concat("s3://", args.curated_bucket, "/", data_set.location)
        self._tables(name, args)
        if data_set.sample_data:
            self._sample(name, args)
        self._curation_job(name, args)
        self.register_outputs(
            {
                "databaseName": self.database.name,
                "curatedTableName": self.curated_table.name,
                "curatedLocation": self.curated_location,
                "jobName": self.job.name,
            }
        )

    def _tables(self, name: str, args: CuratedDatasetArgs) -> None:
        """The data set's database (no IAMAllowedPrincipals default) with its raw and curated tables."""
        data_set = args.data_set
        after_catalog = pulumi.ResourceOptions(parent=self, depends_on=args.catalog_ready)
        raw_location = pulumi.Output.concat("s3://", args.raw_bucket, "/", data_set.location)
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            aws.glue.CatalogDatabaseArgs(
                name=args.database_name,
                catalog_id=args.account_id,
                description=f"Data set {data_set.name}: raw (PII, never granted) and curated tables",
                # No IAMAllowedPrincipals default: access to new tables only through Lake Formation grants.
                create_table_default_permissions=[],
            ),
            opts=after_catalog,
        )
        in_db = pulumi.ResourceOptions(parent=self.database, depends_on=args.catalog_ready)
        self.raw_table = aws.glue.CatalogTable(
            f"{name}-raw-table",
            aws.glue.CatalogTableArgs(
                name=args.raw_table_name,
                database_name=self.database.name,
                catalog_id=args.account_id,
                description=f"{data_set.name} as delivered (CSV with header); contains PII",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "csv", "skip.header.line.count": "1", "mlops:contains-pii": "true"},
                storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                    location=raw_location,
                    input_format=TEXT_INPUT,
                    output_format=TEXT_OUTPUT,
                    columns=raw_columns(data_set),
                    ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                        serialization_library=CSV_SERDE, parameters={"field.delim": ",", "serialization.format": ","}
                    ),
                ),
            ),
            opts=in_db,
        )
        self.curated_table = aws.glue.CatalogTable(
            f"{name}-curated-table",
            aws.glue.CatalogTableArgs(
                name=args.curated_table_name,
                database_name=self.database.name,
                catalog_id=args.account_id,
                description=f"{data_set.name} curated: PII dropped or pseudonymised (keyed HMAC); still personal data",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", "mlops:pseudonymised": "true"},
                storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                    location=self.curated_location,
                    input_format=PARQUET_INPUT,
                    output_format=PARQUET_OUTPUT,
                    columns=curated_columns(data_set),
                    ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(serialization_library=PARQUET_SERDE),
                ),
            ),
            opts=in_db,
        )

    def _sample(self, name: str, args: CuratedDatasetArgs) -> None:
        """The data set's sample file, uploaded to the raw bucket (KMS-encrypted)."""
        data_set = args.data_set
        sample = args.repo_root / data_set.sample_data
        if not sample.is_file():
            raise ValueError(f"dataSets ({data_set.name}): sampleData {data_set.sample_data} does not exist")
        aws.s3.BucketObjectv2(
            f"{name}-sample",
            aws.s3.BucketObjectv2Args(
                bucket=args.raw_bucket,
                key=f"{data_set.location}{sample.name}",
                source=pulumi.FileAsset(str(sample)),
                content_type="text/csv",
                server_side_encryption="aws:kms",
                kms_key_id=args.kms_key_arn,
                bucket_key_enabled=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _curation_job(self, name: str, args: CuratedDatasetArgs) -> None:
        """The Glue job, its scheduled and on-demand triggers, and its Lake Formation permissions."""
        data_set = args.data_set
        self.job = aws.glue.Job(
            f"{name}-curation-job",
            aws.glue.JobArgs(
                name=args.job_name,
                description=f"Curates {data_set.name}: drops or pseudonymises PII columns (keyed HMAC-SHA256)",
                role_arn=args.etl_role_arn,
                glue_version=GLUE_VERSION,
                command=aws.glue.JobCommandArgs(name="glueetl", python_version="3", script_location=args.script_location),
                default_arguments=pulumi.Output.all(
                    self.curated_location, args.hmac_secret_arn, args.extra_py_files, args.etl_bucket
                ).apply(lambda values: job_arguments(args, *values)),
                security_configuration=args.security_configuration,
                connections=[args.connection_name],
                worker_type=args.worker_type,
                number_of_workers=args.number_of_workers,
                timeout=args.timeout_minutes,
                max_retries=0,
                execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.curated_table, self.raw_table]),
        )
        in_job = pulumi.ResourceOptions(parent=self.job)
        action = [aws.glue.TriggerActionArgs(job_name=self.job.name)]
        aws.glue.Trigger(
            f"{name}-scheduled",
            aws.glue.TriggerArgs(
                name=f"{args.job_name}-scheduled",
                type="SCHEDULED",
                schedule=data_set.curation_schedule,
                start_on_creation=True,
                actions=action,
                description=f"Curates {data_set.name} on schedule",
            ),
            opts=in_job,
        )
        aws.glue.Trigger(
            f"{name}-on-demand",
            aws.glue.TriggerArgs(
                name=f"{args.job_name}-on-demand",
                type="ON_DEMAND",
                actions=action,
                description=f"Curates {data_set.name} now: aws glue start-trigger --name {args.job_name}-on-demand",
            ),
            opts=in_job,
        )

        # The job reads the raw table through the catalog (Lake Formation vends S3 access) and
        # checks the curated table's declared columns before overwriting its files.
        aws.lakeformation.Permissions(
            f"{name}-etl-reads-raw",
            aws.lakeformation.PermissionsArgs(
                principal=args.etl_role_arn,
                permissions=["DESCRIBE", "SELECT"],
                table=aws.lakeformation.PermissionsTableArgs(
                    catalog_id=args.account_id, database_name=self.database.name, name=self.raw_table.name
                ),
            ),
            opts=in_job,
        )
        aws.lakeformation.Permissions(
            f"{name}-etl-describes-curated",
            aws.lakeformation.PermissionsArgs(
                principal=args.etl_role_arn,
                permissions=["DESCRIBE"],
                table=aws.lakeformation.PermissionsTableArgs(
                    catalog_id=args.account_id, database_name=self.database.name, name=self.curated_table.name
                ),
            ),
            opts=in_job,
        )
