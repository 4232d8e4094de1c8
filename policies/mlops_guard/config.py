"""Policy configuration: schemas, defaults applied offline, and reading a ``--policy-pack-config`` file.

The Pulumi CLI applies each policy's ``PolicyConfigSchema`` defaults before the pack sees its
config; the Python policy server does not. The offline gate therefore applies them itself here,
with ``jsonschema``, so offline and CLI runs see the same values.

The pack only reads its config. The per-role files (``policies/config/<role>.json``) are generated
from the platform's validated organisation config by the CLI (``mlops_platform.policy_config``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from mlops_guard.model import GuardPolicy
from mlops_guard.registry import ALL_POLICIES, BY_NAME

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
DEFAULT_LEVEL = "mandatory"


class PolicyConfigError(Exception):
    """A policy config file or value is invalid; ``str()`` is one line naming the problem."""


def policy_schema(gp: GuardPolicy) -> dict[str, Any]:
    """The JSON schema of one policy's config object (as PolicyConfigSchema declares it)."""
    return {"type": "object", "properties": {k: dict(v) for k, v in gp.config.items()}}


def _defaults(gp: GuardPolicy) -> dict[str, Any]:
    return {k: json.loads(json.dumps(v["default"])) for k, v in gp.config.items() if "default" in v}


def apply_defaults(gp: GuardPolicy, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Config values with schema defaults filled in, validated; raises PolicyConfigError."""
    merged = {**_defaults(gp), **{k: v for k, v in (values or {}).items() if k != "enforcementLevel"}}
    # What jsonschema.validate does, with the schema checked once per policy instead of per call
    # (checking it against the metaschema was most of `policy-config`'s time).
    error = jsonschema.exceptions.best_match(_validator(gp).iter_errors(merged))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(config)"
        raise PolicyConfigError(f"{gp.name}.{where}: {error.message}")
    return merged


_VALIDATORS: dict[str, Any] = {}


def _validator(gp: GuardPolicy) -> Any:
    schema = policy_schema(gp)
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _VALIDATORS:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        _VALIDATORS[key] = validator_class(schema)
    return _VALIDATORS[key]


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
