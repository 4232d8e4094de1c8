"""Policy configuration: schemas, defaults applied offline, and the per-role config files.

The Pulumi CLI applies each policy's ``PolicyConfigSchema`` defaults before the pack sees its
config; the Python policy server does not. The offline gate therefore applies them itself here,
with ``jsonschema``, so offline and CLI runs see the same values.

``policy-config.<role>.json`` at the repo root is the file passed as ``--policy-pack-config`` to a
stack of that role (a serving stack ``<project>-<stage>`` uses its stage's file). The files are
generated from the validated organisation config (:func:`generate_policy_config`) and a test proves
the committed files equal the generated ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from mlops_guard.allowlists import ecr_host, sagemaker_registry_hosts
from mlops_guard.model import GuardPolicy
from mlops_guard.registry import ALL_POLICIES, BY_NAME

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
DEFAULT_LEVEL = "mandatory"
ROLES = ("data", "exp", "res", "dev", "int", "prod", "identity")
STAGES = ("dev", "int", "prod")


class PolicyConfigError(Exception):
    """A policy config file or value is invalid; ``str()`` is one line naming the problem."""


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
)
"""The only places a mandatory policy is downgraded. Mirrored, with reasons, in policies/EXCEPTIONS.md."""


def policy_schema(gp: GuardPolicy) -> dict[str, Any]:
    """The JSON schema of one policy's config object (as PolicyConfigSchema declares it)."""
    return {"type": "object", "properties": {k: dict(v) for k, v in gp.config.items()}}


def _defaults(gp: GuardPolicy) -> dict[str, Any]:
    return {k: json.loads(json.dumps(v["default"])) for k, v in gp.config.items() if "default" in v}


def apply_defaults(gp: GuardPolicy, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Config values with schema defaults filled in, validated; raises PolicyConfigError."""
    merged = {**_defaults(gp), **{k: v for k, v in (values or {}).items() if k != "enforcementLevel"}}
    try:
        jsonschema.validate(merged, policy_schema(gp))
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "(config)"
        raise PolicyConfigError(f"{gp.name}.{where}: {exc.message}") from None
    return merged


@dataclass
class PackConfig:
    """Enforcement level and config per policy, resolved like the policy server does."""

    entries: dict[str, Any] = field(default_factory=dict)
    source: str = "pack defaults"
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def level(self, name: str) -> str:
        entry = self.entries.get(name)
        if isinstance(entry, str):
            return entry
        if isinstance(entry, Mapping) and "enforcementLevel" in entry:
            return str(entry["enforcementLevel"])
        everyone = self.entries.get("all")
        if isinstance(everyone, str):
            return everyone
        if isinstance(everyone, Mapping) and "enforcementLevel" in everyone:
            return str(everyone["enforcementLevel"])
        return DEFAULT_LEVEL

    def config(self, name: str) -> dict[str, Any]:
        if name not in self._cache:
            entry = self.entries.get(name)
            self._cache[name] = apply_defaults(BY_NAME[name], entry if isinstance(entry, Mapping) else None)
        return self._cache[name]


def parse_pack_config(raw: Any, source: str) -> PackConfig:
    """Validate a ``--policy-pack-config`` document; raises PolicyConfigError naming the file."""
    if not isinstance(raw, Mapping):
        raise PolicyConfigError(f"{source}: must be a JSON object of policy names")
    for key, entry in raw.items():
        if key != "all" and key not in BY_NAME:
            raise PolicyConfigError(f"{source}: unknown policy {key!r}")
        level = entry if isinstance(entry, str) else entry.get("enforcementLevel") if isinstance(entry, Mapping) else None
        if not isinstance(entry, str | Mapping):
            raise PolicyConfigError(f"{source}: {key}: must be an enforcement level or an object")
        if level is not None and level not in LEVELS:
            raise PolicyConfigError(f"{source}: {key}: unknown enforcement level {level!r}")
    config = PackConfig(entries=dict(raw), source=source)
    try:
        for name in BY_NAME:
            config.config(name)
    except PolicyConfigError as exc:
        raise PolicyConfigError(f"{source}: {exc}") from None
    return config


def load_pack_config(path: Path) -> PackConfig:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_pack_config(raw, str(path))


def role_for_stack(stack: str) -> str | None:
    """The role whose policy config a serving stack ``<project>-<stage>`` uses; None if no stage suffix."""
    for stage in STAGES:
        if stack.endswith(f"-{stage}"):
            return stage
    return None


def config_file(role: str, root: Path) -> Path:
    return root / f"policy-config.{role}.json"


# --- generation from the validated organisation config --------------------------------------------


IMAGE_BUILD_ROLES = ("res",)
"""Roles whose stacks run the image pipeline (the only place Docker-in-CodeBuild is allowed)."""


def generate_policy_config(
    role: str, account_ids: Mapping[str, str], region: str, privileged_projects: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``--policy-pack-config`` document for stacks of ``role``.

    ``account_ids`` is role -> account id (the validated ``organization.yaml`` accounts); images may
    come from those accounts' ECR in ``region`` and from SageMaker's registries in ``region``.
    ``privileged_projects`` are the image-builder CodeBuild projects allowed privileged mode in the
    image-build roles.
    """
    if role not in ROLES:
        raise PolicyConfigError(f"unknown role {role!r}")
    platform_accounts = sorted(set(account_ids.values()))
    overrides = {
        "platformAccountIds": platform_accounts,
        "approvedImageRegistries": sorted(
            {*sagemaker_registry_hosts([region]), *(ecr_host(a, region) for a in platform_accounts)}
        ),
    }
    if role in IMAGE_BUILD_ROLES and privileged_projects:
        overrides["privilegedProjects"] = sorted(privileged_projects)
    document: dict[str, Any] = {"all": DEFAULT_LEVEL}
    for gp in ALL_POLICIES:
        entry = {k: v for k, v in overrides.items() if k in gp.config}
        for exception in ADVISORY_EXCEPTIONS:
            if exception.policy == gp.name and role in exception.roles:
                entry["enforcementLevel"] = "advisory"
        if entry:
            document[gp.name] = dict(sorted(entry.items()))
    apply_all = parse_pack_config(document, f"generated policy-config.{role}.json")
    del apply_all  # validates the generated document against every policy schema
    return document


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def generate_all(root: Path | None = None) -> dict[str, str]:
    """File name -> content of every ``policy-config.<role>.json``, from the validated config."""
    from mlops_platform import REPO_ROOT
    from mlops_platform.config import load_organization

    from components.image_pipeline import privileged_project_names

    org = load_organization(root or REPO_ROOT)
    accounts = org.accounts.by_role()
    privileged = privileged_project_names(org.platform_name)
    return {
        f"policy-config.{role}.json": render(generate_policy_config(role, accounts, org.region, privileged))
        for role in ROLES
    }


def write_all(root: Path | None = None) -> list[Path]:
    """Regenerate the committed files (``python -m mlops_guard.config``)."""
    from mlops_platform import REPO_ROOT

    base = root or REPO_ROOT
    written = []
    for name, content in generate_all(base).items():
        path = base / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all():
        print(written_path)
