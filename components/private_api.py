"""A private REST API in front of one SageMaker endpoint.

``POST /invocations`` on a REST API of endpoint type PRIVATE (an HTTP API cannot be private) whose
resource policy admits only requests through the stage VPC's ``execute-api`` endpoint *and* from
principals of the caller accounts (``aws:PrincipalAccount``; by default the stage account only): IAM
authorization alone would admit any authenticated principal of any account that can reach the
endpoint; stage with KMS-encrypted access logs, pre-created execution log group, X-Ray tracing
and throttling. Behind it the inference Lambda (``mlops_functions/inference_api.py``) in the VPC,
with a KMS-encrypted environment, reserved concurrency and its own log group; it reaches the
endpoint through the VPC's ``sagemaker.runtime`` endpoint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam_documents import policy_document, statement
from mlops_functions import inference_api

HANDLER_FILE = Path(inference_api.__file__)
STAGE_NAME = "v1"
RESOURCE_PATH = "invocations"
#: API Gateway's integration timeout is 29 s; the handler answers 504 itself before that.
LAMBDA_TIMEOUT_SECONDS = 28
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "caller": "$context.identity.caller",
        "userArn": "$context.identity.userArn",
        "sourceVpce": "$context.identity.vpceId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
    },
    sort_keys=True,
)


@dataclass
class PrivateApiArgs:
    """Inputs of a :class:`PrivateApi`."""

    api_name: str
    function_name: str
    """The Lambda's name (at most 64 characters); its role's log and KMS statements name it."""
    endpoint_name: pulumi.Input[str]
    """The SageMaker endpoint the Lambda invokes."""
    function_role_arn: pulumi.Input[str]
    vpc_endpoint_id: pulumi.Input[str]
    """The stage VPC's ``execute-api`` interface endpoint: the only way in."""
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: pulumi.Input[list[str]]
    kms_key_arn: pulumi.Input[str]
    """Encrypts the Lambda's environment."""
    logs_key_arn: pulumi.Input[str]
    account_id: str
    region: str
    caller_account_ids: list[str] = field(default_factory=list)
    """Accounts whose principals may invoke the API (``aws:PrincipalAccount``); empty: ``account_id`` only."""
    throttling_rate_limit: float = 50
    throttling_burst_limit: int = 100
    reserved_concurrency: int = 10
    memory_mb: int = 256
    log_retention_days: int = 365
    handler_file: Path = HANDLER_FILE
    tags: dict[str, str] = field(default_factory=dict)


def private_api_policy(api_execution_arn_pattern: str, vpc_endpoint_id: str, caller_account_ids: list[str]) -> dict[str, Any]:
    """Resource policy: invoke only through the stage VPC's execute-api endpoint, only by principals
    of ``caller_account_ids`` (pure). The explicit deny also binds same-account callers whose own
    identity policy would otherwise suffice."""
    if not caller_account_ids:
        raise ValueError("private_api_policy: name at least one caller account")
    callers = sorted(caller_account_ids)
    return policy_document(
        [
            statement(
                "InvokeThroughStageVpcEndpoint",
                ["execute-api:Invoke"],
                api_execution_arn_pattern,
                principal={"AWS": "*"},
                condition={"StringEquals": {"aws:SourceVpce": vpc_endpoint_id, "aws:PrincipalAccount": callers}},
            ),
            statement(
                "DenyCallersOfOtherAccounts",
                ["execute-api:Invoke"],
                api_execution_arn_pattern,
                effect="Deny",
                principal={"AWS": "*"},
                condition={"StringNotEquals": {"aws:PrincipalAccount": callers}},
            ),
            statement(
                "DenyOtherNetworkPaths",
                ["execute-api:Invoke"],
                api_execution_arn_pattern,
                effect="Deny",
                principal={"AWS": "*"},
                condition={"StringNotEquals": {"aws:SourceVpce": vpc_endpoint_id}},
            ),
        ]
    )


