"""The platform's Pulumi program: one stack per account.

The stack's account role comes from its own config key (``mlops:role``), never from the stack's
name, so ``Pulumi.prod-eu.yaml`` with ``mlops:role: prod`` is a second PROD stack. Configuration is
validated before any resource is declared; a problem is one line through ``pulumi.RunError``.
"""

from pathlib import Path

import pulumi

from accounts import build_account
from mlops_platform.config import ConfigError, settings_from_config
from mlops_platform.providers import config_from_pulumi

# Not resolve(): a symlinked program dir must read the config beside the link.
PROJECT_ROOT = Path(__file__).absolute().parent.parent

try:
    settings = settings_from_config(pulumi.get_stack(), config_from_pulumi(), PROJECT_ROOT)
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

build_account(settings)
