"""The report built once per session, in-process (the plans come from the session's cache)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_platform.cli import app

from report_helpers import ACCESS_JSON


@pytest.fixture(scope="session")
def report_page(tmp_path_factory, platform_plans) -> Path:
    """report.html of the committed config, with the access checks of the JSON fixture."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--access-json", str(ACCESS_JSON)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def report_html(report_page: Path) -> str:
    return report_page.read_text(encoding="utf-8")
