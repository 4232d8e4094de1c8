"""``mlops-platform doctor``: live checks the offline plan cannot make (needs AWS credentials).

Today: the git connection. A CodeConnections connection created by the EXP stack stays ``PENDING``
until someone completes the handshake in the console (Developer Tools > Settings > Connections >
Update pending connection); builds fail until then. ``doctor`` lists the connections of the EXP
account in the stack's region and reports every one that is not ``AVAILABLE`` and the platform's
expected connection (``<platformName>-git``) if it is missing.

Run it with credentials for the EXP account (e.g. the platform-admin sign-in role).
Exit codes: 0 all available, 1 a connection is not available, 2 bad input or the check could not
run (no credentials, API refused); errors are one line on stderr.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from mlops_platform import REPO_ROOT
from mlops_platform.config import ConfigError, StackSettings, list_stacks, load_settings


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def expected_connection_names(settings: StackSettings) -> list[str]:
    """Connections the EXP stack creates (none when source control is CodeCommit)."""
    if settings.org.workspace.source_control.provider != "codeconnections":
        return []
    return [f"{settings.org.platform_name}-git"]


def codeconnections_client(region: str, profile: str | None) -> Any:
    """A boto3 ``codeconnections`` client for the region; raises ``LookupError`` without credentials."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise LookupError(f"AWS profile {profile!r} not found") from None
    if session.get_credentials() is None:
        raise LookupError("no AWS credentials found: sign in to the EXP account (e.g. AWS_PROFILE=<exp profile>) and retry")
    return session.client("codeconnections", region_name=region)


def _exp_stack(stack: str | None) -> StackSettings:
    if stack:
        return load_settings(stack, REPO_ROOT)
    candidates = [load_settings(name, REPO_ROOT) for name in list_stacks(REPO_ROOT)]
    exp = [s for s in candidates if s.role == "exp"]
    if not exp:
        raise ConfigError("Pulumi.<stack>.yaml", "mlops:role", "no stack has role 'exp'")
    return exp[0]


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the CLI."""

    @app.command("doctor")
    def doctor(
        stack: Annotated[Optional[str], typer.Option("--stack", help="EXP stack (default: the stack with role exp)")] = None,
        profile: Annotated[Optional[str], typer.Option("--profile", help="AWS profile for the EXP account")] = None,
        output: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    ) -> None:
        """Report git connections that builds cannot use yet (handshake pending, broken, missing)."""
        from mlops_functions.codeconnections_doctor import ConnectionsCheckError, check_connections

        if output not in ("text", "json"):
            raise _fail(f"--format must be text or json, not {output!r}")
        try:
            settings = _exp_stack(stack)
        except ConfigError as error:
            raise _fail(str(error)) from None
        if settings.role != "exp":
            raise _fail(f"stack {settings.stack!r} has role {settings.role!r}; the git connection lives in the exp stack")
        expected = expected_connection_names(settings)
        if not expected:
            typer.echo("source control is CodeCommit: no CodeConnections connection to check")
            return
        try:
            client = codeconnections_client(settings.org.region, profile)
            report = check_connections(client, expected_names=expected)
        except LookupError as error:
            raise _fail(str(error)) from None
        except ConnectionsCheckError as error:
            raise _fail(str(error)) from None
        if output == "json":
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            for connection in report.connections:
                typer.echo(f"{connection.status:<10} {connection.name} ({connection.provider_type}) {connection.arn}")
            for finding in report.findings:
                typer.echo(f"NOT READY  {finding.name}: {finding.status}: {finding.action}")
            typer.echo("all connections available" if report.ok else f"{len(report.findings)} connection(s) not available")
        if not report.ok:
            raise typer.Exit(1)
