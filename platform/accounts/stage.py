"""Resources of the DEV, INT and PROD accounts beyond the common baseline."""

from __future__ import annotations

from accounts import stage_access, stage_serving
from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Deployment and people roles, then the roles and shared resources serving stacks use."""
    stage_access.build(context)
    stage_serving.build(context)
