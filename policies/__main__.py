"""CrossGuard entry point: `pulumi preview --policy-pack policies` runs this file.

It only assembles the pack; the rules live in the importable package ``mlops_guard`` beside this
file. ``PolicyPack(...)`` starts the analyzer server, prints its port and never returns.
"""

import sys
from pathlib import Path

# The CLI runs this file from the pack's own virtualenv, where the project is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from mlops_guard.registry import PACK_NAME, crossguard_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=crossguard_policies(),
    description="Guardrails of the multi-account MLOps platform: customer-key encryption, VPC-only ML, "
    "least privilege, logging, approved images, no public access.",
)
