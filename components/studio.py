"""A VPC-only SageMaker Studio domain with one profile, security group and lifecycle config per user.

* Domain: IAM auth, ``VpcOnly`` in the private subnets (users reach it through the corporate network
  and the ``studio``/``sagemaker.api`` interface endpoints), the platform KMS key for EFS and space
  volumes, notebook sharing disabled, Studio's native idle shutdown for JupyterLab, home EFS retained
  when the domain is deleted.
* Per user: a security group (HTTPS and NFS into the VPC, Studio's app-to-app ports within the
  group), a JupyterLab lifecycle configuration and a user profile named after the user (the name the
  IdP passes as ``userName``, so ``CreatePresignedDomainUrl`` can be limited to one's own profile).
* The lifecycle configuration (:func:`lifecycle_script`) fetches the SageMaker SDK config of each of
  the user's projects (:func:`sdk_config`: default bucket = the project's SecureBucket, project KMS
  key for volumes and outputs, subnets, the project's job security group, network isolation,
  inter-container encryption, the project role; an object in the project's bucket, so the script
  does not grow with the user's projects) so ``fit()``/``run()`` pass the deny guardrails, and logs
  pip into CodeArtifact;
  a background loop renews the 12-hour CodeArtifact token every 11 hours while the app runs.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from components.network import endpoint_egress

#: Where the SDK reads its config: user-level always; admin-level when the image lets us write it.
USER_CONFIG_PATH = "/home/sagemaker-user/.config/sagemaker/config.yaml"
ADMIN_CONFIG_PATH = "/etc/xdg/sagemaker/config.yaml"
#: What Studio tells an app about itself (domain, space, execution role).
RESOURCE_METADATA = "/opt/ml/metadata/resource-metadata.json"
#: CodeArtifact tokens live 12 hours; renew with an hour to spare.
TOKEN_RENEWAL_SECONDS = 11 * 3600


@dataclass(frozen=True)
class SdkDefaults:
    """What a user's notebooks default to (all plain strings, known at apply)."""

    bucket: str
    key_prefix: str
    kms_key_arn: str
    subnet_ids: list[str]
    security_group_ids: list[str]
    role_arn: str
    """The project role jobs and pipelines run as (the user may pass it)."""


def sdk_config(defaults: SdkDefaults) -> dict[str, Any]:
    """SageMaker Python SDK config (intelligent defaults) that satisfies the deny guardrails."""
    vpc = {"SecurityGroupIds": sorted(defaults.security_group_ids), "Subnets": sorted(defaults.subnet_ids)}
    key = defaults.kms_key_arn
    return {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {"DefaultS3Bucket": defaults.bucket, "DefaultS3ObjectKeyPrefix": defaults.key_prefix},
                }
            },
            "TrainingJob": {
                "RoleArn": defaults.role_arn,
                "VpcConfig": vpc,
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "OutputDataConfig": {"KmsKeyId": key},
                "ResourceConfig": {"VolumeKmsKeyId": key},
            },
            "ProcessingJob": {
                "RoleArn": defaults.role_arn,
                "NetworkConfig": {"VpcConfig": vpc, "EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
                "ProcessingOutputConfig": {"KmsKeyId": key},
                "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": key}},
            },
            "TransformJob": {
                "TransformOutput": {"KmsKeyId": key},
                "TransformResources": {"VolumeKmsKeyId": key},
                "DataCaptureConfig": {"KmsKeyId": key},
            },
            "Model": {"ExecutionRoleArn": defaults.role_arn, "VpcConfig": vpc, "EnableNetworkIsolation": True},
            "Pipeline": {"RoleArn": defaults.role_arn},
        },
    }


@dataclass(frozen=True)
class CodeArtifactLogin:
    domain: str
    domain_owner: str
    repository: str
    region: str

    def command(self) -> str:
        return " ".join(
            shlex.quote(part)
            for part in [
                "aws", "codeartifact", "login", "--tool", "pip",
                "--domain", self.domain, "--domain-owner", self.domain_owner,
                "--repository", self.repository, "--region", self.region,
            ]
        )


