"""The policy pack's per-role configs, generated from the validated organisation config.

``policies/config/<role>.json`` is what ``--policy-pack-config`` gets for a stack of that role (a
serving stack ``<project>-<stage>`` uses its stage's file): the allow-lists of platform accounts and
approved image registries, the image-builder projects allowed privileged mode, and the few places a
mandatory policy is downgraded (:data:`ADVISORY_EXCEPTIONS`). The pack itself only reads such a file;
deriving it from ``organization.yaml`` belongs here, on the CLI's side.

The offline gate (``mlops-platform check``) never reads these files: it derives the same documents
from the validated config of the run (:func:`pack_configs`), so editing ``organization.yaml`` cannot
leave the gate with stale allow-lists. The files are for the Pulumi CLI; ``mlops-platform
policy-config`` (run by ``make plan``) rewrites them and :func:`stale_files` tells when they differ.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.image_pipeline import privileged_project_names
from mlops_core.config import OrganizationConfig, load_organization
from mlops_core.naming import audit_archive_bucket_name, config_archive_bucket_name
from mlops_core.paths import REPO_ROOT, policy_config_file
from mlops_core.roles import ACCOUNT_ROLES, STACK_ROLES, STAGES
from mlops_guard.allowlists import ecr_host, sagemaker_registry_hosts
from mlops_guard.config import DEFAULT_LEVEL, PackConfig, PolicyConfigError, parse_pack_config
from mlops_guard.registry import ALL_POLICIES

#: Roles whose stacks run the image pipeline (the only place Docker-in-CodeBuild is allowed).
IMAGE_BUILD_ROLES = ("res",)


@dataclass(frozen=True)
class AdvisoryException:
    policy: str
    roles: tuple[str, ...]
    reason: str


ADVISORY_EXCEPTIONS: tuple[AdvisoryException, ...] = (
    AdvisoryException(
        "sagemaker-endpoint-data-capture",
        ("exp", "dev", "int"),
        "Endpoints outside PROD serve tests and experiments; captured traffic only feeds Model Monitor in PROD. "
        "Capture stays mandatory in PROD.",
    ),
    AdvisoryException(
        "iam-no-star-resource-on-scopable-actions",
        ACCOUNT_ROLES,
        "New with issue #18: 33 platform statements (alarm reads, VPC ENI management, template summaries, "
        "Service Catalog launches) still allow scopable actions on Resource '*'; advisory until they name ARNs.",
    ),
)
"""The only places a mandatory policy is downgraded. Mirrored, with reasons, in the README."""


def role_for_stack(stack: str) -> str | None:
    """The role whose policy config a serving stack ``<project>-<stage>`` uses; None if no stage suffix."""
    for stage in STAGES:
        if stack.endswith(f"-{stage}"):
            return stage
    return None


def generate_policy_config(
    role: str,
    account_ids: Mapping[str, str],
    region: str,
    privileged_projects: Sequence[str] = (),
    log_archive: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The ``--policy-pack-config`` document for stacks of ``role``.

    ``account_ids`` is role -> account id (the validated ``organization.yaml`` accounts); images may
    come from those accounts' ECR in ``region`` and from SageMaker's registries in ``region``.
    ``privileged_projects`` are the image-builder CodeBuild projects allowed privileged mode in the
    image-build roles. ``log_archive`` is (account, bucket) of ``accounts.logArchive``: a platform
    account too (its key and bucket policies name it), and its bucket the one outside a stack that
    trails and AWS Config may deliver to. It holds no images: not an approved registry.
    """
    if role not in STACK_ROLES:
        raise PolicyConfigError(f"unknown role {role!r}")
    platform_accounts = sorted(set(account_ids.values()))
    overrides = {
        "platformAccountIds": sorted({*platform_accounts, *([log_archive[0]] if log_archive else [])}),
        "approvedImageRegistries": sorted(
            {*sagemaker_registry_hosts([region]), *(ecr_host(a, region) for a in platform_accounts)}
        ),
    }
    if role in IMAGE_BUILD_ROLES and privileged_projects:
        overrides["privilegedProjects"] = sorted(privileged_projects)
    if log_archive:
        overrides["auditArchiveBucket"] = log_archive[1]
        if len(log_archive) > 2:
            overrides["configArchiveBucket"] = log_archive[2]
    document: dict[str, Any] = {"all": DEFAULT_LEVEL}
    for gp in ALL_POLICIES:
        entry = {k: v for k, v in overrides.items() if k in gp.config}
        for exception in ADVISORY_EXCEPTIONS:
            if exception.policy == gp.name and role in exception.roles:
                entry["enforcementLevel"] = "advisory"
        if entry:
            document[gp.name] = dict(sorted(entry.items()))
    # Validates the generated document against every policy's schema.
    parse_pack_config(document, f"generated policies/config/{role}.json")
    return document


def log_archive_of(org: OrganizationConfig) -> tuple[str, str, str] | None:
    """(account, archive bucket, archive Config bucket) of ``accounts.logArchive``, or None without it."""
    bucket, config_bucket = audit_archive_bucket_name(org), config_archive_bucket_name(org)
    return (str(org.accounts.log_archive), bucket, config_bucket) if bucket and config_bucket else None


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def generate_all(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Path -> content of every role's policy config, from the validated config at ``root``."""
    org = load_organization(root)
    accounts = org.accounts.by_role()
    privileged = privileged_project_names(org.platform_name)
    archive = log_archive_of(org)
    return {
        policy_config_file(root, role): render(generate_policy_config(role, accounts, org.region, privileged, archive))
        for role in STACK_ROLES
    }


def pack_configs(root: Path = REPO_ROOT) -> dict[str, PackConfig]:
    """Role -> the pack config the gate uses, derived from the validated config at ``root``."""
    org = load_organization(root)
    accounts = org.accounts.by_role()
    privileged = privileged_project_names(org.platform_name)
    archive = log_archive_of(org)
    return {
        role: parse_pack_config(generate_policy_config(role, accounts, org.region, privileged, archive), f"derived {role} config")
        for role in STACK_ROLES
    }


def stale_files(root: Path = REPO_ROOT) -> list[Path]:
    """The per-role files that are missing or differ from what the config at ``root`` generates."""
    stale = []
    for path, content in generate_all(root).items():
        try:
            current = path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            current = None
        if current != content:
            stale.append(path)
    return stale


REGENERATE_COMMAND = "mlops-platform policy-config"


def stale_message(stale: Sequence[Path], root: Path) -> str:
    """One line: which files the Pulumi CLI would read stale, and the command that fixes them."""
    names = ", ".join(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in stale)
    return f"{names} do{'es' if len(stale) == 1 else ''} not match organization.yaml: run `{REGENERATE_COMMAND}`"


def write_all(root: Path = REPO_ROOT) -> list[Path]:
    """Regenerate the committed files; returns the ones whose content changed."""
    written = []
    for path, content in generate_all(root).items():
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mlops_platform.policy_config [--check]`` (the same as ``mlops-platform policy-config``)."""
    import argparse

    from mlops_core.config import ConfigError
    from mlops_core.paths import project_root

    parser = argparse.ArgumentParser(
        prog="python -m mlops_platform.policy_config",
        description="Rewrite policies/config/<role>.json from organization.yaml (what the Pulumi CLI's "
        "--policy-pack-config reads).",
    )
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if a file is stale.")
    args = parser.parse_args(argv)
    root = project_root()
    try:
        if args.check:
            stale = stale_files(root)
            if stale:
                print(f"error: {stale_message(stale, root)}", file=sys.stderr)
                return 1
            return 0
        for path in write_all(root):
            print(path)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
