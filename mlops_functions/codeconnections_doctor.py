"""Doctor check: CodeConnections connections that pipelines cannot use yet (not ``AVAILABLE``).

A connection to GitHub created by CloudFormation/Pulumi starts ``PENDING``: someone must finish the
OAuth handshake once in the console before any pipeline can use it. ``ERROR`` means it broke later
(e.g. the GitHub App was uninstalled). This lists all connections (``ListConnections``, following
``NextToken``; botocore has no paginator for it) and reports every one that is not ``AVAILABLE``, plus
every expected connection name that does not exist at all.

For ``mlops-platform doctor`` (the lead wires it): build a ``codeconnections`` client for the account
that owns the connections and call :func:`check_connections`; ``report.ok`` decides the exit code,
``report.findings`` (or ``report.to_dict()``) the output, and :class:`ConnectionsCheckError` (one line)
means the check itself could not run. IAM: ``codeconnections:ListConnections``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from botocore.exceptions import BotoCoreError, ClientError

AVAILABLE = "AVAILABLE"

_ACTIONS = {
    "PENDING": (
        "finish the handshake in the console: Developer Tools > Settings > Connections > "
        "select the connection > Update pending connection"
    ),
    "ERROR": (
        "the connection is broken (e.g. the provider app was uninstalled or lost access): "
        "repair it in the console or recreate it and update the pipelines"
    ),
    "MISSING": "the connection does not exist in this account and region: deploy the stack that creates it",
}


class ConnectionsCheckError(RuntimeError):
    """The check could not run (API error, no credentials); ``str()`` is one line."""


@dataclass(frozen=True)
class ConnectionStatus:
    """One connection as ListConnections reports it."""

    name: str
    arn: str
    provider_type: str
    status: str


@dataclass(frozen=True)
class ConnectionFinding:
    """A connection a pipeline cannot use, with what to do about it."""

    name: str
    arn: str | None
    provider_type: str | None
    status: str  # PENDING, ERROR, MISSING, or any other non-AVAILABLE status the API adds later
    action: str


@dataclass(frozen=True)
class ConnectionsReport:
    connections: tuple[ConnectionStatus, ...] = field(default_factory=tuple)
    findings: tuple[ConnectionFinding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "connections": [asdict(item) for item in self.connections],
            "findings": [asdict(item) for item in self.findings],
        }


def list_connections(client: Any, *, provider_type: str | None = None) -> list[ConnectionStatus]:
    """All connections of the client's account and region (every ``ListConnections`` page)."""
    request: dict[str, Any] = {}
    if provider_type:
        request["ProviderTypeFilter"] = provider_type
    connections: list[ConnectionStatus] = []
    try:
        while True:
            page = client.list_connections(**request)
            for item in page.get("Connections", []):
                connections.append(
                    ConnectionStatus(
                        name=item.get("ConnectionName", ""),
                        arn=item.get("ConnectionArn", ""),
                        provider_type=item.get("ProviderType", ""),
                        status=item.get("ConnectionStatus", "UNKNOWN"),
                    )
                )
            token = page.get("NextToken")
            if not token:
                return connections
            request["NextToken"] = token
    except ClientError as error:
        details = error.response.get("Error", {})
        raise ConnectionsCheckError(
            f"codeconnections:ListConnections failed: {details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
        ) from None
    except BotoCoreError as error:
        raise ConnectionsCheckError(f"codeconnections:ListConnections failed: {error}") from None


def check_connections(
    client: Any,
    *,
    provider_type: str | None = None,
    expected_names: Iterable[str] = (),
) -> ConnectionsReport:
    """Report every connection that is not ``AVAILABLE`` and every expected name that is absent."""
    connections = list_connections(client, provider_type=provider_type)
    findings = [
        ConnectionFinding(
            name=connection.name,
            arn=connection.arn,
            provider_type=connection.provider_type,
            status=connection.status,
            action=_ACTIONS.get(connection.status, f"status {connection.status}: check the connection in the console"),
        )
        for connection in connections
        if connection.status != AVAILABLE
    ]
    present = {connection.name for connection in connections}
    findings.extend(
        ConnectionFinding(name=name, arn=None, provider_type=provider_type, status="MISSING", action=_ACTIONS["MISSING"])
        for name in sorted(set(expected_names) - present)
    )
    return ConnectionsReport(connections=tuple(connections), findings=tuple(findings))