#: Where each project's SDK config lives: an object in the project's own artifacts bucket.
SDK_CONFIG_KEY = "platform/sagemaker-sdk-config.yaml"
#: Stands for the user's name in the shared object (the default S3 key prefix is per user).
USER_PLACEHOLDER = "__STUDIO_USER__"


@dataclass(frozen=True)
class SdkConfigSource:
    """Where a user's start script finds their projects' SDK configs. It names no project, so the
    script's size does not depend on how many projects the user works on."""

    user: str
    """The user's profile name; the profile's ``mlops:project`` tag lists their projects."""
    region: str
    account_id: str
    object_url: str
    """``s3://`` URL of a project's SDK config object, ``{project}`` standing for the project."""


def sdk_config_object(defaults: SdkDefaults) -> str:
    """The project's SDK config as the object the start scripts fetch (user prefix left open)."""
    return yaml.safe_dump(sdk_config(defaults), sort_keys=True)


def lifecycle_script(source: SdkConfigSource, login: CodeArtifactLogin) -> str:
    """Bash run at every JupyterLab start: SDK config(s) and the CodeArtifact login with renewal.

    The script reads the user's projects from their profile's ``mlops:project`` tag and fetches
    each project's :data:`SDK_CONFIG_KEY` from its bucket into
    ``~/.config/sagemaker/projects/<project>.yaml`` (select with ``SAGEMAKER_USER_CONFIG_OVERRIDE``);
    the first (sorted) project's is the default.
    """
    url = source.object_url.replace("{project}", "${project}")
    lines = [
        "#!/bin/bash",
        "# Installed by the platform (components/studio.py); runs at every JupyterLab app start.",
        "set -euo pipefail",
        'CONFIG_DIR="$(dirname ' + shlex.quote(USER_CONFIG_PATH) + ')"',
        'mkdir -p "$CONFIG_DIR/projects"',
        "# The user's projects: their profile's mlops:project tags (the platform keeps them in step).",
        f"DOMAIN_ID=\"$(python3 -c 'import json; print(json.load(open({json.dumps(RESOURCE_METADATA)}))[\"DomainId\"])')\"",
        f'PROFILE_ARN="arn:aws:sagemaker:{source.region}:{source.account_id}:user-profile/$DOMAIN_ID/{source.user}"',
        "PROJECTS=\"$(aws sagemaker list-tags --resource-arn \"$PROFILE_ARN\" "
        "--query \"Tags[?starts_with(Key, 'mlops:project')].Value\" --output text)\"",
        'DEFAULT=""',
        "for project in $(printf '%s\\n' $PROJECTS | sort); do",
        '  [[ "$project" =~ ^[a-z][a-z0-9-]+$ ]] || continue',
        f'  aws s3 cp "{url}" - | sed "s|{USER_PLACEHOLDER}|{source.user}|g" > "$CONFIG_DIR/projects/$project.yaml"',
        '  DEFAULT="${DEFAULT:-$project}"',
        "done",
        'if [ -z "$DEFAULT" ]; then echo "no project in the mlops:project tag of the user profile" >&2; exit 1; fi',
        'cp "$CONFIG_DIR/projects/$DEFAULT.yaml" "$CONFIG_DIR/config.yaml"',
        "# Admin-level copy where the image allows it (root or passwordless sudo).",
        f"if sudo -n true 2>/dev/null; then sudo mkdir -p {shlex.quote(ADMIN_CONFIG_PATH.rsplit('/', 1)[0])} && "
        f"sudo cp \"$CONFIG_DIR/config.yaml\" {shlex.quote(ADMIN_CONFIG_PATH)}; fi",
        "# pip goes through CodeArtifact; the token lives 12 hours: renew every 11 while the app runs.",
        login.command(),
        f"nohup bash -c 'while sleep {TOKEN_RENEWAL_SECONDS}; do {login.command()} >/dev/null 2>&1 || true; done' >/dev/null 2>&1 &",
    ]
    # Studio's 16 KiB limit on the (base64) content is checked on every plan with the other AWS limits
    # (mlops_platform/limits: botocore's CreateStudioLifecycleConfig model), one line naming the user.
    return "\n".join(lines) + "\n"


