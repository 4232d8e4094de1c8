"""Resources of the RES account role beyond the common baseline."""

from __future__ import annotations

from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Declare the role's resources (the baseline is already in place)."""
