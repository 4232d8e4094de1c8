"""Shared fixtures of the access tests: the committed journeys, the collected model, one engine run."""

from __future__ import annotations

import pytest

from mlops_core.config import load_organization
from mlops_platform.access import engine, evaluate, journeys
from mlops_platform.access.collect import collect


@pytest.fixture(scope="session")
def engine_run():
    """The engine runner; a missing install fails here with the command to run (never a skip)."""
    assert engine.engine_installed(), "the IAM engine is not installed: run `npm ci` in tools/iam-simulate"
    return engine.run_batch


@pytest.fixture(scope="session")
def committed_journeys() -> journeys.JourneyFile:
    return journeys.load()


@pytest.fixture(scope="session")
def settings() -> evaluate.Settings:
    org = load_organization()
    return evaluate.Settings(org.platform_name, org.region, org.identity.mode, org.identity.user_name_tag, org.identity.saml_provider_name)


@pytest.fixture(scope="session")
def platform_model(committed_journeys):
    return collect(committed_journeys.product_parameters)


@pytest.fixture(scope="session")
def committed_checks(committed_journeys, platform_model, settings, engine_run):
    return evaluate.evaluate(committed_journeys.steps, platform_model, settings, engine_run)
