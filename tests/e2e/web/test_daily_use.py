"""The web UI as data stewards use it every day, in a real browser: a job followed live."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from tests.e2e.platform.client import submit, upload
from tests.e2e.platform.data import write_points
from tests.e2e.web.test_browser import browser, shoot, signed_in

from terrace.auth import Role

__all__ = ["browser"]


def test_the_job_page_follows_the_job_without_reloading(
    api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upload(api, keys[Role.submitter], write_points(tmp_path / "live.gpkg", 40), "floods/live.gpkg")
    job_id = submit(api, keys[Role.submitter], "floods/live.gpkg").json()["job_id"]
    page = signed_in(browser, str(api.base_url), keys[Role.submitter])
    page.goto(f"/interface/jobs/{job_id}")
    expect(page.locator("#live")).to_have_attribute("data-status", "queued")
    expect(page.locator("#tasks-done")).to_have_text("0 of 1 tasks done")
    events = page.locator("#timeline tbody tr").count()
    page.evaluate("window.stayed = true")

    request.getfixturevalue("worker")  # no worker ran until now: the page saw the job queued
    expect(page.locator("#live")).to_have_attribute("data-status", "running", timeout=30_000)
    expect(page.locator("#live")).to_have_attribute("data-status", "awaiting_approval", timeout=90_000)
    assert page.evaluate("window.stayed") is True, "the page updated in place, never reloaded"
    assert page.locator("#timeline tbody tr").count() > events
    expect(page.locator("#tasks-done")).to_have_text(re.compile(r"^(\d+) of \1 tasks done$"))
    expect(page.locator("#stages tbody tr")).to_have_count(5)
    shoot(page, "job-live")
