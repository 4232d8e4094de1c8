"""mlops-platform: the CLI and shared library of the multi-account MLOps platform.

`platform/` (the Pulumi program) and `serving/` (the serving project) import from here and from
`components`; nothing in this package declares resources by itself.
"""

import os
from pathlib import Path

#: The repository root: where Pulumi.yaml, the stack files and organization.yaml live.
#: ``MLOPS_PLATFORM_ROOT`` points the CLI at another checkout (tests use throwaway copies).
REPO_ROOT = Path(os.environ.get("MLOPS_PLATFORM_ROOT") or Path(__file__).resolve().parent.parent).resolve()
