"""EXP: each config-driven project's SageMaker model build pipeline and its retraining schedule."""

from __future__ import annotations

from typing import Any

from accounts.common import AccountContext


def build(context: AccountContext, workspace: Any) -> None:
    """Declare the pipelines (the workspace provides roles, buckets and network)."""
