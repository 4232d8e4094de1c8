"""Shared fixtures for the model build pipeline: specs, built definitions and a network guard.

`mlops_pipelines` is a package of this repository. An editable install made before it existed does
not map it, so this makes exactly that package importable from the repository root (never the root
itself: `platform/` there must not shadow the stdlib module).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import socket
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_OWN_PACKAGES = ("mlops_pipelines",)


class _RepoPackageFinder(importlib.abc.MetaPathFinder):
    """Finds only the named top-level packages (and their children) in the repository root."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 - importlib protocol
        if fullname.partition(".")[0] not in _OWN_PACKAGES:
            return None
        search = [str(REPO_ROOT)] if "." not in fullname else path
        return importlib.machinery.PathFinder.find_spec(fullname, search)


if any(importlib.util.find_spec(name) is None for name in _OWN_PACKAGES):
    sys.meta_path.append(_RepoPackageFinder())

from pipeline_helpers import ATHENA, NetworkGuard, make_spec  # noqa: E402
from mlops_pipelines.spec import PipelineSpec  # noqa: E402


@pytest.fixture(scope="session")
def spec() -> PipelineSpec:
    return make_spec()


@pytest.fixture(scope="session")
def definition_json(spec: PipelineSpec) -> str:
    from mlops_pipelines.definition import build_pipeline_definition

    return build_pipeline_definition(spec)


@pytest.fixture(scope="session")
def definition(definition_json: str) -> dict:
    return json.loads(definition_json)


@pytest.fixture(scope="session")
def populated_cache(tmp_path_factory: pytest.TempPathFactory, spec: PipelineSpec, definition_json: str) -> Path:
    """A definition cache that already holds `spec`'s definition (CLI tests need no second build)."""
    from mlops_pipelines.cache import definition_cache_key

    directory = tmp_path_factory.mktemp("definition-cache")
    (directory / f"{definition_cache_key(spec)}.json").write_text(definition_json, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def athena_definition() -> dict:
    from mlops_pipelines.definition import build_pipeline_definition

    return json.loads(build_pipeline_definition(make_spec(input_data_uri=None, athena=ATHENA)))


@pytest.fixture
def network_guard(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    import botocore.endpoint

    guard = NetworkGuard()

    def make_request(self, operation_model, request_dict):  # noqa: ANN001 - botocore signature
        guard.refuse(f"AWS API call {operation_model.service_model.service_name}:{operation_model.name}")

    def connect(self, address):  # noqa: ANN001 - socket signature
        guard.refuse(f"socket connect to {address!r}")

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", make_request)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return guard