class PrivateApi(pulumi.ComponentResource):
    """A private, IAM-authorised REST API and its inference Lambda."""

    rest_api: aws.apigateway.RestApi
    function: aws.lambda_.Function
    api_id: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(self, name: str, args: PrivateApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:PrivateApi", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        tags = args.tags or None

        self.function = self._function(name, args)

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            aws.apigateway.RestApiArgs(
                name=args.api_name,
                description=f"Private inference API of {args.api_name}",
                endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                    types="PRIVATE", vpc_endpoint_ids=[args.vpc_endpoint_id]
                ),
                disable_execute_api_endpoint=False,  # a private API is reached only through execute-api
                tags=tags,
            ),
            opts=here,
        )
        api = self.rest_api
        in_api = pulumi.ResourceOptions(parent=api)
        # Built from the API ID (not the computed executionArn), so the policy is known at preview.
        execution_arn = api.id.apply(lambda api_id: f"arn:aws:execute-api:{args.region}:{args.account_id}:{api_id}")
        policy = aws.apigateway.RestApiPolicy(
            f"{name}-api-policy",
            aws.apigateway.RestApiPolicyArgs(
                rest_api_id=api.id,
                policy=pulumi.Output.all(execution_arn, args.vpc_endpoint_id).apply(
                    lambda v: json.dumps(private_api_policy(f"{v[0]}/*", v[1], args.caller_account_ids or [args.account_id]))
                ),
            ),
            opts=in_api,
        )
        resource = aws.apigateway.Resource(
            f"{name}-invocations",
            aws.apigateway.ResourceArgs(rest_api=api.id, parent_id=api.root_resource_id, path_part=RESOURCE_PATH),
            opts=in_api,
        )
        method = aws.apigateway.Method(
            f"{name}-invocations-post",
            aws.apigateway.MethodArgs(
                rest_api=api.id, resource_id=resource.id, http_method="POST", authorization="AWS_IAM"
            ),
            opts=pulumi.ResourceOptions(parent=resource),
        )
        integration = aws.apigateway.Integration(
            f"{name}-invocations-lambda",
            aws.apigateway.IntegrationArgs(
                rest_api=api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=self.function.arn.apply(
                    lambda arn: f"arn:aws:apigateway:{args.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
                ),
                timeout_milliseconds=29000,
            ),
            opts=pulumi.ResourceOptions(parent=resource),
        )
        aws.lambda_.Permission(
            f"{name}-invoke-permission",
            aws.lambda_.PermissionArgs(
                action="lambda:InvokeFunction",
                function=self.function.name,
                principal="apigateway.amazonaws.com",
                source_arn=execution_arn.apply(lambda arn: f"{arn}/*/POST/{RESOURCE_PATH}"),
                source_account=args.account_id,
            ),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            aws.apigateway.DeploymentArgs(
                rest_api=api.id,
                description="Inference API",
                # A new deployment whenever the API's shape or policy changes.
                triggers={"shape": _shape_hash(RESOURCE_PATH, "POST", "AWS_IAM", "AWS_PROXY"), "policy": policy.policy},
            ),
            opts=pulumi.ResourceOptions(parent=api, depends_on=[method, integration, policy]),
        )
        self._stage(name, args, deployment)

        self.api_id = api.id
        self.function_name = self.function.name
        # Private APIs are called through the VPC endpoint's DNS names with the API ID.
        self.invoke_url = api.id.apply(
            lambda api_id: f"https://{api_id}.execute-api.{args.region}.amazonaws.com/{STAGE_NAME}/{RESOURCE_PATH}"
        )
        self.register_outputs({"apiId": self.api_id, "invokeUrl": self.invoke_url, "functionName": self.function_name})

    def _stage(self, name: str, args: PrivateApiArgs, deployment: aws.apigateway.Deployment) -> None:
        """The stage with X-Ray, KMS-encrypted access and execution logs, throttling, no data traces."""
        api, tags = self.rest_api, args.tags or None
        in_api = pulumi.ResourceOptions(parent=api)
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/apigateway/{args.api_name}/access",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=tags,
            ),
            opts=in_api,
        )
        # API Gateway would create its execution log group unencrypted and without retention.
        execution_logs = aws.cloudwatch.LogGroup(
            f"{name}-execution-logs",
            aws.cloudwatch.LogGroupArgs(
                name=api.id.apply(lambda api_id: f"API-Gateway-Execution-Logs_{api_id}/{STAGE_NAME}"),
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=tags,
            ),
            opts=in_api,
        )
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            aws.apigateway.StageArgs(
                rest_api=api.id,
                deployment=deployment.id,
                stage_name=STAGE_NAME,
                xray_tracing_enabled=True,
                access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                    destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
                ),
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=api, depends_on=[execution_logs]),
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            aws.apigateway.MethodSettingsArgs(
                rest_api=api.id,
                stage_name=stage.stage_name,
                method_path="*/*",
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    throttling_rate_limit=args.throttling_rate_limit,
                    throttling_burst_limit=args.throttling_burst_limit,
                    logging_level="ERROR",
                    data_trace_enabled=False,  # request bodies are model inputs: never in logs
                    metrics_enabled=True,
                    caching_enabled=False,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=stage),
        )

    def _function(self, name: str, args: PrivateApiArgs) -> aws.lambda_.Function:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-function-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/lambda/{args.function_name}",
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.lambda_.Function(
            f"{name}-function",
            aws.lambda_.FunctionArgs(
                name=args.function_name,
                description="Private inference API: forwards POST /invocations to the SageMaker endpoint",
                runtime="python3.12",
                architectures=["arm64"],
                handler="inference_api.handler",
                code=pulumi.AssetArchive({"inference_api.py": pulumi.FileAsset(str(args.handler_file))}),
                role=args.function_role_arn,
                timeout=LAMBDA_TIMEOUT_SECONDS,
                memory_size=args.memory_mb,
                reserved_concurrent_executions=args.reserved_concurrency,
                kms_key_arn=args.kms_key_arn,
                environment=aws.lambda_.FunctionEnvironmentArgs(variables={"ENDPOINT_NAME": args.endpoint_name}),
                vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                    subnet_ids=args.subnet_ids, security_group_ids=args.security_group_ids
                ),
                tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
                logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
                tags=args.tags or None,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )


def _shape_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]
