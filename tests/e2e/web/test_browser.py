"""The web UI in a real browser (Debian's chromium through Playwright) against the live API and a worker:
sign in, upload and submit, watch the job, review on the map, approve, browse, and the role and CSRF
guards. Screenshots of the key pages land in test-artifacts/screenshots/."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from rasterio.transform import from_origin
from tests.conftest import bearer
from tests.e2e.platform.client import submit, upload, wait_done
from tests.e2e.platform.data import write_points
from tests.e2e.serving.test_stac_and_tiles import publish_raster
from tests.e2e.web.checks import axe_violations, basemap_drawn
from tests.integration.raster import files

from terrace.api.app import AppConfig
from terrace.auth import Role, revoke_key
from terrace.orchestration.demo import with_demos
from terrace.pipelines import default_registry

SCREENSHOTS = Path(__file__).parents[3] / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SCREEN = {"width": 1280, "height": 900}


@pytest.fixture
def app_config(app_config: AppConfig) -> AppConfig:
    """The API with the demonstration job types registered (a failing job to look at)."""
    return replace(app_config, registry=with_demos(default_registry()))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # SwiftShader gives headless chromium the WebGL 2 that MapLibre draws with.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--enable-unsafe-swiftshader", "--use-angle=swiftshader"]
        )
        yield launched
        launched.close()


def signed_in(browser: Browser, base: str, key: str, **context: Any) -> Page:
    """A page signed in with `key`, in a new browser context (`context`: its options, e.g. viewport)."""
    page = browser.new_context(base_url=base, **{"viewport": SCREEN, **context}).new_page()
    page.goto("/interface/")
    expect(page).to_have_url(re.compile(r"/interface/login"))
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")
    return page


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def shoot_accessible(page: Page, name: str) -> None:
    """A screenshot of a page that passes axe-core at WCAG 2.1 AA."""
    assert axe_violations(page) == [], name
    shoot(page, name)


def test_submit_review_approve_and_browse_in_the_browser(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    page = signed_in(browser, str(platform_api.base_url), keys[Role.admin])
    shoot_accessible(page, "home")

    page.goto("/interface/submit")
    page.set_input_files("input[name=file]", str(write_points(tmp_path / "jakarta.gpkg", 40)))
    page.fill("input[name=dataset_id]", "floods")
    page.fill("input[name=resource_id]", "jakarta")
    page.select_option("select[name=access_level]", "public")
    page.click("#check")
    expect(page.locator("h2").first).to_have_text("Checked: ready to submit")
    shoot_accessible(page, "submit-checked")
    page.click("#submit-live")
    expect(page).to_have_url(re.compile(r"/interface/jobs/[0-9a-f]+$"))
    expect(page.locator(".badge-awaiting_approval").first).to_be_visible(timeout=90_000)
    shoot_accessible(page, "job-awaiting-approval")

    page.goto("/interface/review")
    page.click("text=floods/jakarta")
    expect(page.locator("#review-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    drawn = page.evaluate("window.Terrace.maps[0].queryRenderedFeatures({layers: ['data-point']}).length")
    assert drawn > 0
    basemap = basemap_drawn(page)
    assert basemap["features"] > 0 and basemap["land"] > basemap["pixels"] / 10, basemap
    expect(page.locator("table").filter(has_text="depth")).to_be_visible()
    shoot_accessible(page, "review")

    page.fill("input[name=version_id]", "v1")
    page.click("#approve")
    expect(page).to_have_url(re.compile(r"/interface/assets/floods/jakarta$"))
    latest = page.locator("#releases tr.latest")
    expect(latest).to_contain_text("v1")
    expect(latest).to_contain_text("latest")
    latest.locator("select[name=clearance_state]").select_option("public")
    latest.locator("input[name=notes]").fill("cleared for the public")
    latest.locator("text=Set clearance").click()
    expect(page.locator("#releases tr.latest td").nth(4)).to_have_text("public")
    expect(page.locator("table").last).to_contain_text("clearance")  # the audit trail
    shoot_accessible(page, "asset")

    page.goto("/interface/catalog")
    expect(page.locator("#results")).to_contain_text("floods/jakarta")
    page.click("#results >> text=floods/jakarta")
    page.locator("#detail").get_by_role("link", name="open on the map").click()
    expect(page.locator("#viewer-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    shoot_accessible(page, "viewer")

    page.goto("/interface/health")
    expect(page.locator("#health table")).to_contain_text("database")
    shoot_accessible(page, "health")


def test_a_reader_sees_no_review_buttons_and_forged_posts_are_refused(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    upload(platform_api, keys[Role.submitter], write_points(tmp_path / "draft.gpkg", 10), "floods/draft.gpkg")
    submitted = submit(platform_api, keys[Role.submitter], "floods/draft.gpkg")
    wait_done(platform_api, keys[Role.submitter], submitted.json()["request_id"])
    release = submitted.json()["release_id"]

    reader = signed_in(browser, str(platform_api.base_url), keys[Role.reader])
    reader.goto(f"/interface/review/{release}")
    expect(reader.locator("p.alert")).to_contain_text("needs reviewer")
    assert reader.locator("#approve").count() == 0
    assert reader.locator("a[href='/interface/submit']").count() == 0
    refused = reader.context.request.post(f"/interface/review/{release}/approve", form={"version_id": "v9"})
    assert refused.status == 403

    reviewer = signed_in(browser, str(platform_api.base_url), keys[Role.reviewer])
    forged = reviewer.context.request.post(f"/interface/review/{release}/approve", form={"version_id": "v9"})
    assert forged.status == 403  # signed in as a reviewer, but without the session's CSRF token
    assert (
        platform_api.get(f"/api/platform/status/{release}", headers=bearer(keys[Role.reader])).status_code
        == 404
    )
    status = platform_api.get(f"/api/platform/status/{release}", headers=bearer(keys[Role.reviewer]))
    assert status.json()["release"]["approval_state"] == "pending_review"


def test_a_served_raster_opens_in_the_viewer_its_status_links_to(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    release = publish_raster(
        platform_api, keys, files.rgb(tmp_path / "scene.tif", size=300), "scene", "public"
    )
    status = platform_api.get(f"/api/platform/status/{release}", headers=bearer(keys[Role.reader])).json()
    (service,) = status["services"]
    page = signed_in(browser, str(platform_api.base_url), keys[Role.reader])
    page.goto("/interface/catalog")
    thumbnail = page.locator("#results .entry img")
    expect(thumbnail).to_have_attribute("src", f"/interface/catalog/thumbnails/{release}.png")
    page.wait_for_function("document.querySelector('#results .entry img').naturalWidth > 0")
    page.goto(service["viewer"])
    expect(page.locator("h1")).to_contain_text("floods-scene-v1")
    expect(page.locator("#viewer-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    shoot_accessible(page, "raster-viewer")


def test_the_session_cookie_holds_no_key_and_a_revoked_key_signs_its_user_out(
    api: httpx.Client, keys: dict[Role, str], browser: Browser, database_url: str
) -> None:
    page = signed_in(browser, str(api.base_url), keys[Role.reader])
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/interface"
    assert keys[Role.reader] not in base64.b64decode(cookie["value"].split(".")[0] + "==").decode(
        errors="ignore"
    )
    with psycopg.connect(database_url) as conn:
        revoke_key(conn, keys[Role.reader].split("_")[1])
    page.goto("/interface/jobs")
    expect(page).to_have_url(re.compile(r"/interface/login"))


def test_a_failed_job_shows_its_last_successful_step(
    worker: None, api: httpx.Client, keys: dict[Role, str], browser: Browser
) -> None:
    admin = bearer(keys[Role.admin])
    job = api.post("/api/jobs/submit/fail_test", json={"always": True}, headers=admin)
    assert job.status_code in (200, 202), job.text
    page = signed_in(browser, str(api.base_url), keys[Role.admin])
    page.goto(f"/interface/jobs/{job.json()['job_id']}")
    expect(page.locator(".badge-failed").first).to_be_visible(timeout=60_000)
    expect(page.locator("tr.last-success")).to_have_count(1)
    shoot_accessible(page, "failed-job")


def test_several_rasters_submitted_together_become_one_collection_release(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    sheets = [
        files.dem(
            tmp_path / f"sheet_{i}.tif",
            size=256,
            transform=from_origin(500_000 + i * 7_680, 4_000_000, 30, 30),
        )
        for i in range(2)
    ]
    page = signed_in(browser, str(platform_api.base_url), keys[Role.submitter])
    page.goto("/interface/submit")
    page.set_input_files("input[name=file]", [str(sheet) for sheet in sheets])
    page.fill("input[name=dataset_id]", "relief")
    page.fill("input[name=resource_id]", "sheets")
    page.click("#check")
    expect(page.locator("dl")).to_contain_text("raster_collection")
    page.click("#submit-live")
    expect(page.locator(".badge-awaiting_approval").first).to_be_visible(timeout=90_000)
