"""Plain-Python ETL logic of the DATA account, shared by the Glue job and the Pulumi program.

The Glue job (``glue_jobs/curate_dataset.py``) stays a thin Spark wrapper; everything it decides lives
here and is unit-tested without Spark. The job receives this package through ``--extra-py-files``
(a zip of ``mlops_etl/`` staged in S3 by the data stack).
"""
