"""Resources of the EXP account beyond the common baseline.

Each concern lives in its own module so it can be read (and owned) separately. Each model project's own resources (key, bucket, registry group, pipeline, workgroup) are in its
stack ``exp.<project>`` (:mod:`accounts.exp_project_stack`), deployed after this one.
"""

from __future__ import annotations

from accounts import exp_data_access, exp_workspace
from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Studio, people and the projects' roles first; then the shared data sets."""
    workspace = exp_workspace.build(context)
    exp_data_access.build(context, workspace)
