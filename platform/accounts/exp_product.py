"""EXP: the Model Building product (Service Catalog) that lets leads make their own model projects.

Its own KMS key, artifacts bucket (the template, build artifacts and pipeline outputs, readable by
the stage accounts' serving roles) and a security group for its builds and jobs come first
(:func:`build_foundation`): the deny guardrails name that group. The portfolio and product
(:func:`build`) follow the guardrails, whose ARNs the template bakes in; they need the
CodeConnections connection, so CodeCommit source control leaves the product out.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from accounts.exp_projects import ModelProjects, reader_role_patterns, stage_accounts
from accounts.exp_source_control import SourceControl
from components.codeartifact import PLATFORM_PACKAGES, CodeArtifact
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs
from components.exp_policies import stage_read_statements
from components.guardrails import SageMakerGuardrails
from components.people import PersonaRole
from components.secure_bucket import SecureBucket
from components.service_catalog import ModelBuildingProduct, ModelBuildingProductArgs, TemplateSettings
from mlops_core import naming


@dataclass
class ProductFoundation:
    """The product's key, artifacts bucket and build security group."""

    key: PlatformKey
    bucket: SecureBucket
    bucket_name: str
    security_group: aws.ec2.SecurityGroup


def build_foundation(context: AccountContext) -> ProductFoundation:
    """Key, bucket and security group of the product's builds and jobs."""
    settings, baseline = context.settings, context.baseline
    org, account, region = settings.org, settings.account_id, settings.org.region
    prefix, top = org.platform_name, context.opts
    readers = reader_role_patterns(org, "sc-*")
    key = PlatformKey(
        "exp-sc",
        PlatformKeyArgs(
            account_id=account,
            alias=naming.kms_alias(org, "sc"),
            description="Model Building product: template, build artifacts and pipeline outputs",
            users=[
                KeyUser(account, [f"arn:aws:iam::{account}:role/{prefix}-*", f"arn:aws:iam::{account}:role/{prefix}-sc/*"]),
                *[KeyUser(a, p, decrypt_only=True, via_services=[f"s3.{region}.amazonaws.com"]) for a, p in sorted(readers.items())],
            ],
        ),
        opts=top,
    )
    bucket_name = naming.bucket_name(org, account, "sc-art")
    bucket = baseline.secure_bucket(
        "exp-sc-artifacts",
        bucket_name,
        kms_key_arn=key.arn,
        policy_statements=stage_read_statements(f"arn:aws:s3:::{bucket_name}", readers),
        opts=top,
    )
    to_endpoints = baseline.network.endpoint_egress()
    security_group = aws.ec2.SecurityGroup(
        "exp-sc-build-sg",
        aws.ec2.SecurityGroupArgs(
            vpc_id=baseline.network.vpc_id,
            description="Model Building product: builds and pipeline jobs",
            ingress=[aws.ec2.SecurityGroupIngressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True)],
            egress=[
                to_endpoints.interface_endpoints,
                aws.ec2.SecurityGroupEgressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True),
                to_endpoints.s3_gateway,
            ],
            tags={"Name": "exp-sc-build"},
        ),
        opts=top,
    )
    return ProductFoundation(key=key, bucket=bucket, bucket_name=bucket_name, security_group=security_group)


def build(
    context: AccountContext,
    foundation: ProductFoundation,
    guardrails: SageMakerGuardrails,
    source: SourceControl,
    codeartifact: CodeArtifact,
    projects: ModelProjects,
) -> ModelBuildingProduct | None:
    """The portfolio and product, launchable by the leads; None without a CodeConnections connection."""
    if source.connection_arn is None:  # the product's builds use the CodeConnections connection
        return None
    org = context.settings.org
    product = ModelBuildingProduct(
        "exp-model-building",
        ModelBuildingProductArgs(
            platform_name=org.platform_name,
            account_id=context.settings.account_id,
            region=org.region,
            settings=_template_settings(context, foundation, guardrails, source, codeartifact, projects),
            template_bucket=foundation.bucket.name,
        ),
        opts=pulumi.ResourceOptions(provider=context.provider, depends_on=[foundation.bucket]),
    )
    context.exports["modelBuildingProductId"] = product.product.id
    context.exports["modelBuildingPortfolioId"] = product.portfolio.id
    return product


def associate_launchers(
    context: AccountContext,
    product: ModelBuildingProduct | None,
    persona_roles: dict[str, PersonaRole],
    user_roles: dict[str, aws.iam.Role],
) -> None:
    """The leads may launch the product: the lead persona's sign-in role (both identity modes sign
    in through it; Identity Center chains into it) and each lead's Studio execution role."""
    if product is None:
        return
    leads = [p for p in context.settings.org.data_scientists if p.persona == "lead"]
    if not leads:
        return
    product.associate_launchers([persona_roles["lead"].arn, *(user_roles[p.name].arn for p in leads)])


def _template_settings(
    context: AccountContext,
    foundation: ProductFoundation,
    guardrails: SageMakerGuardrails,
    source: SourceControl,
    codeartifact: CodeArtifact,
    projects: ModelProjects,
) -> pulumi.Output[TemplateSettings]:
    """What the product's template bakes in, once every ID is known."""
    settings, baseline = context.settings, context.baseline
    org, account = settings.org, settings.account_id
    network, prefix = baseline.network, org.platform_name
    return pulumi.Output.all(
        pulumi.Output.all(*network.subnet_ids),
        foundation.security_group.id,
        foundation.key.arn,
        baseline.logs_key.arn,
        pulumi.Output.all(*guardrails.policy_arns),
        source.connection_arn if source.connection_arn is not None else "",
        projects.events_role.arn,
        codeartifact.domain_name,
        codeartifact.team_repository,
        network.vpc_id,
        codeartifact.internal_repository,
    ).apply(
        lambda v: TemplateSettings(
            platform_name=prefix,
            account_id=account,
            region=org.region,
            res_account_id=org.accounts.res,
            stage_account_ids=stage_accounts(org),
            vpc_id=v[9],
            subnet_ids=list(v[0]),
            security_group_ids=[v[1]],
            kms_key_arn=v[2],
            logs_key_arn=v[3],
            artifacts_bucket=foundation.bucket_name,
            boundary_arn=f"arn:aws:iam::{account}:policy/{prefix}-sc-boundary",
            guardrail_policy_arns=list(v[4]),
            connection_arn=v[5],
            source_provider_type=source.provider_type,
            repository_host=source.repository_host,
            event_bus_arn=projects.event_bus_arn,
            events_role_arn=v[6],
            codeartifact_domain=v[7],
            codeartifact_repository=v[8],
            codeartifact_internal_repository=v[10],
            # The release publishes this checkout's version (images/publish_packages.py).
            platform_requirements=tuple(f"{name}=={version(name)}" for name in PLATFORM_PACKAGES),
        )
    )
