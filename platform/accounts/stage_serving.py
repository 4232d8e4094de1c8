"""DEV / INT / PROD: roles and shared resources that the serving stacks of each model project use.

IAM has no VPC endpoint outside us-east-1, so the isolated serving deploy cannot create roles:
every role a serving stack uses is created here, named by convention per project.
"""

from __future__ import annotations

from accounts.common import AccountContext


def build(context: AccountContext) -> None:
    """Declare the per-project serving roles and the stage's shared serving resources."""
