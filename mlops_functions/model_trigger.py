"""RES trigger Lambda: a new model version registered in EXP starts its project's deploy pipeline.

EventBridge cannot hand event fields to CodePipeline, and V2 pipeline triggers are git-only, so the
RES bus rule targets this function. It turns a ``SageMaker Model Package State Change`` event that
announces a *new* model package version into::

    codepipeline.start_pipeline_execution(
        name="<platformName>-deploy-<project>",
        variables=[{"name": "MODEL_PACKAGE_ARN", "value": <the event's ModelPackageArn>}],
        clientRequestToken=<"mp-" + sha256(ModelPackageArn) in hex>,
    )

Packaging and wiring (for the RES stack):
    Handler:   ``model_trigger.handler`` (this file alone at the zip root; stdlib + boto3 only).
    Runtime:   python3.11 or later.
    Env vars:  ``PLATFORM_NAME`` (required, the organisation's ``platformName``);
               ``EXP_ACCOUNT_ID`` (optional but recommended: events from any other account, or for a
               package ARN of any other account, are ignored; the bus policy already admits only EXP,
               this is defence in depth).
    IAM:       ``codepipeline:StartPipelineExecution`` on
               ``arn:aws:codepipeline:<region>:<res-account>:<platformName>-deploy-*``; plus the usual
               ``logs:CreateLogStream``/``logs:PutLogEvents`` on its own log group and the
               ``ec2:*NetworkInterface*`` actions of a VPC Lambda (AWSLambdaVPCAccessExecutionRole).
    Network:   the VPC needs the ``codepipeline`` interface endpoint (and ``logs``).
    Rules:     EXP default bus -> RES bus and RES bus -> this function both use
               :func:`event_pattern` (RES with ``exp_account_id``), so only creation-shaped events
               travel at all; the handler checks again because a rule is configuration, not proof.
    Failures:  EventBridge invokes Lambda asynchronously; errors other than "no such pipeline" are
               raised so Lambda retries (twice) and then sends the event to the function's on-failure
               destination / DLQ, which the stack should configure.

How a creation is told apart from an approval change
----------------------------------------------------
A lead's approval in the registry emits the same detail-type as the registration. We start a
deployment only when ALL of these hold (every other event is logged and ignored):

1. ``detail.ModelApprovalStatus == "PendingManualApproval"``: the model build pipeline registers every
   version as ``PendingManualApproval``; an approval or rejection changes it to ``Approved`` or
   ``Rejected``, so those events never match.
2. ``detail.ModelPackageStatus == "Completed"``: a package still ``Pending``/``InProgress`` is not
   deployable yet, and ``Failed``/``Deleting`` never will be. SageMaker may send several events per
   state change (documented); the idempotency token below makes repeats harmless.
3. If the event carries both ``CreationTime`` and ``LastModifiedTime`` (the documented event does),
   the package must not have been modified more than :data:`CREATION_WINDOW` after it was created.
   This rejects the remaining ambiguous case: a package that was ``Approved`` and is later set back to
   ``PendingManualApproval`` (or whose metadata is edited while pending), which must not redeploy it.

Idempotency: ``clientRequestToken`` is derived from the package ARN only, so a duplicate delivery or a
Lambda retry for the same package sends the same token and CodePipeline does not start a second
execution. AWS documents no retention window for the token, so this guards retries and duplicates
that arrive close together; rule 3 is what stops a much later event for the same package.

The pipeline's execution mode is the RES stack's choice; it should be QUEUED so that a version waiting
at a manual approval is not cancelled by the next version's execution (SUPERSEDED would cancel it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

EVENT_SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"
PIPELINE_VARIABLE = "MODEL_PACKAGE_ARN"
CREATION_STATUS = "PendingManualApproval"
DEPLOYABLE_PACKAGE_STATUS = "Completed"
# How long after CreationTime a LastModifiedTime still counts as "the registration itself". Generous
# enough for a slow registration (Pending -> InProgress -> Completed); a human's later change of the
# approval status back to pending is far outside it.
CREATION_WINDOW = timedelta(minutes=15)

# CodePipeline limits (botocore service model, StartPipelineExecution).
_PIPELINE_NAME = re.compile(r"^[A-Za-z0-9.@\-_]{1,100}$")
# arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
_PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/(?P<version>\d+)$"
)


def event_pattern(exp_account_id: str | None = None) -> dict[str, Any]:
    """EventBridge pattern selecting model package *creation* events (rules 1 and 2 above).

    Use it (``json.dumps``) for the EXP rule that forwards to the RES bus and, with
    ``exp_account_id``, for the RES rule that targets this function.
    """
    pattern: dict[str, Any] = {
        "source": [EVENT_SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "ModelApprovalStatus": [CREATION_STATUS],
            "ModelPackageStatus": [DEPLOYABLE_PACKAGE_STATUS],
        },
    }
    if exp_account_id:
        pattern["account"] = [exp_account_id]
    return pattern


def pipeline_name(platform_name: str, model_package_group: str) -> str:
    """The deploy pipeline of a project: ``<platformName>-deploy-<project>``.

    ``<project>`` is the model package group name for config-driven projects and for projects made
    by the Service Catalog product (whose groups start with ``sc-``) alike.
    """
    return f"{platform_name}-deploy-{model_package_group}"


def client_request_token(model_package_arn: str) -> str:
    """Deterministic StartPipelineExecution token for one package ARN (pattern ``^[a-zA-Z0-9-]+$``)."""
    return "mp-" + hashlib.sha256(model_package_arn.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TriggerOutcome:
    """What the trigger did with one event; also the handler's return value (as a dict)."""

    action: str  # "started" or "ignored"
    reason: str
    model_package_arn: str | None = None
    pipeline_name: str | None = None
    pipeline_execution_id: str | None = None


