"""Runtime code of the platform: Lambda handlers and small boto3 checks.

Every Lambda module here is self-contained: one file with a ``handler(event, context)`` function that
imports only the standard library and boto3/botocore (both ship with the Lambda Python runtime), so it
can be packaged as a single file at the root of the function's zip. Each module's docstring names its
handler path, its environment variables and the IAM actions its role needs.

- ``model_trigger``: RES trigger Lambda, model package creation event -> StartPipelineExecution.
- ``inference_api``: Lambda behind the private REST API, proxies to ``InvokeEndpoint``.
- ``monitoring_baseline``: reads the data-quality baseline from a model package (used by the deployer).
- ``codeconnections_doctor``: reports CodeConnections connections that are not AVAILABLE.
"""
