"""Collect the access model from the offline plans (the harness) and the bootstrap documents.

Every stack the harness plans by default (``plan_stacks``), the serving stack of every model project
and stage (``plan_serving``), the Service Catalog product templates those plans upload, and what
``mlops-platform bootstrap`` creates outside the stacks (each account's deploy and preview roles, the
Pulumi state bucket and key in RES).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlops_core import naming
from mlops_core.config import load_organization
from mlops_core.paths import REPO_ROOT
from mlops_core.roles import STAGES
from mlops_platform.access.model import AccessModel, PlannedResource, build_model, template_resources

#: The role bootstrap runs as in RES (``mlops-platform bootstrap --bootstrap-role-name``'s default).
BOOTSTRAP_ROLE_NAME = "OrganizationAccountAccessRole"


def planned_resources(plan: Any) -> list[PlannedResource]:
    """A harness ``StackPlan`` as model records, with the IDs and ARNs its mocks returned. A model
    project's stack (``exp.<project>``) is addressed as its account stack (``exp``): journeys name
    what an account holds, wherever the platform declares it."""
    from mlops_core.config import account_stack_of
    from mlops_platform.harness import PLATFORM_PROJECT, fake_state

    address = (account_stack_of(plan.stack) or plan.stack) if plan.project == PLATFORM_PROJECT else plan.stack
    out = []
    for record in plan.resources:
        if not record.custom or record.type.startswith("pulumi:"):
            continue
        resource_id, computed = fake_state(record.type, record.name, record.inputs, plan.account_id, plan.region)
        arn = str(computed.get("arn", ""))
        out.append(PlannedResource(address, plan.account_id, plan.region, record.type, record.name, record.inputs, arn, resource_id))
    return out


def product_templates(records: Iterable[PlannedResource], parameters: Mapping[str, Mapping[str, str]]) -> list[PlannedResource]:
    """The roles and groups of every CloudFormation template a plan uploads, launched with ``parameters``
    (keyed ``<stack>:<template object's Pulumi name>``). A template without parameters is an error."""
    out: list[PlannedResource] = []
    for record in records:
        if record.type not in ("aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject"):
            continue
        try:
            template = json.loads(str(record.inputs.get("content", "")))
        except json.JSONDecodeError:
            continue
        if not isinstance(template, dict) or "AWSTemplateFormatVersion" not in template:
            continue
        key = f"{record.stack}:{record.name}"
        if key not in parameters:
            from mlops_platform.access.model import ModelError

            raise ModelError(f"{key}: a product template without launch parameters in the journeys file (product_parameters)")
        out += template_resources(template, dict(parameters[key]), stack=record.stack, account=record.account, region=record.region, source=key)
    return out


def bootstrap_resources(root: Path, res_s3_endpoint: str | None, stack_of_account: Mapping[str, str]) -> list[PlannedResource]:
    """What ``mlops-platform bootstrap`` creates, with its defaults, as model records (each account's
    records belong to the planned stack of that account)."""
    from mlops_platform import bootstrap

    org = load_organization(root)
    admin = naming.role_arn(org.accounts.res, naming.persona_role_name(org, "platform_admin"))
    settings = bootstrap.BootstrapSettings(org, admin, res_s3_endpoint)
    region = org.region
    out: list[PlannedResource] = []
    stacks = {account: stack_of_account.get(account, role) for role, account in settings.stack_accounts().items()}
    for account, stack in sorted(stacks.items()):
        boundary = settings.boundary_arn(account)
        out.append(PlannedResource(stack, account, region, "aws:iam/policy:Policy", "bootstrap-deploy-boundary",
                                   {"name": naming.deploy_boundary_name(org), "policy": bootstrap.boundary_policy(settings, account)}, boundary))
        for name, trust, managed, inline in (
            (naming.deploy_role_name(org), bootstrap.deploy_trust_policy(settings, account), bootstrap.ADMINISTRATOR_ACCESS, None),
            (naming.preview_role_name(org), bootstrap.preview_trust_policy(settings, account), bootstrap.READ_ONLY_ACCESS,
             bootstrap.preview_inline_policy(settings, account)),
        ):
            inputs: dict[str, Any] = {"name": name, "assumeRolePolicy": trust, "permissionsBoundary": boundary, "managedPolicyArns": [managed]}
            if inline is not None:
                inputs["inlinePolicies"] = [{"name": bootstrap.PREVIEW_INLINE_POLICY, "policy": inline}]
            out.append(PlannedResource(stack, account, region, "aws:iam/role:Role", f"bootstrap-{name}", inputs, naming.role_arn(account, name), name))
    res = org.accounts.res
    res_stack = stacks[res]
    out.append(PlannedResource(res_stack, res, region, "aws:s3/bucketPolicy:BucketPolicy", "bootstrap-state-bucket-policy",
                               {"bucket": settings.state_bucket, "policy": bootstrap.state_bucket_policy(settings, naming.role_arn(res, BOOTSTRAP_ROLE_NAME))}))
    out.append(PlannedResource(res_stack, res, region, "aws:kms/key:Key", "bootstrap-state-key",
                               {"policy": bootstrap.state_key_policy(settings)}, state_key_arn(res, region), "bootstrap-state-key"))
    return out


def state_key_arn(account: str, region: str) -> str:
    """A stand-in ARN for the state key (bootstrap creates it; journeys name it through its alias)."""
    return f"arn:aws:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000001"


def serving_stack_names(root: Path) -> list[str]:
    org = load_organization(root)
    return [f"{project.name}-{stage}" for project in org.model_projects for stage in STAGES]


def collect(product_parameters: Mapping[str, Mapping[str, str]], *, root: Path = REPO_ROOT) -> AccessModel:
    """The access model of the planned platform: every stack the harness plans by default and the
    serving stack of every model project and stage."""
    from mlops_core.config import account_stack_of
    from mlops_platform import harness

    plans = list(harness.plan_stacks(root=root).values())
    plans += [harness.plan_serving(name, root=root) for name in serving_stack_names(root)]
    records = [r for plan in plans for r in planned_resources(plan)]
    stack_of_account = {plan.account_id: plan.stack for plan in plans
                        if plan.project == harness.PLATFORM_PROJECT and account_stack_of(plan.stack) is None}
    records += product_templates(records, product_parameters)
    res_endpoint = next(
        (r.id for r in records if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and r.account == load_organization(root).accounts.res and str(r.inputs.get("serviceName", "")).endswith(".s3")),
        None,
    )
    records += bootstrap_resources(root, res_endpoint, stack_of_account)
    return build_model(records)