def _parse_time(value: Any) -> datetime | None:
    """Event timestamps appear as ISO 8601 strings or epoch milliseconds (number or numeric string)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text) / 1000, tz=UTC)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _ignored(reason: str, **fields: Any) -> TriggerOutcome:
    outcome = TriggerOutcome(action="ignored", reason=reason, **fields)
    LOG.info(json.dumps(asdict(outcome)))
    return outcome


def handle_event(
    event: dict[str, Any],
    *,
    codepipeline: Any,
    platform_name: str,
    exp_account_id: str | None = None,
) -> TriggerOutcome:
    """Start the project's deploy pipeline for a model package creation event, or ignore the event."""
    if event.get("source") != EVENT_SOURCE or event.get("detail-type") != DETAIL_TYPE:
        return _ignored(
            f"not a {DETAIL_TYPE!r} event (source={event.get('source')!r}, "
            f"detail-type={event.get('detail-type')!r})"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return _ignored("event has no detail object")

    arn = detail.get("ModelPackageArn")
    group = detail.get("ModelPackageGroupName")
    if not isinstance(arn, str) or not arn:
        return _ignored("detail.ModelPackageArn is missing")
    if not isinstance(group, str) or not group:
        return _ignored("detail.ModelPackageGroupName is missing (unversioned package)", model_package_arn=arn)
    arn_parts = _PACKAGE_ARN.match(arn)
    if arn_parts is None:
        return _ignored("detail.ModelPackageArn is not a versioned model package ARN", model_package_arn=arn)
    # SageMaker lower-cases resource names in ARNs; the detail keeps the group's real spelling.
    if arn_parts["group"].lower() != group.lower():
        return _ignored(
            f"detail.ModelPackageGroupName {group!r} does not match the ARN's group {arn_parts['group']!r}",
            model_package_arn=arn,
        )

    if exp_account_id:
        if event.get("account") != exp_account_id:
            return _ignored(
                f"event account {event.get('account')!r} is not the EXP account {exp_account_id}",
                model_package_arn=arn,
            )
        if arn_parts["account"] != exp_account_id:
            return _ignored(
                f"package ARN account {arn_parts['account']} is not the EXP account {exp_account_id}",
                model_package_arn=arn,
            )

    approval = detail.get("ModelApprovalStatus")
    if approval != CREATION_STATUS:
        return _ignored(
            f"ModelApprovalStatus is {approval!r}, not {CREATION_STATUS!r}: an approval change, not a creation",
            model_package_arn=arn,
        )
    status = detail.get("ModelPackageStatus")
    if status != DEPLOYABLE_PACKAGE_STATUS:
        return _ignored(
            f"ModelPackageStatus is {status!r}, not {DEPLOYABLE_PACKAGE_STATUS!r}", model_package_arn=arn
        )
    created = _parse_time(detail.get("CreationTime"))
    modified = _parse_time(detail.get("LastModifiedTime"))
    if created is not None and modified is not None and modified - created > CREATION_WINDOW:
        return _ignored(
            f"package was modified {modified - created} after its creation: a later change, not a creation",
            model_package_arn=arn,
        )

    name = pipeline_name(platform_name, group)
    if not _PIPELINE_NAME.match(name):
        return _ignored(f"{name!r} cannot be a CodePipeline name, so no pipeline exists", model_package_arn=arn)

    try:
        response = codepipeline.start_pipeline_execution(
            name=name,
            variables=[{"name": PIPELINE_VARIABLE, "value": arn}],
            clientRequestToken=client_request_token(arn),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "PipelineNotFoundException":
            # A group without a deploy pipeline (e.g. an experiment): nothing to deploy.
            return _ignored(f"no pipeline {name!r} for group {group!r}", model_package_arn=arn, pipeline_name=name)
        raise

    outcome = TriggerOutcome(
        action="started",
        reason="model package version created",
        model_package_arn=arn,
        pipeline_name=name,
        pipeline_execution_id=response.get("pipelineExecutionId"),
    )
    LOG.info(json.dumps(asdict(outcome)))
    return outcome


_CODEPIPELINE_CLIENT: Any = None


def _codepipeline_client() -> Any:
    global _CODEPIPELINE_CLIENT
    if _CODEPIPELINE_CLIENT is None:
        _CODEPIPELINE_CLIENT = boto3.client("codepipeline")
    return _CODEPIPELINE_CLIENT


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point (``model_trigger.handler``)."""
    platform_name = os.environ.get("PLATFORM_NAME", "").strip()
    if not platform_name:
        # A deployment mistake, not a bad event: fail loudly so the event lands in the DLQ.
        raise RuntimeError("environment variable PLATFORM_NAME is not set")
    outcome = handle_event(
        event,
        codepipeline=_codepipeline_client(),
        platform_name=platform_name,
        exp_account_id=os.environ.get("EXP_ACCOUNT_ID", "").strip() or None,
    )
    return asdict(outcome)
