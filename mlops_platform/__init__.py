"""mlops-platform: the CLI and shared library of the multi-account MLOps platform.

`platform/` (the Pulumi program) and `serving/` (the serving project) import from here and from
`components`; nothing in this package declares resources by itself.
"""

from pathlib import Path

#: The repository root: where Pulumi.yaml, the stack files and organization.yaml live.
REPO_ROOT = Path(__file__).resolve().parent.parent
