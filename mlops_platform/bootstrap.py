"""``mlops-platform bootstrap``: what the stacks need before their first run (boto3, idempotent).

Run once per organisation by an administrator (and again whenever its inputs change; every step
checks what exists and converges). The stacks cannot create these themselves: their providers assume
the deploy role, and their state lives in the bucket.

Who is who (all role names from ``mlops_core.naming``):

- **CI deploy identity**: ``<p>-deploy`` in RES, assumed through GitHub OIDC by the main-branch jobs of
  the repository's deploy environments (``sub`` = ``repo:<owner>/<repo>:environment:<env>``, env one
  of shared, dev, int, prod; ``aud`` = ``sts.amazonaws.com``). It reads and writes the state.
- **CI preview identity**: ``<p>-preview`` in RES, assumed by pull requests (``sub`` =
  ``repo:<owner>/<repo>:pull_request``). A preview runs pull-request code, so it never gets deploy rights.
- **Per account** (data, exp, res, dev, int, prod, and the management account when the identity stack
  runs there): ``<p>-deploy``, the role the stack's providers assume, trusted by the RES deploy role
  and by the MFA-gated platform administrator (engineers running ``pulumi up`` themselves), carrying
  the permissions boundary ``<p>-deploy-boundary``; and
  ``<p>-preview`` (AWS ``ReadOnlyAccess`` minus data reads), trusted by the RES preview role.
- **RES state**: the bucket ``<p>-pulumi-state-<res>-<region>`` (SSE-KMS with bucket key, versioned,
  public access blocked, owner-enforced, TLS only) whose policy admits only the deploy, preview and
  administrator identities and the RES serving deployer CodeBuild role, the latter only through the RES
  S3 VPC endpoint (``aws:SourceVpce``; until that endpoint exists, i.e. before the res stack, the
  CodeBuild role is simply not admitted: re-run bootstrap with ``--res-vpc-endpoint-id``). The KMS key
  ``alias/<p>-pulumi-state`` encrypts the bucket and serves the ``awskms`` secrets provider.

Trust and resource policies name account roots with ``aws:PrincipalArn`` conditions (the foundation's
rule), so no principal has to exist when a policy is written.

The administrator's MFA condition is ``aws:MultiFactorAuthPresent``: AWS sets it for sessions made with
an MFA device (``sts:AssumeRole``/``GetSessionToken`` with a serial number), not for SAML or Identity
Center sign-ins, whose MFA the identity provider enforces. Point ``--admin-principal-arn`` at a role
that administrators assume with MFA.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mlops_core import naming
from mlops_core.config import OrganizationConfig
from mlops_core.roles import STAGES

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_AUDIENCE = "sts.amazonaws.com"
#: GitHub environment whose jobs deploy each account's stack (required reviewers gate shared, int, prod).
DEPLOY_ENVIRONMENT_OF_ROLE = {"identity": "shared", "log-archive": "shared", "data": "shared", "exp": "shared", "res": "shared", "dev": "dev",
                              "int": "int", "prod": "prod"}
DEPLOY_ENVIRONMENTS = ("shared", *STAGES)
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PREVIEW_INLINE_POLICY = "preview-limits"
SESSION_SECONDS = 3600


class BootstrapError(Exception):
    """Bad bootstrap input (one line)."""


@dataclass(frozen=True)
class BootstrapSettings:
    """Everything bootstrap writes is derived from these."""

    org: OrganizationConfig
    admin_principal_arn: str
    """The platform administrator principal (ARN, may use ``*`` for SSO roles); must sign in with MFA."""
    res_vpc_endpoint_id: str | None = None
    """The RES S3 gateway endpoint (output of the res stack); admits the serving deployer CodeBuild role."""

    @property
    def repository(self) -> str:
        if self.org.github is None:
            raise BootstrapError("organization.yaml: github.repository is required for bootstrap (owner/name)")
        return self.org.github.repository

    @property
    def res(self) -> str:
        return self.org.accounts.res

    def deploy_role_arn(self, account: str) -> str:
        return naming.role_arn(account, naming.deploy_role_name(self.org))

    def preview_role_arn(self, account: str) -> str:
        return naming.role_arn(account, naming.preview_role_name(self.org))

    def boundary_arn(self, account: str) -> str:
        return f"arn:aws:iam::{account}:policy/{naming.deploy_boundary_name(self.org)}"

    def stack_accounts(self) -> dict[str, str]:
        """Role -> account of every platform stack: the six accounts (DATA optional), the log-archive
        account when configured and, with IAM Identity Center, the management account that runs the
        identity stack."""
        accounts = dict(self.org.accounts.by_role())
        if self.org.accounts.log_archive:
            accounts["log-archive"] = self.org.accounts.log_archive
        identity = self.org.identity
        if identity.mode == "identity-center" and identity.management_account:
            accounts["identity"] = identity.management_account
        return accounts

    @property
    def codebuild_role_arn(self) -> str:
        return naming.role_arn(self.res, naming.serving_deployer_role_name(self.org))

    @property
    def oidc_provider_arn(self) -> str:
        return f"arn:aws:iam::{self.res}:oidc-provider/{GITHUB_OIDC_HOST}"

    @property
    def state_bucket(self) -> str:
        return naming.bucket_name(self.org, self.res, naming.STATE_PURPOSE)

    @property
    def state_key_alias(self) -> str:
        return naming.kms_alias(self.org, naming.STATE_PURPOSE)

    @property
    def admin_account(self) -> str:
        parts = self.admin_principal_arn.split(":")
        if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit():
            raise BootstrapError(f"--admin-principal-arn {self.admin_principal_arn!r}: not an IAM principal ARN")
        return parts[4]


# --- policy documents (pure) ------------------------------------------------------------------------


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _oidc_statement(settings: BootstrapSettings, subjects: list[str], sid: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Federated": settings.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": OIDC_AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subjects}},
    }


def _role_in_res(settings: BootstrapSettings, role_arn: str, sid: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": naming.account_root(settings.res)},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn}},
    }


def _admin_statement(settings: BootstrapSettings) -> dict[str, Any]:
    return {
        "Sid": "PlatformAdministratorWithMfa",
        "Effect": "Allow",
        "Principal": {"AWS": naming.account_root(settings.admin_account)},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": settings.admin_principal_arn},
                      "Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }


def deploy_trust_policy(settings: BootstrapSettings, account: str) -> dict[str, Any]:
    """Who may assume ``<p>-deploy`` in ``account``."""
    statements = []
    if account == settings.res:
        subjects = [f"repo:{settings.repository}:environment:{env}" for env in DEPLOY_ENVIRONMENTS]
        statements.append(_oidc_statement(settings, subjects, "GitHubDeployEnvironments"))
    statements.append(_role_in_res(settings, settings.deploy_role_arn(settings.res), "CiDeployIdentity"))
    statements.append(_admin_statement(settings))
    return _doc(*statements)


def preview_trust_policy(settings: BootstrapSettings, account: str) -> dict[str, Any]:
    """Who may assume ``<p>-preview`` in ``account``: pull requests only, never deploy environments."""
    statements = []
    if account == settings.res:
        statements.append(_oidc_statement(settings, [f"repo:{settings.repository}:pull_request"], "GitHubPullRequests"))
    statements.append(_role_in_res(settings, settings.preview_role_arn(settings.res), "CiPreviewIdentity"))
    return _doc(*statements)


def boundary_policy(settings: BootstrapSettings, account: str) -> dict[str, Any]:
    """The deploy role's permissions boundary: everything a stack needs, nothing that undoes the guard rails."""
    bootstrap_roles = [settings.deploy_role_arn(account), settings.preview_role_arn(account)]
    return _doc(
        {"Sid": "StacksManageTheirResources", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoBoundaryTampering", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"],
         "Resource": settings.boundary_arn(account)},
        {"Sid": "NoChangesToBootstrapRoles", "Effect": "Deny",
         "Action": ["iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:UpdateRole", "iam:AttachRolePolicy",
                    "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                    "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary"],
         "Resource": bootstrap_roles},
        {"Sid": "NoLongLivedUserCredentials", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
         "Resource": "*"},
        {"Sid": "NoOrganizationOrAccountChanges", "Effect": "Deny",
         "Action": ["organizations:*", "account:*"], "Resource": "*"},
        {"Sid": "NoAuditTrailShutdown", "Effect": "Deny",
         "Action": ["cloudtrail:StopLogging", "guardduty:DeleteDetector", "guardduty:DisassociateFromMasterAccount"],
         "Resource": "*"},
        {"Sid": "NoStateStoreRemoval", "Effect": "Deny",
         "Action": ["s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration"],
         "Resource": f"arn:aws:s3:::{settings.state_bucket}"},
        {"Sid": "NoStateKeyRemoval", "Effect": "Deny",
         "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"], "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": settings.state_key_alias}}},
    )


