"""The platform's Pulumi program: one stack per account.

The stack's account role comes from its own config key (``mlops:role``), never from the stack's
name, so ``Pulumi.prod-eu.yaml`` with ``mlops:role: prod`` is a second PROD stack. Configuration is
validated before any resource is declared; a problem is one line through ``pulumi.RunError``.
"""

from pathlib import Path

import pulumi

from accounts import build_account
from components.providers import config_from_pulumi
from mlops_core.config import CONFIG_NAMESPACE, ConfigError, derived_project_stack_config, settings_from_config
from mlops_core.paths import find_project_root

# Config from beside the program directory as given (a symlinked program dir in a test copy reads the
# copy's config); sources (sample data, the deployer bundle, images) from the checkout it really lives in.
PROJECT_ROOT = find_project_root(Path(__file__).parent)
SOURCE_ROOT = find_project_root(Path(__file__).resolve().parent)
if PROJECT_ROOT is None or SOURCE_ROOT is None:
    raise pulumi.RunError("platform/: no Pulumi.yaml and organization.yaml above the program directory")

try:
    config = config_from_pulumi()
    if f"{CONFIG_NAMESPACE}:role" not in config:
        # A model project's stack (exp.<project>) has no stack file: its config derives from EXP's.
        config = {**(derived_project_stack_config(pulumi.get_stack(), PROJECT_ROOT) or {}), **config}
    settings = settings_from_config(pulumi.get_stack(), config, PROJECT_ROOT)
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

build_account(settings, PROJECT_ROOT, SOURCE_ROOT)
