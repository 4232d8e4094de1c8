"""EXP: Studio, personas, CodeArtifact, model projects and the "Model Building" product."""

from __future__ import annotations

from typing import Any

from accounts.common import AccountContext


def build(context: AccountContext) -> Any:
    """Declare the workspace; returns what the pipeline and data-access modules need."""
    return None
