"""DEV / INT / PROD: the deployment role trusted by the RES deployer, and people's sign-in roles."""

from __future__ import annotations

from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Declare the stage account's deployment and people roles."""
