"""``mlops-platform doctor``: live checks the offline plan cannot make (needs AWS credentials).

Checks: the git connection, and (with a DATA account) Lake Formation shares not yet accepted.

A CodeConnections connection created by the EXP stack stays ``PENDING``
until someone completes the handshake in the console (Developer Tools > Settings > Connections >
Update pending connection); builds fail until then. ``doctor`` lists the connections of the EXP
account in the stack's region and reports every one that is not ``AVAILABLE`` and the platform's
expected connection (``<platformName>-git``) if it is missing.

Lake Formation grants from DATA to EXP roles arrive as AWS RAM shares; unless RAM sharing is enabled
for the organisation, EXP must accept each invitation (``docs/data.md``). ``doctor`` lists the
invitations from the DATA account still pending (``mlops_platform.ram_check``).

Run it with credentials for the EXP account (e.g. the platform-admin sign-in role).
Exit codes: 0 all ready, 1 a connection or share is not ready, 2 bad input or a check could not
run (no credentials, API refused); errors are one line on stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from mlops_core.config import ConfigError, StackSettings, list_stacks, load_settings, read_stack_config
from mlops_platform.commands.common import BadInput, fail as _fail, project_root


def expected_connection_names(settings: StackSettings) -> list[str]:
    """Connections the EXP stack creates (none when source control is CodeCommit)."""
    if settings.org.workspace.source_control.provider != "codeconnections":
        return []
    return [f"{settings.org.platform_name}-git"]


def _client(service: str, region: str, profile: str | None) -> Any:
    """A boto3 client of the EXP account; raises ``LookupError`` without credentials."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise LookupError(f"AWS profile {profile!r} not found") from None
    if session.get_credentials() is None:
        raise LookupError("no AWS credentials found: sign in to the EXP account (e.g. AWS_PROFILE=<exp profile>) and retry")
    return session.client(service, region_name=region)


def codeconnections_client(region: str, profile: str | None) -> Any:
    return _client("codeconnections", region, profile)


def ram_client(region: str, profile: str | None) -> Any:
    return _client("ram", region, profile)


def _exp_stack(stack: str | None) -> StackSettings:
    root = project_root()
    if stack:
        return load_settings(stack, root)
    exp = [name for name in list_stacks(root) if read_stack_config(name, root).get("mlops:role") == "exp"]
    if not exp:
        raise ConfigError("Pulumi.<stack>.yaml", "mlops:role", "no stack has role 'exp'")
    return load_settings(exp[0], root)


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the CLI."""

    @app.command("doctor")
    def doctor(
        stack: Annotated[Optional[str], typer.Option("--stack", "-s", metavar="NAME", help="EXP stack (default: the stack with role exp)")] = None,
        profile: Annotated[Optional[str], typer.Option("--profile", metavar="PROFILE", help="AWS profile for the EXP account")] = None,
        output: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text or json")] = "text",
    ) -> None:
        """Report git connections builds cannot use yet and Lake Formation shares not accepted yet."""
        from mlops_functions.codeconnections_doctor import ConnectionsCheckError, check_connections

        if output not in ("text", "json"):
            raise _fail(f"--format must be text or json, not {output!r}")
        try:
            settings = _exp_stack(stack)
        except (BadInput, ConfigError) as error:
            raise _fail(str(error)) from None
        if settings.role != "exp":
            raise _fail(f"stack {settings.stack!r} has role {settings.role!r}; the git connection lives in the exp stack")
        from mlops_platform.ram_check import RamCheckError, pending_invitations

        expected = expected_connection_names(settings)
        accounts = settings.org.accounts
        report, invitations = None, []
        try:
            if expected:
                report = check_connections(codeconnections_client(settings.org.region, profile), expected_names=expected)
            if accounts.data:
                invitations = pending_invitations(ram_client(settings.org.region, profile), accounts.data, accounts.exp)
        except LookupError as error:
            raise _fail(str(error)) from None
        except (ConnectionsCheckError, RamCheckError) as error:
            raise _fail(str(error)) from None
        ready = (report is None or report.ok) and not invitations
        if output == "json":
            document = report.to_dict() if report else {"ok": True, "connections": [], "findings": []}
            document["pendingShares"] = [{"arn": i.arn, "share": i.share_name, "accept": i.accept_command} for i in invitations]
            typer.echo(json.dumps(document, indent=2))
        else:
            if report is None:
                typer.echo("source control is CodeCommit: no CodeConnections connection to check")
            else:
                for connection in report.connections:
                    typer.echo(f"{connection.status:<10} {connection.name} ({connection.provider_type}) {connection.arn}")
                for finding in report.findings:
                    typer.echo(f"NOT READY  {finding.name}: {finding.status}: {finding.action}")
                typer.echo("all connections available" if report.ok else f"{len(report.findings)} connection(s) not available")
            for invitation in invitations:
                typer.echo(f"NOT READY  share {invitation.share_name} from DATA is pending: {invitation.accept_command}")
        if not ready:
            raise typer.Exit(1)
