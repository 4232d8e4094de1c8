"""`mlops-platform bootstrap`: deploy roles, preview roles, GitHub OIDC, state bucket and key (see
``mlops_platform.bootstrap``). Exit codes: 0 done, 2 bad input or missing credentials (one line)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError

from mlops_core import naming
from mlops_platform.commands.common import BadInput, fail, project_root
from mlops_platform.bootstrap import (
    BootstrapError,
    BootstrapSettings,
    assume_role_sessions,
    boundary_policy,
    bootstrap,
    deploy_trust_policy,
    preview_inline_policy,
    preview_trust_policy,
    state_bucket_policy,
    state_key_policy,
)
from mlops_core.config import ConfigError, load_organization

#: Seam for tests: a fixed project root (default: the project the CLI found).
ROOT: Path | None = None


def _root() -> Path:
    return ROOT if ROOT is not None else project_root()


def base_session() -> Any:
    import boto3

    return boto3.Session()


def _documents(settings: BootstrapSettings, bootstrap_role_name: str) -> dict[str, Any]:
    accounts = settings.stack_accounts()
    return {
        "accounts": {
            role: {
                "deployRoleTrust": deploy_trust_policy(settings, account),
                "previewRoleTrust": preview_trust_policy(settings, account),
                "deployBoundary": boundary_policy(settings, account),
                "previewLimits": preview_inline_policy(settings, account),
            }
            for role, account in accounts.items()
        },
        "stateBucket": {"name": settings.state_bucket,
                        "policy": state_bucket_policy(settings, naming.role_arn(settings.res, bootstrap_role_name))},
        "stateKey": {"alias": settings.state_key_alias, "policy": state_key_policy(settings)},
    }


TOOLCHAIN_SCRIPT = "images/stage_toolchain.sh"


def toolchain_command(root: Path, org: Any) -> list[str]:
    """The staging call for the image pipeline's toolchain: the Pulumi CLI of the pinned SDK, the pinned
    ``pulumi-resource-aws`` plugin and the wheelhouse, into RES's release bucket under the release key.

    Isolated builds cannot download anything, so this runs where bootstrap runs (with internet), once
    the res stack has created the release bucket and key: ``mlops-platform bootstrap --stage-toolchain``.
    """
    from components.image_pipeline import TOOLCHAIN_KEY

    res = org.accounts.res
    bucket = naming.bucket_name(org, res, "release")
    key = f"arn:aws:kms:{org.region}:{res}:{naming.kms_alias(org, 'release')}"
    return ["bash", str(root / TOOLCHAIN_SCRIPT), f"s3://{bucket}/{TOOLCHAIN_KEY}", key]


def register(app: typer.Typer) -> None:
    """Add the ``bootstrap`` command."""

    @app.command("bootstrap")
    def bootstrap_command(
        admin_principal_arn: Annotated[str | None, typer.Option(
            "--admin-principal-arn", metavar="ARN",
            help="Platform administrator principal (ARN, '*' allowed for SSO roles); default: the platform_admin "
                 "persona role in RES.")] = None,
        res_vpc_endpoint_id: Annotated[str | None, typer.Option(
            "--res-vpc-endpoint-id", metavar="VPCE_ID", help="RES S3 VPC endpoint (res stack output) admitting the serving deployer.")] = None,
        assume_role_name: Annotated[str, typer.Option(
            "--assume-role-name", metavar="ROLE", help="Administrator role to assume in each account.")] = "OrganizationAccountAccessRole",
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the policy documents; call nothing.")] = False,
        stage_toolchain: Annotated[bool, typer.Option(
            "--stage-toolchain",
            help="After the first res deploy: stage the pinned Pulumi CLI, pulumi-resource-aws plugin and wheels "
                 "for the isolated image builds (needs internet and RES credentials).")] = False,
    ) -> None:
        """Create (or converge) what the stacks need before their first run, in every account."""
        if stage_toolchain:
            try:
                root = _root()
                command = toolchain_command(root, load_organization(root))
            except (BadInput, ConfigError) as error:
                raise fail(str(error)) from None
            if dry_run:
                typer.echo(" ".join(command))
                return
            if base_session().get_credentials() is None:  # before the script downloads anything
                raise fail("--stage-toolchain writes to the RES release bucket: no AWS credentials found "
                           "(sign in to the RES account, e.g. AWS_PROFILE=<res profile>, and retry)")
            code = subprocess.run(command, check=False).returncode
            if code:
                typer.echo(f"error: staging the toolchain failed (exit {code}); see the lines above", err=True)
                raise typer.Exit(1)
            return
        try:
            org = load_organization(_root())
            admin = admin_principal_arn or naming.role_arn(org.accounts.res, naming.persona_role_name(org, "platform_admin"))
            if res_vpc_endpoint_id is not None and not res_vpc_endpoint_id.startswith("vpce-"):
                raise BootstrapError(f"--res-vpc-endpoint-id {res_vpc_endpoint_id!r}: expected vpce-...")
            settings = BootstrapSettings(org, admin, res_vpc_endpoint_id)
            if dry_run:
                typer.echo(json.dumps(_documents(settings, assume_role_name), indent=2, sort_keys=True))
                return
            report = bootstrap(settings, assume_role_sessions(base_session(), assume_role_name), assume_role_name)
        except (BadInput, ConfigError, BootstrapError) as error:
            raise fail(str(error)) from None
        except (ClientError, BotoCoreError) as error:
            typer.echo(f"error: bootstrap stopped: {error}", err=True)
            raise typer.Exit(2) from None
        for action in report.actions or ["nothing to change"]:
            typer.echo(action)