def preview_inline_policy(settings: BootstrapSettings, account: str) -> dict[str, Any]:
    """Limits on top of ReadOnlyAccess: no data or secret reads; in RES, state read and lock files only."""
    state = f"arn:aws:s3:::{settings.state_bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "NoDataReads", "Effect": "Deny", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "NotResource": f"{state}/*"},
        {"Sid": "NoSecretReads", "Effect": "Deny",
         "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters",
                    "ssm:GetParametersByPath", "sagemaker:GetRecord", "athena:GetQueryResults"],
         "Resource": "*"},
    ]
    if account == settings.res:
        statements += [
            {"Sid": "ReadState", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
             "Resource": [state, f"{state}/*"]},
            {"Sid": "WriteLocksOnly", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
             "Resource": f"{state}/.pulumi/locks/*"},
            {"Sid": "DecryptState", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": settings.state_key_alias}}},
        ]
    return _doc(*statements)


def state_identities(settings: BootstrapSettings) -> list[str]:
    """Principals admitted to the state bucket's objects."""
    identities = [settings.deploy_role_arn(settings.res), settings.preview_role_arn(settings.res),
                  settings.admin_principal_arn]
    if settings.res_vpc_endpoint_id:
        identities.append(settings.codebuild_role_arn)
    return identities


def state_bucket_policy(settings: BootstrapSettings, bootstrap_role_arn: str) -> dict[str, Any]:
    bucket = f"arn:aws:s3:::{settings.state_bucket}"
    statements = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket, f"{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "OnlyStateIdentitiesReadAndWriteState", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": f"{bucket}/*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": state_identities(settings)}}},
        {"Sid": "OnlyStateIdentitiesAndBootstrapManageTheBucket", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": bucket,
         "Condition": {"ArnNotLike": {"aws:PrincipalArn": [*state_identities(settings), bootstrap_role_arn]}}},
        {"Sid": "PreviewWritesLocksOnly", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
         "NotResource": f"{bucket}/.pulumi/locks/*",
         "Condition": {"ArnEquals": {"aws:PrincipalArn": settings.preview_role_arn(settings.res)}}},
        {"Sid": "AdministratorOnlyWithMfa", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket, f"{bucket}/*"],
         "Condition": {"ArnLike": {"aws:PrincipalArn": settings.admin_principal_arn},
                       "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    ]
    if settings.res_vpc_endpoint_id:
        statements.append(
            {"Sid": "ServingDeployerOnlyThroughTheVpcEndpoint", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket, f"{bucket}/*"],
             "Condition": {"ArnEquals": {"aws:PrincipalArn": settings.codebuild_role_arn},
                           "StringNotEquals": {"aws:SourceVpce": settings.res_vpc_endpoint_id}}})
    return _doc(*statements)


def state_key_policy(settings: BootstrapSettings) -> dict[str, Any]:
    root = naming.account_root(settings.res)
    return _doc(
        # Without this statement nobody could ever change the key policy again (AWS's default statement).
        {"Sid": "AccountAdministersTheKey", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "StateIdentitiesUseTheKey", "Effect": "Allow", "Principal": {"AWS": root},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey"],
         "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": state_identities(settings)}}},
    )


# --- applying (boto3) --------------------------------------------------------------------------------


@dataclass
class BootstrapReport:
    actions: list[str] = field(default_factory=list)

    def add(self, account: str, action: str) -> None:
        self.actions.append(f"{account}: {action}")


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _tags(settings: BootstrapSettings) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**settings.org.tags, "mlops:platform": settings.org.platform_name}.items()]


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True)


def _same(current: Any, wanted: dict[str, Any]) -> bool:
    if isinstance(current, str):
        from urllib.parse import unquote

        current = json.loads(unquote(current))
    return json.loads(_json(current)) == json.loads(_json(wanted))


def ensure_boundary(iam: Any, settings: BootstrapSettings, account: str, report: BootstrapReport) -> None:
    arn, document = settings.boundary_arn(account), boundary_policy(settings, account)
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        iam.create_policy(PolicyName=naming.deploy_boundary_name(settings.org), PolicyDocument=_json(document),
                          Description="Permissions boundary of the platform deploy role", Tags=_tags(settings))
        report.add(account, f"created permissions boundary {arn}")
        return
    current = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    if _same(current, document):
        return
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= 5:  # IAM keeps at most five versions
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_json(document), SetAsDefault=True)
    report.add(account, f"updated permissions boundary {arn}")


def ensure_role(iam: Any, settings: BootstrapSettings, account: str, report: BootstrapReport, *, name: str,
                trust: dict[str, Any], managed: str, description: str,
                inline: dict[str, Any] | None = None) -> None:
    boundary = settings.boundary_arn(account)
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_json(trust), Description=description,
                        MaxSessionDuration=SESSION_SECONDS, PermissionsBoundary=boundary, Tags=_tags(settings))
        report.add(account, f"created role {name}")
    else:
        if not _same(role["AssumeRolePolicyDocument"], trust):
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=_json(trust))
            report.add(account, f"updated trust policy of {name}")
        if (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") != boundary:
            iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)
            report.add(account, f"set permissions boundary of {name}")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    if managed not in {policy["PolicyArn"] for policy in attached}:
        iam.attach_role_policy(RoleName=name, PolicyArn=managed)
        report.add(account, f"attached {managed.rsplit('/', 1)[-1]} to {name}")
    if inline is not None:
        try:
            current = iam.get_role_policy(RoleName=name, PolicyName=PREVIEW_INLINE_POLICY)["PolicyDocument"]
        except ClientError as error:
            if _code(error) != "NoSuchEntity":
                raise
            current = None
        if current is None or not _same(current, inline):
            iam.put_role_policy(RoleName=name, PolicyName=PREVIEW_INLINE_POLICY, PolicyDocument=_json(inline))
            report.add(account, f"{'updated' if current else 'set'} the {PREVIEW_INLINE_POLICY} policy of {name}")


def ensure_github_oidc_provider(iam: Any, settings: BootstrapSettings, report: BootstrapReport) -> None:
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if settings.oidc_provider_arn in arns:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=settings.oidc_provider_arn)
        if OIDC_AUDIENCE not in provider.get("ClientIDList", []):
            iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=settings.oidc_provider_arn,
                                                          ClientID=OIDC_AUDIENCE)
            report.add(settings.res, "added audience sts.amazonaws.com to the GitHub OIDC provider")
        return
    iam.create_open_id_connect_provider(Url=f"https://{GITHUB_OIDC_HOST}", ClientIDList=[OIDC_AUDIENCE],
                                        Tags=_tags(settings))
    report.add(settings.res, "created the GitHub OIDC provider")


def ensure_state_key(kms: Any, settings: BootstrapSettings, report: BootstrapReport) -> str:
    """The state key's ARN (created with alias, rotation and policy if missing)."""
    policy = _json(state_key_policy(settings))
    try:
        key = kms.describe_key(KeyId=settings.state_key_alias)["KeyMetadata"]
    except ClientError as error:
        if _code(error) != "NotFoundException":
            raise
        key = kms.create_key(Description=f"{settings.org.platform_name} Pulumi state and secrets provider",
                             KeyUsage="ENCRYPT_DECRYPT", Policy=policy,
                             Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(settings)])["KeyMetadata"]
        kms.create_alias(AliasName=settings.state_key_alias, TargetKeyId=key["KeyId"])
        report.add(settings.res, f"created KMS key {settings.state_key_alias}")
    else:
        current = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
        if not _same(current, json.loads(policy)):
            kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy)
            report.add(settings.res, f"updated the policy of {settings.state_key_alias}")
    if not kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["Arn"]


def ensure_state_bucket(s3: Any, settings: BootstrapSettings, key_arn: str, bootstrap_role_arn: str,
                        report: BootstrapReport) -> None:
    bucket = settings.state_bucket
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=settings.res)
    except ClientError as error:
        if _code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise BootstrapError(f"state bucket {bucket}: {_code(error)} (owned by another account?)") from error
        create: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        if settings.org.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": settings.org.region}
        s3.create_bucket(**create)
        report.add(settings.res, f"created state bucket {bucket}")
    # PUTs are idempotent: applying them on every run converges a bucket someone changed by hand.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True}]})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "old-state-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags(settings)})
    s3.put_bucket_policy(Bucket=bucket, Policy=_json(state_bucket_policy(settings, bootstrap_role_arn)))


SessionFactory = Callable[[str], Any]
"""Account ID -> a boto3 Session with administrator rights in that account."""


def assume_role_sessions(base: Any, role_name: str) -> SessionFactory:
    """Sessions through ``role_name`` in each account (default: the Organizations access role)."""
    import boto3

    def session(account: str) -> Any:
        creds = base.client("sts").assume_role(RoleArn=naming.role_arn(account, role_name),
                                               RoleSessionName="mlops-platform-bootstrap")["Credentials"]
        return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=base.region_name)

    return session


def bootstrap(settings: BootstrapSettings, sessions: SessionFactory, bootstrap_role_name: str) -> BootstrapReport:
    """Create or converge everything described in the module docstring; returns what changed."""
    report = BootstrapReport()
    org = settings.org
    _ = settings.repository, settings.admin_account  # validate before any call
    for role, account in settings.stack_accounts().items():
        session = sessions(account)
        iam = session.client("iam")
        if account == settings.res:
            ensure_github_oidc_provider(iam, settings, report)
        ensure_boundary(iam, settings, account, report)
        ensure_role(iam, settings, account, report, name=naming.deploy_role_name(org),
                    trust=deploy_trust_policy(settings, account), managed=ADMINISTRATOR_ACCESS,
                    description=f"Deploys the {role} stack (GitHub environment {DEPLOY_ENVIRONMENT_OF_ROLE[role]})")
        ensure_role(iam, settings, account, report, name=naming.preview_role_name(org),
                    trust=preview_trust_policy(settings, account), managed=READ_ONLY_ACCESS,
                    description=f"Previews the {role} stack for pull requests (read only)",
                    inline=preview_inline_policy(settings, account))
    res = sessions(settings.res)
    key_arn = ensure_state_key(res.client("kms", region_name=org.region), settings, report)
    ensure_state_bucket(res.client("s3", region_name=org.region), settings, key_arn,
                        naming.role_arn(settings.res, bootstrap_role_name), report)
    return report
