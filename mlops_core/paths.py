"""Where a checkout keeps what, and the one rule for finding it.

The project root is the nearest directory, from the starting point upwards, that holds both
``Pulumi.yaml`` and ``organization.yaml`` (as git finds ``.git`` and pulumi finds ``Pulumi.yaml``).
``MLOPS_PLATFORM_ROOT`` overrides the search (tests use throwaway copies). Programs start from their
own directory, the CLI from the working directory; a checkout found neither way falls back to the
one this package was installed from.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the project root explicitly.
ROOT_ENV = "MLOPS_PLATFORM_ROOT"
ORGANIZATION_FILE = "organization.yaml"
PROJECT_FILE = "Pulumi.yaml"
ROOT_MARKERS: tuple[str, ...] = (PROJECT_FILE, ORGANIZATION_FILE)

#: Repository-relative places other layers look up.
POLICY_PACK_DIR = "policies"
POLICY_CONFIG_DIR = "policies/config"
SERVING_PROJECT_DIR = "serving"
PLAN_CACHE_DIR = ".plan-cache"

#: The checkout these packages were installed from: where the sources are (Lambda handlers, the Glue
#: job, the seed project, images), which a test's throwaway copy of the config links back to.
SOURCE_CHECKOUT = Path(__file__).resolve().parent.parent


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding every root marker, or None.

    ``start`` is not resolved: a symlinked program directory finds the checkout it is linked into.
    """
    start = Path(start).absolute()
    for directory in (start, *start.parents):
        if all((directory / marker).is_file() for marker in ROOT_MARKERS):
            return directory
    return None


def project_root(start: Path | None = None) -> Path:
    """The project root: ``MLOPS_PLATFORM_ROOT``, else found from ``start`` (default: the working
    directory), else the checkout this package was installed from."""
    explicit = os.environ.get(ROOT_ENV)
    if explicit:
        return Path(explicit).resolve()
    return find_project_root(start if start is not None else Path.cwd()) or SOURCE_CHECKOUT


def policy_config_file(root: Path, role: str) -> Path:
    """The generated CrossGuard config of one account role (what ``--policy-pack-config`` gets)."""
    return root / POLICY_CONFIG_DIR / f"{role}.json"


#: The project root of this process, found once.
REPO_ROOT = project_root()
