"""Offline plans kept in ``.plan-cache/plans/`` by a hash of every input that shapes them.

A plan is a pure function of the program sources (the programs, the components and every package
they read files from), the harness's mocks, the config files (``Pulumi.yaml``, the stack files,
``organization.yaml``), the installed package versions and the Python version. The key hashes the
contents of all of them, so an unchanged checkout reuses yesterday's plans and any changed byte
plans afresh. An entry holds the plan and the warnings the program logged, which a hit logs again.
Damaged or unreadable entries are planned again; a disk that cannot be written costs speed only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from mlops_core.paths import PLAN_CACHE_DIR, SOURCE_CHECKOUT

#: Set to ``0`` to plan every stack afresh (nothing read or written).
CACHE_VARIABLE = "MLOPS_PLAN_CACHE"
_SUBDIR = "plans"
#: Source directories of the checkout the programs import from or read files of.
CODE_DIRS = (
    "components", "mlops_core", "mlops_pipelines", "mlops_functions", "etl", "seed_code", "images", "platform", "serving",
)
#: Files of the CLI package that shape a plan (the mocks).
HARNESS_FILES = ("mlops_platform/harness.py", "mlops_platform/plan_cache.py")
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", "node_modules"}
_FORMAT = 1


def cache_dir(root: Path) -> Path | None:
    """Where ``root``'s plans are cached, or None when ``MLOPS_PLAN_CACHE=0``."""
    if os.environ.get(CACHE_VARIABLE, "1") == "0":
        return None
    return root / PLAN_CACHE_DIR / _SUBDIR


def _tree_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file() and not _SKIPPED_PARTS.intersection(path.parts) and path.suffix not in (".pyc", ".pyo")
    )


def _hash_files(digest: Any, base: Path, files: list[Path]) -> None:
    for path in files:
        digest.update(str(path.relative_to(base)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


def inputs_fingerprint(root: Path) -> str:
    """SHA-256 over everything a plan of ``root`` depends on (see the module docstring)."""
    digest = hashlib.sha256(f"plan-cache {_FORMAT} {sys.version}".encode())
    for name in CODE_DIRS:
        _hash_files(digest, SOURCE_CHECKOUT, _tree_files(SOURCE_CHECKOUT / name))
    _hash_files(digest, SOURCE_CHECKOUT, [SOURCE_CHECKOUT / name for name in HARNESS_FILES])
    # A throwaway root may hold (or link) programs of its own beside its config.
    for program in ("platform", "serving"):
        directory = root / program
        if directory.resolve() != (SOURCE_CHECKOUT / program).resolve():
            _hash_files(digest, root, _tree_files(directory))
    config = sorted(root.glob("Pulumi*.yaml")) + [root / "organization.yaml"]
    _hash_files(digest, root, [path for path in config if path.is_file()])
    digest.update(json.dumps(installed_distributions()).encode())
    return digest.hexdigest()


def installed_distributions() -> list[str]:
    """Every installed distribution as its metadata directory's name (``pulumi_aws-7.1.0.dist-info``):
    name and version without parsing hundreds of METADATA files."""
    names = set()
    for entry in sys.path:
        directory = Path(entry)
        # Only installation directories: the working directory (``python -m``) may hold an egg-info.
        if directory.name in ("site-packages", "dist-packages") and directory.is_dir():
            names.update(path.name for pattern in ("*.dist-info", "*.egg-info") for path in directory.glob(pattern))
    return sorted(names)


def entry_key(fingerprint: str, *parts: Any) -> str:
    """The entry of one plan: the inputs' fingerprint and what was asked (stack, preview, ...)."""
    return hashlib.sha256(json.dumps([fingerprint, *parts]).encode()).hexdigest()


def plan_to_json(plan: Any) -> dict[str, Any]:
    """A :class:`~mlops_platform.harness.StackPlan` as plain JSON, every field kept (the values are
    JSON already: no deep copy, which ``dataclasses.asdict`` would make)."""
    fields = {field.name: getattr(plan, field.name) for field in dataclasses.fields(plan)}
    return {**fields, "resources": [dict(vars(record)) for record in plan.resources]}


def plan_from_json(data: dict[str, Any]) -> Any:
    from mlops_platform.harness import ResourceRecord, StackPlan

    records = []
    for record in data["resources"]:
        source = record.get("source")
        records.append(ResourceRecord(**{**record, "source": tuple(source) if source is not None else None}))
    return StackPlan(**{**data, "resources": records})


def load(directory: Path | None, key: str) -> tuple[Any, list[str]] | None:
    """The cached (plan, warnings) under ``key``, or None (missing, damaged, or caching off)."""
    if directory is None:
        return None
    try:
        entry = json.loads((directory / f"{key}.json").read_text(encoding="utf-8"))
        return plan_from_json(entry["plan"]), list(entry["warnings"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(directory: Path | None, key: str, plan: Any, warnings: list[str]) -> None:
    """Write an entry atomically (a concurrent reader never sees half of one)."""
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, suffix=".tmp", delete=False) as handle:
            json.dump({"plan": plan_to_json(plan), "warnings": warnings}, handle)
        os.replace(handle.name, directory / f"{key}.json")
    except OSError:
        pass  # a read-only or full disk costs speed, not correctness


class WarningRecorder(logging.Handler):
    """Collects the warnings a program logs while it runs (a cache hit logs them again)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> WarningRecorder:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


def replay(warnings: list[str]) -> None:
    """Log a cached plan's warnings as its program did."""
    for message in warnings:
        logging.getLogger("pulumi").warning(message)
