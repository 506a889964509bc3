"""The services page in a real browser (Debian's chromium through Playwright): register a service
through the form, see its type, capabilities, status and latency history. Screenshots land in
test-artifacts/screenshots/ (services.png, service.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from terrace.auth import Role
from tests.e2e.services.servers import Loopback, Reply

SCREENSHOTS = Path(__file__).parents[3] / "test-artifacts" / "screenshots"
LANDING = b"""{"title": "Flood maps of Java", "links": [{"rel": "data", "href": "/collections"}],
 "conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]}"""
COLLECTIONS = b"""{"collections": [
 {"id": "floods_jakarta", "extent": {"spatial": {"bbox": [[106.7, -6.3, 106.9, -6.1]]}}},
 {"id": "floods_semarang", "extent": {"spatial": {"bbox": [[110.3, -7.1, 110.5, -6.9]]}}}]}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        yield launched
        launched.close()


def test_register_and_watch_a_service_in_the_browser(
    api: httpx.Client, keys: dict[Role, str], database_url: str, browser: Browser
) -> None:
    page = browser.new_context(base_url=str(api.base_url)).new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/interface/login")
    page.fill("input[name=key]", keys[Role.submitter])
    page.click("button[type=submit]")
    with Loopback({"/": Reply(LANDING), "/collections": Reply(COLLECTIONS)}) as server:
        page.goto("/interface/services")
        expect(page.locator("#services")).to_contain_text("No services are registered yet.")
        page.fill("input[name=url]", server.url + "/")
        page.click("button:has-text('Register')")
        expect(page).to_have_url(re.compile(r"/interface/services/[0-9a-f]{32}$"))
        service_id = page.url.rsplit("/", 1)[1]
        with psycopg.connect(database_url) as conn:  # a day of earlier checks, one of them failed
            for hours, status, latency in ((6, "up", 40), (5, "up", 55), (4, "down", None), (3, "up", 35)):
                code, error = (200, None) if latency else (503, "HTTP 503")
                conn.execute(
                    "INSERT INTO app.service_checks (service_id, status, latency_ms, http_status, error,"
                    " checked_at) VALUES (%s, %s, %s, %s, %s, now() - make_interval(hours => %s))",
                    [service_id, status, latency, code, error, hours],
                )
        page.click("button:has-text('Check now')")
    expect(page.locator("h1")).to_contain_text("Flood maps of Java")
    expect(page.locator("h1 .light")).to_have_text("● up")
    expect(page.locator("#layer-count")).to_have_text("2")
    expect(page.locator("#uptime")).to_contain_text("7 days: 83.3 %")
    expect(page.locator("#checks tbody tr")).to_have_count(6)
    expect(page.locator("svg.sparkline polyline")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "service.png"), full_page=True)
    page.goto("/interface/services")
    expect(page.locator("#services")).to_contain_text("ogcapi-features")
    page.screenshot(path=str(SCREENSHOTS / "services.png"), full_page=True)
    assert blocked == []
