"""EXP: Studio, people, CodeArtifact, source control, model projects and the "Model Building" product.

Builds, in order: the CodeArtifact domain and repositories; the git connection (CodeConnections by
default, CodeCommit repositories when configured); the role EventBridge uses to forward new model
versions to the RES bus; per configured model project a :class:`ModelProject` (key, artifacts
bucket, package group + policy, project role, job security group, new-version rule); per data
scientist an execution role; the Studio domain with a profile, security group and lifecycle
configuration per user; both SageMaker deny guardrails, attached to every role SageMaker uses; the
Model Building portfolio and product; then the role policies (they name the domain, endpoint and
product, known only now) and the persona sign-in roles.

Returns :class:`ExpWorkspace`, what the pipeline and data-access modules build on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from accounts.common import AccountContext
from components.codeartifact import CodeArtifact, CodeArtifactArgs
from components.encryption import KeyUser, PlatformKey, PlatformKeyArgs
from components.exp_policies import (
    AUDITOR_MANAGED_POLICY,
    ExpPolicyContext,
    default_execution_role_policy,
    execution_role_policy,
    persona_sign_in_policy,
    project_role_policy,
    project_tag_value,
    stage_read_statements,
)
from components.guardrails import SageMakerGuardrails, SageMakerGuardrailsArgs
from components.iam_documents import policy_document, service_trust_policy, statement
from components.model_project import ModelProject, ModelProjectArgs
from components.people import (
    PersonaRole,
    PersonaRoleArgs,
    persona_user_names,
    personas_in_use,
    sign_in_trust_policy,
)
from components.secure_bucket import SecureBucket
from components.service_catalog import PRODUCT_PREFIX, ModelBuildingProduct, ModelBuildingProductArgs, TemplateSettings
from components.studio import CodeArtifactLogin, SdkDefaults, Studio, StudioArgs, StudioUser, lifecycle_script, sdk_config
from mlops_core import naming
from mlops_core.config import StackSettings

#: Public hosts of the CodeConnections cloud providers (self-managed ones come from config).
PROVIDER_HOSTS = {"GitHub": "https://github.com", "GitLab": "https://gitlab.com", "Bitbucket": "https://bitbucket.org"}
SAGEMAKER_API = "sagemaker.api"


@dataclass
class ProjectWorkspace:
    """One config-driven model project, as the pipeline and data-access modules need it."""

    name: str
    role_name: str
    """The project role (pipeline steps and jobs run as it; Lake Formation grants go to it)."""
    role_arn: pulumi.Output[str]
    role: aws.iam.Role
    bucket: SecureBucket
    """The artifacts bucket (``.name``, ``.arn``), encrypted with ``key_arn``."""
    key_arn: pulumi.Output[str]
    """The project's KMS key (bucket, job volumes and outputs)."""
    model_package_group: str
    security_group_ids: list[pulumi.Output[str]]
    """Security group(s) for the project's SageMaker jobs (allowed by the network guardrail)."""
    tags: dict[str, str]
    """Tags every further resource of the project must carry (``mlops:project``)."""


@dataclass
class ExpWorkspace:
    """What ``exp_pipelines`` and ``exp_data_access`` build on.

    Every role a module adds that SageMaker uses must get both deny guardrails:
    ``workspace.guardrails.attach(role.name, "<unique-name>")``.
    """

    settings: StackSettings
    projects: dict[str, ProjectWorkspace]
    """Config-driven model projects by name."""
    studio_domain_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    """Private subnets of the EXP VPC."""
    guardrails: SageMakerGuardrails
    """The two deny policies (``.policy_arns``, ``.attach(role_name, name)``)."""
    user_role_arns: dict[str, pulumi.Output[str]]
    """Studio execution role per data scientist."""
    codeartifact_domain: pulumi.Output[str]
    codeartifact_repository: pulumi.Output[str]
    connection_arn: pulumi.Output[str] | None
    """The CodeConnections connection (None with CodeCommit)."""
    codecommit_repositories: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """Project -> CodeCommit clone URL (only when source control is CodeCommit)."""


