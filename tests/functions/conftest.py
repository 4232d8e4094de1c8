"""Shared helpers for the runtime-code tests (Lambda handlers, boto3 checks, ETL functions).

`mlops_functions` and `mlops_etl` are packages of this repository. An editable install made before
they existed does not map them, so this makes exactly those two importable from the repository root
(never the root itself: `platform/` there must not shadow the stdlib module).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
_OWN_PACKAGES = ("mlops_functions", "mlops_etl")


class _RepoPackageFinder(importlib.abc.MetaPathFinder):
    """Finds only the named top-level packages (and their children) in the repository root."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 - importlib protocol
        top = fullname.partition(".")[0]
        if top not in _OWN_PACKAGES:
            return None
        search = [str(REPO_ROOT)] if "." not in fullname else path
        return importlib.machinery.PathFinder.find_spec(fullname, search)


if any(importlib.util.find_spec(name) is None for name in _OWN_PACKAGES):
    sys.meta_path.append(_RepoPackageFinder())


def load_fixture(name: str) -> Any:
    """A JSON fixture from tests/functions/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def fixture_json():
    return load_fixture


def third_party_imports(path: Path) -> set[str]:
    """Top-level modules a source file imports that are not in the standard library."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "__future__"}


@pytest.fixture
def lambda_module_imports():
    """Non-stdlib imports of a Lambda module: the Lambda runtime ships only boto3/botocore."""
    return lambda module: third_party_imports(REPO_ROOT / "mlops_functions" / f"{module}.py")


@pytest.fixture
def source_imports():
    """Non-stdlib top-level imports of any source file."""
    return third_party_imports
