"""What each account role's stack declares, on top of the common baseline.

``platform/`` is put on ``sys.path`` by Pulumi (and by the offline harness) when it runs the
program, which makes this package importable as ``accounts``; it is never imported otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from accounts import data, exp, exp_project_stack, identity, log_archive, res, stage
from accounts.common import AccountContext, baseline_for
from mlops_core.config import IDENTITY_ROLE, LOG_ARCHIVE_ROLE, StackSettings
from components.providers import account_provider

_BUILDERS = {
    "data": data.build,
    "exp": exp.build,
    "res": res.build,
    "dev": stage.build,
    "int": stage.build,
    "prod": stage.build,
}
#: Stacks outside the workload accounts: no baseline, the builder gets the provider and returns its exports.
_STANDALONE_BUILDERS = {
    IDENTITY_ROLE: identity.build,  # management account: Identity Center only
    LOG_ARCHIVE_ROLE: log_archive.build,  # accounts.logArchive: the audit archive only
}


def build_account(settings: StackSettings, project_root: Path, source_root: Path) -> AccountContext | None:
    """Declare the stack: provider, baseline, then the role's own resources; export outputs.

    ``project_root`` is the checkout whose config the stack reads (organisation file, policy configs),
    ``source_root`` the one whose files it ships (sample data, the deployer bundle, image sources).
    """
    provider = account_provider(settings)
    if settings.role in _STANDALONE_BUILDERS:
        for key, value in _STANDALONE_BUILDERS[settings.role](settings, provider).items():
            pulumi.export(key, value)
        return None
    if settings.model_project is not None:  # a model project's stack in EXP: no baseline of its own
        for key, value in exp_project_stack.build(settings, provider).items():
            pulumi.export(key, value)
        return None
    context = baseline_for(settings, provider, project_root, source_root)
    _BUILDERS[settings.role](context)
    for key, value in context.exports.items():
        pulumi.export(key, value)
    return context