def build(context: AccountContext) -> ExpWorkspace:
    """Declare the workspace; returns what the pipeline and data-access modules need."""
    settings = context.settings
    org, account, region = settings.org, settings.account_id, settings.org.region
    network, baseline = context.baseline.network, context.baseline
    top = context.opts
    prefix = org.platform_name
    for project in org.model_projects:
        if project.name.startswith(PRODUCT_PREFIX):  # the two paths must never collide
            raise pulumi.RunError(
                f"organization.yaml: modelProjects: {project.name!r} starts with {PRODUCT_PREFIX!r}, "
                "which is reserved for projects made by the Model Building product"
            )
    s3_prefix_list = getattr(network, "s3_prefix_list_id", None)  # exposed by the network when available
    vpce_id = network.endpoint_ids[SAGEMAKER_API]
    stage_accounts = [org.accounts.dev, org.accounts.int_, org.accounts.prod]

    codeartifact = CodeArtifact("exp-codeartifact", CodeArtifactArgs(domain_name=prefix, kms_key_arn=baseline.platform_key.arn), opts=top)

    # ---- source control ------------------------------------------------------------------------
    source = org.workspace.source_control
    connection_arn: pulumi.Output[str] | None = None
    codecommit: dict[str, pulumi.Output[str]] = {}
    if source.provider == "codeconnections":
        host_arn = None
        if source.host_endpoint:
            host_sg = aws.ec2.SecurityGroup(
                "exp-git-host-sg",
                aws.ec2.SecurityGroupArgs(
                    vpc_id=network.vpc_id,
                    description="CodeConnections host: HTTPS to the self-managed git server",
                    egress=[aws.ec2.SecurityGroupEgressArgs(description="git server", protocol="tcp", from_port=443, to_port=443, cidr_blocks=[source.host_cidr])],
                ),
                opts=top,
            )
            host_arn = aws.codeconnections.Host(
                "exp-git-host",
                aws.codeconnections.HostArgs(
                    name=f"{prefix}-git",
                    provider_type=source.provider_type,
                    provider_endpoint=source.host_endpoint,
                    vpc_configuration=aws.codeconnections.HostVpcConfigurationArgs(
                        vpc_id=network.vpc_id, subnet_ids=network.subnet_ids, security_group_ids=[host_sg.id]
                    ),
                ),
                opts=top,
            ).arn
        connection = aws.codeconnections.Connection(
            "exp-git-connection",
            aws.codeconnections.ConnectionArgs(
                name=f"{prefix}-git",
                provider_type=None if host_arn is not None else source.provider_type,
                host_arn=host_arn,
            ),
            opts=top,
        )
        connection_arn = connection.arn
        context.exports["gitConnectionArn"] = connection_arn
        context.exports["gitConnectionName"] = f"{prefix}-git"
    else:
        for project in org.model_projects:
            repo = aws.codecommit.Repository(
                f"exp-{project.name}-repo",
                aws.codecommit.RepositoryArgs(
                    repository_name=f"{prefix}-{project.name}",
                    description=project.description or project.name,
                    kms_key_id=baseline.platform_key.arn,
                    tags={naming.PROJECT_TAG_KEY: project.name},
                ),
                opts=top,
            )
            codecommit[project.name] = repo.clone_url_http

    # ---- new-version events to RES -------------------------------------------------------------
    bus_arn = naming.event_bus_arn(org)
    events_role = aws.iam.Role(
        "exp-events-to-res",
        aws.iam.RoleArgs(
            name=naming.events_forwarder_role_name(org),
            description="EventBridge forwards new model versions to the RES bus",
            assume_role_policy=json.dumps(
                service_trust_policy("events.amazonaws.com", account, f"arn:aws:events:{region}:{account}:rule/*")
            ),
        ),
        opts=top,
    )
    aws.iam.RolePolicy(
        "exp-events-to-res-policy",
        aws.iam.RolePolicyArgs(
            role=events_role.id,
            name="put-events-on-res-bus",
            policy=json.dumps(policy_document([statement("PutEventsOnResBus", ["events:PutEvents"], bus_arn)])),
        ),
        opts=pulumi.ResourceOptions(parent=events_role),
    )

    # ---- model projects -------------------------------------------------------------------------
    deploy_role_arn = naming.role_arn(account, naming.deploy_role_name(org))
    user_role_arn = {p.name: naming.role_arn(account, naming.user_execution_role_name(org, p.name)) for p in org.data_scientists}

    def readers(project: str) -> dict[str, list[str]]:
        patterns = {a: [naming.role_arn(a, naming.serving_role_name(org, project, "*")), naming.role_arn(a, naming.stage_deployment_role_name(org))] for a in stage_accounts}
        patterns[org.accounts.res] = [naming.role_arn(org.accounts.res, naming.serving_deployer_role_name(org))]
        return patterns

    projects: dict[str, ModelProject] = {}
    for project in org.model_projects:
        projects[project.name] = ModelProject(
            f"exp-{project.name}",
            ModelProjectArgs(
                project=project.name,
                description=project.description,
                platform_name=prefix,
                account_id=account,
                region=region,
                model_package_group=naming.model_package_group_name(project.name),
                bucket_name=naming.bucket_name(org, account, naming.project_bucket_purpose(project.name)),
                access_log_bucket=baseline.access_logs.name,
                role_name=naming.project_role_name(org, project.name),
                key_alias=naming.kms_alias(org, f"project-{project.name}"),
                vpc_id=network.vpc_id,
                vpc_cidr=settings.config.vpc_cidr,
                res_account_id=org.accounts.res,
                stage_account_ids=stage_accounts,
                reader_role_patterns=readers(project.name),
                exempt_principal_arns=[deploy_role_arn, naming.role_arn(account, naming.project_build_role_name(org, project.name))],
                member_role_arns=[user_role_arn[m.name] for m in org.members(project.name)],
                event_bus_arn=bus_arn,
                events_role_arn=events_role.arn,
                s3_prefix_list_id=s3_prefix_list,
            ),
            opts=top,
        )

    # ---- Studio ----------------------------------------------------------------------------------
    # aws:SourceAccount only: not every SageMaker feature that assumes an execution role sends aws:SourceArn.
    sagemaker_trust = json.dumps(service_trust_policy("sagemaker.amazonaws.com", account))
    user_roles: dict[str, aws.iam.Role] = {}
    for person in org.data_scientists:
        user_roles[person.name] = aws.iam.Role(
            f"exp-user-{person.name}",
            aws.iam.RoleArgs(
                name=naming.user_execution_role_name(org, person.name),
                description=f"Studio execution role of {person.name} ({person.persona})",
                assume_role_policy=sagemaker_trust,
                tags={
                    naming.PROJECT_TAG_KEY: project_tag_value(person.projects),
                    "mlops:user": person.name,
                    "mlops:persona": person.persona,
                },
            ),
            opts=top,
        )
    default_role = aws.iam.Role(
        "exp-studio-default",
        aws.iam.RoleArgs(
            name=f"{prefix}-studio-default",
            description="Studio domain default execution role (no project access; every user has their own role)",
            assume_role_policy=sagemaker_trust,
        ),
        opts=top,
    )

    login = pulumi.Output.all(codeartifact.domain_name, codeartifact.team_repository).apply(
        lambda v: CodeArtifactLogin(domain=v[0], domain_owner=account, repository=v[1], region=region)
    )

    def user_script(person) -> pulumi.Output[str]:
        parts = [login, pulumi.Output.all(*network.subnet_ids)]
        for name in person.projects:
            p = projects[name]
            parts += [p.resources, p.security_group.id]

        def render(values) -> str:
            login_value, subnets, *rest = values
            configs = {}
            for index in range(0, len(rest), 2):
                resources, sg = rest[index], rest[index + 1]
                configs[resources.name] = sdk_config(
                    SdkDefaults(
                        bucket=resources.bucket_arn.removeprefix("arn:aws:s3:::"),
                        key_prefix=f"users/{person.name}",
                        kms_key_arn=resources.key_arn,
                        subnet_ids=list(subnets),
                        security_group_ids=[sg],
                        role_arn=resources.role_arn,
                    )
                )
            return lifecycle_script(configs, login_value)

        return pulumi.Output.all(*parts).apply(render)

    studio = Studio(
        "exp-studio",
        StudioArgs(
            domain_name=f"{prefix}-studio",
            vpc_id=network.vpc_id,
            vpc_cidr=settings.config.vpc_cidr,
            subnet_ids=network.subnet_ids,
            kms_key_arn=baseline.platform_key.arn,
            default_execution_role_arn=default_role.arn,
            users=[
                StudioUser(
                    name=p.name,
                    execution_role_arn=user_roles[p.name].arn,
                    lifecycle_script=user_script(p),
                    tags={naming.PROJECT_TAG_KEY: project_tag_value(p.projects), "mlops:user": p.name},
                )
                for p in org.data_scientists
                if p.projects
            ],
            idle_timeout_minutes=org.workspace.studio_idle_timeout_minutes,
            max_idle_timeout_minutes=org.workspace.studio_max_idle_timeout_minutes,
            s3_prefix_list_id=s3_prefix_list,
        ),
        opts=top,
    )

    # ---- Model Building product: its own key, bucket and security group -------------------------------
    sc_readers = {a: [naming.role_arn(a, naming.serving_role_name(org, "sc-*", "*")), naming.role_arn(a, naming.stage_deployment_role_name(org))] for a in stage_accounts}
    sc_readers[org.accounts.res] = [naming.role_arn(org.accounts.res, naming.serving_deployer_role_name(org))]
    sc_key = PlatformKey(
        "exp-sc",
        PlatformKeyArgs(
            account_id=account,
            alias=naming.kms_alias(org, "sc"),
            description="Model Building product: template, build artifacts and pipeline outputs",
            users=[
                KeyUser(account, [f"arn:aws:iam::{account}:role/{prefix}-*", f"arn:aws:iam::{account}:role/{prefix}-sc/*"]),
                *[KeyUser(a, p, decrypt_only=True, via_services=[f"s3.{region}.amazonaws.com"]) for a, p in sorted(sc_readers.items())],
            ],
        ),
        opts=top,
    )
    sc_bucket_name = naming.bucket_name(org, account, "sc-art")
    sc_bucket = baseline.secure_bucket(
        "exp-sc-artifacts",
        "sc-art",
        kms_key_arn=sc_key.arn,
        policy_statements=stage_read_statements(f"arn:aws:s3:::{sc_bucket_name}", sc_readers),
        opts=top,
    )
    sc_sg = aws.ec2.SecurityGroup(
        "exp-sc-build-sg",
        aws.ec2.SecurityGroupArgs(
            vpc_id=network.vpc_id,
            description="Model Building product: builds and pipeline jobs",
            ingress=[aws.ec2.SecurityGroupIngressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True)],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(description="HTTPS to the VPC endpoints", protocol="tcp", from_port=443, to_port=443, cidr_blocks=[settings.config.vpc_cidr]),
                aws.ec2.SecurityGroupEgressArgs(description="distributed training within the group", protocol="tcp", from_port=0, to_port=65535, self=True),
                *(
                    [aws.ec2.SecurityGroupEgressArgs(description="S3 through the gateway endpoint", protocol="tcp", from_port=443, to_port=443, prefix_list_ids=[s3_prefix_list])]
                    if s3_prefix_list is not None
                    else []
                ),
            ],
            tags={"Name": "exp-sc-build"},
        ),
        opts=top,
    )

    # ---- deny guardrails on every role SageMaker uses ------------------------------------------------
    guardrails = SageMakerGuardrails(
        "exp-guardrails",
        SageMakerGuardrailsArgs(
            name_prefix=prefix,
            subnet_ids=network.subnet_ids,
            security_group_ids=[
                studio.domain_security_group_id,
                *studio.user_security_group_ids.values(),
                *(p.security_group.id for p in projects.values()),
                sc_sg.id,
            ],
            sagemaker_api_endpoint_ids=[vpce_id],
        ),
        opts=top,
    )
    guardrails.attach(default_role.name, "exp-studio-default")
    for name, role in user_roles.items():
        guardrails.attach(role.name, f"exp-user-{name}")
    for name, project in projects.items():
        guardrails.attach(project.role.name, f"exp-{name}-role")

    # ---- the product ------------------------------------------------------------------------------
    leads = [p for p in org.data_scientists if p.persona == "lead"]
    # Leads sign in through the lead persona role in both identity modes (Identity Center chains into it).
    lead_sign_in_arn = naming.role_arn(account, naming.persona_role_name(org, "lead"))
    template_settings = pulumi.Output.all(
        pulumi.Output.all(*network.subnet_ids),
        sc_sg.id,
        sc_key.arn,
        baseline.logs_key.arn,
        pulumi.Output.all(*guardrails.policy_arns),
        connection_arn if connection_arn is not None else "",
        events_role.arn,
        codeartifact.domain_name,
        codeartifact.team_repository,
        network.vpc_id,
    ).apply(
        lambda v: TemplateSettings(
            platform_name=prefix,
            account_id=account,
            region=region,
            res_account_id=org.accounts.res,
            stage_account_ids=stage_accounts,
            vpc_id=v[9],
            subnet_ids=list(v[0]),
            security_group_ids=[v[1]],
            kms_key_arn=v[2],
            logs_key_arn=v[3],
            artifacts_bucket=sc_bucket_name,
            boundary_arn=f"arn:aws:iam::{account}:policy/{prefix}-sc-boundary",
            guardrail_policy_arns=list(v[4]),
            connection_arn=v[5],
            source_provider_type=source.provider_type,
            repository_host=source.host_endpoint or PROVIDER_HOSTS.get(source.provider_type, "https://github.com"),
            event_bus_arn=bus_arn,
            events_role_arn=v[6],
            codeartifact_domain=v[7],
            codeartifact_repository=v[8],
        )
    )
    product = None
    if connection_arn is not None:  # the product's builds use the CodeConnections connection
        product = ModelBuildingProduct(
            "exp-model-building",
            ModelBuildingProductArgs(
                platform_name=prefix,
                account_id=account,
                region=region,
                settings=template_settings,
                template_bucket=sc_bucket.name,
                launcher_principal_arns=[
                    *([lead_sign_in_arn] if leads else []),
                    *(user_roles[p.name].arn for p in leads),
                ],
            ),
            opts=pulumi.ResourceOptions(provider=context.provider, depends_on=[sc_bucket]),
        )
        context.exports["modelBuildingProductId"] = product.product.id
        context.exports["modelBuildingPortfolioId"] = product.portfolio.id

    # ---- role policies (they name the domain, endpoint and product) ------------------------------------
    project_resources = {name: p.resources for name, p in projects.items()}
    policy_context = pulumi.Output.all(
        studio.domain_id,
        vpce_id,
        codeartifact.domain_name,
        codeartifact.team_repository,
        pulumi.Output.all(**project_resources) if project_resources else {},
        product.product.id if product is not None else "",
        connection_arn if connection_arn is not None else "",
    ).apply(
        lambda v: ExpPolicyContext(
            platform_name=prefix,
            account_id=account,
            region=region,
            domain_id=v[0],
            sagemaker_api_endpoint_id=v[1],
            user_name_tag=org.identity.user_name_tag,
            codeartifact_domain=v[2],
            codeartifact_repository=v[3],
            projects=dict(v[4]),
            product_ids=[v[5]] if v[5] else [],
            connection_arns=[v[6]] if v[6] else [],
        )
    )

    for person in org.data_scientists:
        if not person.projects:
            continue
        aws.iam.RolePolicy(
            f"exp-user-{person.name}-policy",
            aws.iam.RolePolicyArgs(
                role=user_roles[person.name].id,
                name="studio-user",
                policy=pulumi.Output.all(policy_context, user_roles[person.name].arn).apply(
                    lambda v, person=person: json.dumps(
                        execution_role_policy(person.persona, person.name, v[1], [v[0].projects[n] for n in person.projects], v[0])
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=user_roles[person.name]),
        )
    aws.iam.RolePolicy(
        "exp-studio-default-policy",
        aws.iam.RolePolicyArgs(role=default_role.id, name="studio-default", policy=policy_context.apply(lambda c: json.dumps(default_execution_role_policy(c)))),
        opts=pulumi.ResourceOptions(parent=default_role),
    )
    for name, project in projects.items():
        aws.iam.RolePolicy(
            f"exp-{name}-role-policy",
            aws.iam.RolePolicyArgs(
                role=project.role.id,
                name="project",
                policy=policy_context.apply(lambda c, name=name: json.dumps(project_role_policy(c.projects[name], c))),
            ),
            opts=pulumi.ResourceOptions(parent=project.role),
        )

    # ---- people: persona sign-in roles (SAML, or chained from Identity Center permission sets) -----
    persona_roles: dict[str, PersonaRole] = {}
    for persona in personas_in_use(org):
        persona_roles[persona] = PersonaRole(
            f"exp-persona-{persona.replace('_', '-')}",
            PersonaRoleArgs(
                role_name=naming.persona_role_name(org, persona),
                persona=persona,
                trust_policy=sign_in_trust_policy(org, account, [persona], persona_user_names(org, persona)),
                policies={"exp": policy_context.apply(lambda c, persona=persona: persona_sign_in_policy(persona, c))},
                managed_policy_arns=[AUDITOR_MANAGED_POLICY] if persona == "auditor" else [],
            ),
            opts=top,
        )

    # ---- exports and the workspace ----------------------------------------------------------------
    context.exports.update(
        {
            "studioDomainId": studio.domain_id,
            "codeArtifactDomain": codeartifact.domain_name,
            "codeArtifactRepository": codeartifact.team_repository,
            "guardrailPolicyArns": guardrails.policy_arns,
            "modelPackageGroups": {name: p.group.arn for name, p in projects.items()},
            "projectBuckets": {name: p.bucket.name for name, p in projects.items()},
            "personaRoleArns": {persona: r.arn for persona, r in persona_roles.items()},
        }
    )
    return ExpWorkspace(
        settings=settings,
        projects={
            name: ProjectWorkspace(
                name=name,
                role_name=naming.project_role_name(org, name),
                role_arn=p.role.arn,
                role=p.role,
                bucket=p.bucket,
                key_arn=p.key.arn,
                model_package_group=naming.model_package_group_name(name),
                security_group_ids=[p.security_group.id],
                tags={naming.PROJECT_TAG_KEY: name},
            )
            for name, p in projects.items()
        },
        studio_domain_id=studio.domain_id,
        subnet_ids=network.subnet_ids,
        guardrails=guardrails,
        user_role_arns={name: r.arn for name, r in user_roles.items()},
        codeartifact_domain=codeartifact.domain_name,
        codeartifact_repository=codeartifact.team_repository,
        connection_arn=connection_arn,
        codecommit_repositories=codecommit,
    )