@dataclass
class StudioUser:
    """One data scientist's Studio identity."""

    name: str
    """User profile name = the IdP's ``userName`` session tag."""
    execution_role_arn: pulumi.Input[str]
    lifecycle_script: pulumi.Input[str]
    """Bash content (:func:`lifecycle_script`)."""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class StudioArgs:
    """Inputs of :class:`Studio`."""

    domain_name: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]
    s3_prefix_list_id: pulumi.Input[str]
    """The S3 gateway endpoint's prefix list (app egress to S3)."""
    kms_key_arn: pulumi.Input[str]
    default_execution_role_arn: pulumi.Input[str]
    """Required by the API for the domain's defaults; every real user has their own role."""
    users: list[StudioUser]
    idle_timeout_minutes: int = 60
    max_idle_timeout_minutes: int = 240


class Studio(pulumi.ComponentResource):
    """Domain, per-user security groups, lifecycle configurations and user profiles."""

    domain: aws.sagemaker.Domain
    domain_id: pulumi.Output[str]
    domain_security_group_id: pulumi.Output[str]
    user_security_group_ids: dict[str, pulumi.Output[str]]
    user_profiles: dict[str, aws.sagemaker.UserProfile]

    def __init__(self, name: str, args: StudioArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:studio:Studio", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        domain_sg = self._security_group(f"{name}-domain-sg", "Studio domain defaults", args, {})
        self.domain_security_group_id = domain_sg.id
        self.user_security_group_ids = {}
        user_sgs = {}
        for user in args.users:
            sg = self._security_group(f"{name}-{user.name}-sg", f"Studio apps of {user.name}", args, user.tags)
            user_sgs[user.name] = sg
            self.user_security_group_ids[user.name] = sg.id

        idle = aws.sagemaker.DomainDefaultUserSettingsJupyterLabAppSettingsAppLifecycleManagementArgs(
            idle_settings=aws.sagemaker.DomainDefaultUserSettingsJupyterLabAppSettingsAppLifecycleManagementIdleSettingsArgs(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=args.idle_timeout_minutes,
                min_idle_timeout_in_minutes=min(60, args.idle_timeout_minutes),
                max_idle_timeout_in_minutes=args.max_idle_timeout_minutes,
            )
        )
        self.domain = aws.sagemaker.Domain(
            f"{name}-domain",
            aws.sagemaker.DomainArgs(
                domain_name=args.domain_name,
                auth_mode="IAM",
                app_network_access_type="VpcOnly",
                vpc_id=args.vpc_id,
                subnet_ids=args.subnet_ids,
                kms_key_id=args.kms_key_arn,
                default_user_settings=aws.sagemaker.DomainDefaultUserSettingsArgs(
                    execution_role=args.default_execution_role_arn,
                    security_groups=[domain_sg.id],
                    sharing_settings=aws.sagemaker.DomainDefaultUserSettingsSharingSettingsArgs(notebook_output_option="Disabled"),
                    studio_web_portal="ENABLED",
                    default_landing_uri="studio::",
                    jupyter_lab_app_settings=aws.sagemaker.DomainDefaultUserSettingsJupyterLabAppSettingsArgs(app_lifecycle_management=idle),
                ),
                default_space_settings=aws.sagemaker.DomainDefaultSpaceSettingsArgs(
                    execution_role=args.default_execution_role_arn, security_groups=[domain_sg.id]
                ),
                domain_settings=aws.sagemaker.DomainDomainSettingsArgs(
                    docker_settings=aws.sagemaker.DomainDomainSettingsDockerSettingsArgs(enable_docker_access="DISABLED")
                ),
                retention_policy=aws.sagemaker.DomainRetentionPolicyArgs(home_efs_file_system="Retain"),
                tag_propagation="ENABLED",
            ),
            opts=here,
        )
        self.domain_id = self.domain.id

        self.user_profiles = {}
        in_domain = pulumi.ResourceOptions(parent=self.domain)
        for user in args.users:
            lifecycle = aws.sagemaker.StudioLifecycleConfig(
                f"{name}-{user.name}-lifecycle",
                aws.sagemaker.StudioLifecycleConfigArgs(
                    studio_lifecycle_config_name=f"{args.domain_name}-{user.name}-jupyterlab"[:63],
                    studio_lifecycle_config_app_type="JupyterLab",
                    studio_lifecycle_config_content=pulumi.Output.from_input(user.lifecycle_script).apply(
                        lambda script: base64.b64encode(script.encode()).decode()
                    ),
                    tags=user.tags,
                ),
                opts=here,
            )
            self.user_profiles[user.name] = aws.sagemaker.UserProfile(
                f"{name}-{user.name}-profile",
                aws.sagemaker.UserProfileArgs(
                    domain_id=self.domain.id,
                    user_profile_name=user.name,
                    user_settings=aws.sagemaker.UserProfileUserSettingsArgs(
                        execution_role=user.execution_role_arn,
                        security_groups=[user_sgs[user.name].id],
                        sharing_settings=aws.sagemaker.UserProfileUserSettingsSharingSettingsArgs(notebook_output_option="Disabled"),
                        studio_web_portal="ENABLED",
                        default_landing_uri="studio::",
                        jupyter_lab_app_settings=aws.sagemaker.UserProfileUserSettingsJupyterLabAppSettingsArgs(
                            lifecycle_config_arns=[lifecycle.arn],
                            default_resource_spec=aws.sagemaker.UserProfileUserSettingsJupyterLabAppSettingsDefaultResourceSpecArgs(
                                lifecycle_config_arn=lifecycle.arn
                            ),
                            app_lifecycle_management=aws.sagemaker.UserProfileUserSettingsJupyterLabAppSettingsAppLifecycleManagementArgs(
                                idle_settings=aws.sagemaker.UserProfileUserSettingsJupyterLabAppSettingsAppLifecycleManagementIdleSettingsArgs(
                                    lifecycle_management="ENABLED",
                                    idle_timeout_in_minutes=args.idle_timeout_minutes,
                                    min_idle_timeout_in_minutes=min(60, args.idle_timeout_minutes),
                                    max_idle_timeout_in_minutes=args.max_idle_timeout_minutes,
                                )
                            ),
                        ),
                    ),
                    tags={"studiouserid": user.name, **user.tags},
                ),
                opts=in_domain,
            )
        self.register_outputs({"domainId": self.domain_id, "domainSecurityGroupId": self.domain_security_group_id})

    def _security_group(self, name: str, description: str, args: StudioArgs, tags: dict[str, str]) -> aws.ec2.SecurityGroup:
        """Studio apps: HTTPS to endpoints, NFS to the home EFS, app-to-app ports within the group."""
        to_endpoints = endpoint_egress(args.vpc_cidr, args.s3_prefix_list_id)
        egress = [
            to_endpoints.interface_endpoints,
            aws.ec2.SecurityGroupEgressArgs(description="NFS to the Studio home EFS", protocol="tcp", from_port=2049, to_port=2049, cidr_blocks=[args.vpc_cidr]),
            aws.ec2.SecurityGroupEgressArgs(description="Studio app-to-app traffic", protocol="tcp", from_port=8192, to_port=65535, self=True),
            to_endpoints.s3_gateway,
        ]
        return aws.ec2.SecurityGroup(
            name,
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=description,
                ingress=[aws.ec2.SecurityGroupIngressArgs(description="Studio app-to-app traffic", protocol="tcp", from_port=8192, to_port=65535, self=True)],
                egress=egress,
                tags={**tags, "Name": name},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
