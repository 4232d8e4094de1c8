"""EXP: access to the DATA account's shared data sets (resource links, Athena workgroup)."""

from __future__ import annotations

from typing import Any

from accounts.common import AccountContext


def build(context: AccountContext, workspace: Any) -> None:
    """Declare the EXP side of Lake Formation sharing (nothing when there is no DATA account)."""
