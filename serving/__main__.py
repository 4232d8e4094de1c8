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

from components.providers import config_from_pulumi
from mlops_core.config import ConfigError, load_organization
from mlops_core.paths import find_project_root
from serving_settings import resolve_settings
from serving_stack import build

# From the program's own directory, not resolved: a symlinked program dir reads the config beside the link.
PROJECT_ROOT = find_project_root(Path(__file__).parent)
if PROJECT_ROOT is None:
    raise pulumi.RunError("serving/: no Pulumi.yaml and organization.yaml above the program directory")

try:
    settings = resolve_settings(pulumi.get_stack(), config_from_pulumi(), load_organization(PROJECT_ROOT))
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

for key, value in build(settings).items():
    pulumi.export(key, value)
