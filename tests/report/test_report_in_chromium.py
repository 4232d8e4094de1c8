"""report.html in Debian's headless Chromium: it loads without console errors or network requests,
the accounts diagram renders, and a screenshot shows a page. Each checker is shown to fail too."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from chromium_page import PageVisit, visit

PROBE = """JSON.stringify((() => {
  const svg = document.getElementById('accounts');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {width: box.width, height: box.height,
          accounts: svg ? svg.querySelectorAll('.account').length : 0,
          flows: svg ? svg.querySelectorAll('.flow path').length : 0,
          ready: document.body.getAttribute('data-ready')};
})())"""


@pytest.fixture(scope="module")
def page_visit(report_page: Path, tmp_path_factory) -> PageVisit:
    return visit(report_page, tmp_path_factory.mktemp("chromium-profile"), PROBE)


def _broken_visit(tmp_path: Path, body: str) -> PageVisit:
    page = tmp_path / "broken.html"
    page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    return visit(page, tmp_path / "profile", PROBE)


def test_the_report_loads_without_console_errors(page_visit: PageVisit) -> None:
    problems = page_visit.console_errors + page_visit.exceptions + page_visit.failed_loads
    assert not problems, f"report.html: console errors in Chromium: {problems}"


def test_the_page_script_ran_to_its_end(page_visit: PageVisit) -> None:
    assert json.loads(page_visit.evaluated)["ready"] == "true", "report.html: the inline script did not finish"


def test_the_report_loads_nothing_from_the_network(page_visit: PageVisit) -> None:
    outside = [url for url in page_visit.requests if not url.startswith(("file:", "data:", "about:"))]
    assert not outside, f"report.html: must be self-contained, but requested {outside}"


def test_the_accounts_diagram_renders_every_planned_account(page_visit: PageVisit, platform_plans) -> None:
    probe = json.loads(page_visit.evaluated)
    assert probe["width"] > 300 and probe["height"] > 200, f"report.html: the diagram has no size: {probe}"
    accounts = {plan.account_id for plan in platform_plans.values()}
    assert probe["accounts"] >= len(accounts), f"report.html: {probe['accounts']} account boxes for {len(accounts)} accounts"
    assert probe["flows"] > 0, "report.html: the diagram draws no flow"


def test_the_screenshot_shows_a_page(page_visit: PageVisit) -> None:
    image = Image.open(io.BytesIO(page_visit.screenshot)).convert("RGB")
    assert image.width >= 800 and image.height >= 600, f"report.html: screenshot is {image.size}"
    colours = image.resize((64, 64)).getcolors(maxcolors=64 * 64)
    assert colours and len(colours) > 8, "report.html: the screenshot is (nearly) one colour: nothing rendered"


def test_a_script_error_is_caught(tmp_path: Path) -> None:
    broken = _broken_visit(tmp_path, "<script>undefinedFunction();</script>")
    assert broken.exceptions, "the Chromium check must report an uncaught exception"


def test_a_console_error_is_caught(tmp_path: Path) -> None:
    broken = _broken_visit(tmp_path, "<script>console.error('broken on purpose');</script>")
    assert any("broken on purpose" in e for e in broken.console_errors), broken.console_errors


def test_a_network_request_is_caught(tmp_path: Path) -> None:
    broken = _broken_visit(tmp_path, '<img src="http://127.0.0.1:9/diagram.png">')
    assert any(url.startswith("http://127.0.0.1:9/") for url in broken.requests), broken.requests


def test_a_page_without_the_diagram_is_caught(tmp_path: Path) -> None:
    broken = _broken_visit(tmp_path, "<p>no diagram here</p>")
    assert json.loads(broken.evaluated)["accounts"] == 0
