"""The serving program: one stack per model project and stage, ``<project>-<stage>``.

Created and updated by the deployer (``mlops-platform deploy model``), which sets
``serving:modelPackageArn`` (never in git) and, for the two-phase instance-type change on PROD,
``serving:autoscalingEnabled``. Project and stage come from the stack's name unless
``serving:project`` / ``serving:stage`` say otherwise; the platform stack read by StackReference is
the stage's (``serving:platformStack``). Configuration is validated before any resource is
declared; a problem is one line through ``pulumi.RunError``.
"""

from pathlib import Path

import pulumi

from mlops_platform.config import ConfigError, load_organization
from mlops_platform.providers import config_from_pulumi
from serving_settings import resolve_settings
from serving_stack import build

# Not resolve(): a symlinked program dir must read the config beside the link.
REPO_ROOT = Path(__file__).absolute().parent.parent

try:
    settings = resolve_settings(pulumi.get_stack(), config_from_pulumi(), load_organization(REPO_ROOT))
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

for key, value in build(settings).items():
    pulumi.export(key, value)
