"""A model project's own stack in the EXP account: ``exp.<project>``.

The EXP account stack holds what people and guardrails share (Studio, the users' roles, the
projects' roles and jobs groups); each project's own resources live here, so no stack grows with
the number of projects and changing one project deploys only its stack. In order:

1. the EXP stack's outputs (one StackReference; a missing output is one line);
2. :class:`ModelProject`: key, artifacts bucket, registry group and its policy, new-version rule;
3. the project role's inline policy and both SageMaker deny guardrails on it (its own network
   policy: its jobs group only; the account's encryption policy);
4. the SDK defaults object the members' Studio start scripts fetch;
5. the model build pipeline and its retraining schedule (:mod:`accounts.exp_pipelines`);
6. the project's Athena workgroup and query policies (:mod:`accounts.exp_data_access`).

No baseline: the project shares its account stack's VPC, keys, logging and audit.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from accounts import exp_data_access, exp_pipelines, exp_projects
from accounts.exp_guardrails import SAGEMAKER_API
from components.exp_policies import ExpPolicyContext, project_role_policy
from components.guardrails import RoleGuardrails, RoleGuardrailsArgs
from components.model_project import ModelProject
from components.release_roles import PLATFORM_PROJECT
from components.studio import SDK_CONFIG_KEY, USER_PLACEHOLDER, SdkDefaults, sdk_config_object
from mlops_core import naming
from mlops_core.config import StackSettings, account_stack_of

#: Outputs of the EXP account stack a project stack reads.
EXP_OUTPUTS = (
    "subnetIds", "endpointIds", "platformKeyArn", "alertsTopicArn", "accessLogBucket", "studioDomainId",
    "codeArtifactDomain", "codeArtifactRepository", "guardrailPolicyArns", "projectSecurityGroupIds", "eventsRoleArn",
)


class ExpOutputs:
    """The EXP account stack's outputs, checked once: a missing one is a one-line error.

    An empty output map is tolerated: the offline harness answers a StackReference only after a first
    run that discovers it (and a real deploy before the EXP stack's fails at the reference itself).
    """

    def __init__(self, settings: StackSettings) -> None:
        self.account_stack = account_stack_of(settings.stack) or settings.stack
        self._project = str(settings.model_project)
        reference = pulumi.StackReference(naming.stack_reference_name(PLATFORM_PROJECT, self.account_stack))
        self._outputs = reference.outputs.apply(self._check)

    def _check(self, outputs: Any) -> dict[str, Any]:
        outputs = dict(outputs or {})
        missing = [key for key in EXP_OUTPUTS if outputs and key not in outputs]
        if missing:
            raise pulumi.RunError(
                f"stack {self.account_stack} does not export {', '.join(missing)}: deploy it with this version of the platform first"
            )
        groups = outputs.get("projectSecurityGroupIds")
        if outputs and self._project not in (groups or {}):
            raise pulumi.RunError(
                f"stack {self.account_stack} has no jobs security group for model project {self._project}: "
                f"deploy {self.account_stack} after adding the project, then this stack"
            )
        return outputs

    def get(self, key: str) -> pulumi.Output[Any]:
        return self._outputs.apply(lambda outputs: outputs.get(key))

    def security_group_ids(self) -> pulumi.Output[list[str]]:
        """The project's jobs group (the only group its jobs may use)."""
        return self.get("projectSecurityGroupIds").apply(lambda groups: [groups[self._project]] if groups else [])


def build(settings: StackSettings, provider: aws.Provider) -> dict[str, Any]:
    """Declare the project's stack; returns its exports."""
    project = str(settings.model_project)
    org, account = settings.org, settings.account_id
    opts = pulumi.ResourceOptions(provider=provider)
    exp = ExpOutputs(settings)
    role_name = naming.project_role_name(org, project)
    role_arn = naming.role_arn(account, role_name)

    model_project = ModelProject(
        f"exp-{project}",
        exp_projects.model_project_args(settings, org.project(project), exp.get("accessLogBucket"), exp.get("eventsRoleArn")),
        opts=opts,
    )
    _role_policy(settings, exp, model_project, opts)
    guardrails = f"exp-{project}-role-guardrails"
    RoleGuardrails(
        guardrails,
        RoleGuardrailsArgs(
            name_prefix=org.platform_name,
            scope=f"project-{project}",
            role_name=role_name,
            subnet_ids=exp.get("subnetIds"),
            security_group_ids=exp.security_group_ids(),
            sagemaker_api_endpoint_ids=exp.get("endpointIds").apply(lambda ids: [ids[SAGEMAKER_API]] if ids else []),
            encryption_policy_arn=exp.get("guardrailPolicyArns").apply(lambda arns: arns[1] if arns else ""),
            # Their names in the EXP stack before the split (mlops_platform/project_split.py moves them).
            previous_names={
                f"{guardrails}-sagemaker-deny-network-policy": f"exp-guardrails-sagemaker-deny-network-project-{project}",
                **{f"{guardrails}-{kind}": f"exp-{project}-role-{kind}" for kind in ("sagemaker-deny-network", "sagemaker-deny-encryption")},
            },
            tags={naming.PROJECT_TAG_KEY: project},
        ),
        opts=opts,
    )
    _sdk_config_object(project, model_project, role_arn, exp)
    pipeline_arn = exp_pipelines.build_project(
        settings,
        project,
        exp_pipelines.PipelineInputs(
            role_arn=role_arn,
            role_name=role_name,
            bucket_name=model_project.bucket.name,
            kms_key_arn=model_project.key.arn,
            subnet_ids=exp.get("subnetIds"),
            security_group_ids=exp.security_group_ids(),
            alerts_topic_arn=exp.get("alertsTopicArn"),
        ),
        opts,
    )
    results_bucket = naming.bucket_name(org, account, "athena-results")
    workgroup = exp_data_access.build_project(settings, project, model_project.key.arn, results_bucket, opts)
    exports: dict[str, Any] = {
        "role": settings.role,
        "modelProject": project,
        "accountId": account,
        "region": org.region,
        "modelPackageGroupArn": model_project.group.arn,
        "projectBucket": model_project.bucket.name,
        "projectKeyArn": model_project.key.arn,
        "modelBuildPipelineArn": pipeline_arn,
    }
    if workgroup is not None:
        exports["athenaWorkgroup"] = workgroup
    return exports


def _role_policy(settings: StackSettings, exp: ExpOutputs, model_project: ModelProject, opts: pulumi.ResourceOptions) -> None:
    """The project role's inline policy: its jobs, its resources, the workspace's endpoints."""
    org, project = settings.org, str(settings.model_project)
    context = pulumi.Output.all(
        exp.get("studioDomainId"), exp.get("endpointIds"), exp.get("codeArtifactDomain"),
        exp.get("codeArtifactRepository"), exp.get("platformKeyArn"), model_project.resources,
    ).apply(
        lambda v: ExpPolicyContext(
            platform_name=org.platform_name,
            account_id=settings.account_id,
            region=org.region,
            domain_id=v[0] or "",
            sagemaker_api_endpoint_id=(v[1] or {}).get(SAGEMAKER_API, ""),
            user_name_tag=org.identity.user_name_tag,
            codeartifact_domain=v[2] or "",
            codeartifact_repository=v[3] or "",
            projects={project: v[5]},
            domain_key_arn=v[4] or "",
        )
    )
    aws.iam.RolePolicy(
        f"exp-{project}-role-policy",
        aws.iam.RolePolicyArgs(
            role=naming.project_role_name(org, project),
            name="project",
            policy=context.apply(lambda c: json.dumps(project_role_policy(c.projects[project], c))),
        ),
        opts=opts,
    )


def _sdk_config_object(project: str, model_project: ModelProject, role_arn: str, exp: ExpOutputs) -> None:
    """The project's SDK defaults (bucket, key, subnets, jobs group, role) as an object in its bucket,
    which the members' Studio start scripts fetch."""
    content = pulumi.Output.all(model_project.resources, exp.security_group_ids(), exp.get("subnetIds")).apply(
        lambda v: sdk_config_object(
            SdkDefaults(
                bucket=v[0].bucket_arn.removeprefix("arn:aws:s3:::"),
                key_prefix=f"users/{USER_PLACEHOLDER}",
                kms_key_arn=v[0].key_arn,
                subnet_ids=list(v[2] or []),
                security_group_ids=list(v[1] or []),
                role_arn=role_arn,
            )
        )
    )
    aws.s3.BucketObjectv2(
        f"exp-{project}-sdk-config",
        aws.s3.BucketObjectv2Args(
            bucket=model_project.bucket.name,
            key=SDK_CONFIG_KEY,
            content=content,
            content_type="application/yaml",
            server_side_encryption="aws:kms",
            kms_key_id=model_project.key.arn,
            bucket_key_enabled=True,
            tags={naming.PROJECT_TAG_KEY: project},
        ),
        opts=pulumi.ResourceOptions(parent=model_project),
    )
