"""Resources of the EXP account beyond the common baseline.

Each concern lives in its own module so it can be read (and owned) separately.
"""

from __future__ import annotations

from accounts import exp_data_access, exp_pipelines, exp_workspace
from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Studio, people and projects first; then the build pipelines and the shared data sets."""
    workspace = exp_workspace.build(context)
    exp_pipelines.build(context, workspace)
    exp_data_access.build(context, workspace)
