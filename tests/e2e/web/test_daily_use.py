"""The web UI as data stewards use it every day, in a real browser: submit, follow the job live, review
(on a phone too) and approve with the keyboard alone; drop a shapefile with its sidecars and check
it before submitting; find data on the catalog's map and connect to it; every page passes axe-core
at WCAG 2.1 AA. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from playwright.sync_api import Browser, FileChooser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.web.checks import axe_violations, basemap_drawn
from tests.e2e.web.test_browser import SCREEN, browser, shoot, signed_in

from terrace.auth import Role

__all__ = ["browser"]


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user moves."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def open_file_chooser(page: Page) -> FileChooser:
    """Space on the focused file field opens the chooser; a busy browser may drop the first press."""
    for _ in range(3):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            return chooser.value
        except PlaywrightTimeout:
            continue
    raise AssertionError("Space on the file field never opened the file chooser")


def test_a_steward_submits_follows_reviews_and_approves_with_the_keyboard_alone(
    api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    file = write_points_at(tmp_path / "canals.gpkg", 40, 106.8, -6.2)
    base = str(api.base_url)
    page = browser.new_context(base_url=base).new_page()
    page.goto("/interface/")
    expect(page).to_have_title("Sign in · Terrace")
    expect(page.locator("input[name=key]")).to_be_focused()  # the key field has the focus
    page.keyboard.type(keys[Role.reviewer])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Overview")

    tab_to(page, "a[href='/interface/submit']")
    page.keyboard.press("Enter")
    expect(page).to_have_title("Submit data · Terrace")
    page.wait_for_load_state("load")
    tab_to(page, "#file")
    open_file_chooser(page).set_files(str(file))
    expect(page.locator("#chosen li")).to_have_text(re.compile(r"^canals\.gpkg · "))
    page.keyboard.press("Tab")
    page.keyboard.type("canals")
    page.keyboard.press("Tab")
    page.keyboard.type("jakarta")
    page.keyboard.press("Tab")
    page.keyboard.press("p")  # access level: public
    tab_to(page, "#check")
    page.keyboard.press("Enter")
    expect(page.locator("h2").first).to_have_text("Checked: ready to submit")
    assert axe_violations(page) == []
    tab_to(page, "#submit-live")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/interface/jobs/[0-9a-f]+$"))
    expect(page.locator("#live")).to_have_attribute("data-status", "queued")
    expect(page.locator("#tasks-done")).to_have_text("0 of 1 tasks done")
    assert axe_violations(page) == []
    events = page.locator("#timeline tbody tr").count()
    page.evaluate("window.stayed = true")
    request.getfixturevalue("worker")  # no worker ran until now: the page saw the job queued
    expect(page.locator("#live")).to_have_attribute("data-status", "awaiting_approval", timeout=90_000)
    assert page.evaluate("window.stayed") is True, "the page updated in place, never reloaded"
    assert page.locator("#timeline tbody tr").count() > events
    expect(page.locator("#tasks-done")).to_have_text(re.compile(r"^(\d+) of \1 tasks done$"))
    expect(page.locator("#stages tbody tr")).to_have_count(5)
    shoot(page, "job-live")

    tab_to(page, ".note a")
    page.keyboard.press("Enter")
    expect(page).to_have_title("Review queue · Terrace")
    tab_to(page, "main a[href^='/interface/review/']")
    page.keyboard.press("Enter")
    expect(page).to_have_title("Review canals/jakarta · Terrace")
    expect(page.locator("#review-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    phone_sized_review(browser, base, page.url, keys[Role.reviewer])
    tab_to(page, "input[name=version_id]")
    page.keyboard.type("v1")
    tab_to(page, "#approve")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/interface/assets/canals/jakarta$"))
    expect(page.locator("#releases tr.latest")).to_contain_text("v1")
    assert axe_violations(page) == []


def phone_sized_review(browser: Browser, base: str, url: str, key: str) -> None:
    """The review page on a 390×844 phone: the map drawn, nothing wider than the screen, approve at hand."""
    page = signed_in(browser, base, key, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(url)
    expect(page.locator("#review-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    page.locator("#approve").scroll_into_view_if_needed()
    expect(page.locator("#approve")).to_be_in_viewport()
    assert axe_violations(page) == []
    shoot(page, "review-phone")
    page.context.close()


def write_points_at(path: Path, count: int, lon: float, lat: float) -> Path:
    """`count` seeded points within 0.1 degree of (lon, lat) with one float attribute, in the format
    the suffix names (GDAL writes a shapefile's sidecars beside it)."""
    rng = np.random.default_rng(count)
    points = shapely.points(
        rng.uniform(lon - 0.1, lon + 0.1, count), rng.uniform(lat - 0.1, lat + 0.1, count)
    )
    table = pa.table({"depth": rng.uniform(0, 2, count), "geometry": shapely.to_wkb(points)})
    driver = {".shp": "ESRI Shapefile", ".gpkg": "GPKG"}[path.suffix]
    pyogrio.write_arrow(
        table, path, driver=driver, geometry_name="geometry", geometry_type="Point", crs="EPSG:4326"
    )
    return path


# The shared helper of analytics pages: a served table's vector tiles coloured by a property, with a legend.
CHOROPLETH = """(tiles) => new Promise((resolve) => {
  const map = Terrace.maps[0];
  const legend = document.createElement("div");
  document.querySelector("main").append(legend);
  Terrace.addChoropleth(map, { id: "depths", tiles: tiles, sourceLayer: "default", property: "depth",
                               breaks: [0.5, 1, 1.5], legend: legend });
  const labels = () => Array.from(legend.querySelectorAll("li"), (li) => li.textContent);
  map.once("idle", () => resolve({ loaded: map.isSourceLoaded("depths"), legend: labels() }));
})"""


def published(
    api: httpx.Client, keys: dict[Role, str], tmp_path: Path, places: dict[str, tuple[float, float]]
) -> None:
    """One served asset of points per place (resource name → lon, lat), processed side by side."""
    submitted = []
    for resource, (lon, lat) in places.items():
        file = write_points_at(tmp_path / f"{resource}.gpkg", 20, lon, lat)
        upload(api, keys[Role.submitter], file, f"places/{file.name}")
        body = {"dataset_id": "places", "resource_id": resource, "title": f"Drains of {resource}"}
        submitted.append(submit(api, keys[Role.submitter], f"places/{file.name}", **body).json())
    for receipt in submitted:
        wait_done(api, keys[Role.submitter], receipt["request_id"])
        assert approve(api, keys[Role.reviewer], receipt["release_id"], version_id="v1").status_code == 200


DROP = """(files) => {
  const dropped = new DataTransfer();
  for (const [name, data] of files) {
    dropped.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name));
  }
  return dropped;
}"""

# What the upload bar shows at each progress event (listened to after the page's own listener).
SEEN = """window.seen = [];
document.addEventListener("htmx:xhr:progress",
  () => window.seen.push(document.getElementById("upload-bar").value));
"""


def drop(page: Page, files: list[Path]) -> None:
    """Drop `files` on the submit page's drop zone, as a file manager would."""
    contents = [[f.name, base64.b64encode(f.read_bytes()).decode()] for f in files]
    page.dispatch_event(".dropzone", "drop", {"dataTransfer": page.evaluate_handle(DROP, contents)})


def test_a_shapefile_dropped_with_its_sidecars_is_uploaded_and_checked_as_one(
    api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    write_points_at(tmp_path / "Drains.shp", 12, 106.8, -6.2)
    files = sorted(tmp_path.glob("Drains.*"))
    shp = next(f for f in files if f.suffix == ".shp")
    page = signed_in(browser, str(api.base_url), keys[Role.submitter])
    page.goto("/interface/submit")
    page.evaluate("window.stayed = true")
    drop(page, [shp])
    page.fill("input[name=dataset_id]", "drains")
    page.fill("input[name=resource_id]", "jakarta")
    page.click("#check")
    expect(page.locator("[role=alert]")).to_contain_text("has no Drains.shx beside it")
    expect(page.locator("input[name=dataset_id]")).to_have_value("drains")

    drop(page, files[:2])
    drop(page, files[2:])  # a second drop adds to the first
    expect(page.locator("#chosen li")).to_have_count(len(files))
    expect(page.locator("#chosen li").first).to_contain_text("Drains.shp")
    expect(page.locator("#chosen li.sidecar")).to_have_count(len(files) - 1)
    page.evaluate(SEEN)
    page.click("#check")
    expect(page.locator("h2").first).to_have_text("Checked: ready to submit")
    assert page.evaluate("Math.max(...window.seen)") == 100, "the bar followed the upload to its end"
    checked = page.locator("dl.facts")
    expect(checked).to_contain_text("bronze/drains/jakarta/Drains.shp")
    expect(checked).to_contain_text("bronze/drains/jakarta/Drains.dbf")
    expect(checked).to_contain_text("vector")
    assert page.evaluate("window.stayed") is True, "checked in place"
    expect(page).to_have_title("Checked: ready to submit · Terrace")
    shoot(page, "submit-dropped-shapefile")


def test_the_catalog_lists_what_the_map_shows_and_tells_how_to_connect(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    published(platform_api, keys, tmp_path, {"jakarta": (106.8, -6.2), "quito": (-78.5, -0.2)})
    page = signed_in(browser, str(platform_api.base_url), keys[Role.reader])
    page.goto("/interface/catalog")
    catalog_map = page.locator("#catalog-map")
    expect(catalog_map).to_have_attribute("data-rendered", "true", timeout=30_000)
    entries = page.locator("#results .entry")
    expect(entries).to_have_count(2)
    assert basemap_drawn(page)["features"] > 0

    box = catalog_map.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 300, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    expect(entries).to_have_count(1)  # Quito, at the western edge, left the view
    expect(entries).to_contain_text("places/jakarta")
    assert "," in page.locator("#bbox").input_value()
    assert axe_violations(page) == []
    shoot(page, "catalog")

    page.fill("#q", "quito")
    expect(page.locator("#results .empty")).to_be_visible()  # in the text, but not in view
    page.uncheck("#in-view")
    expect(entries).to_have_count(1)
    expect(entries).to_contain_text("places/quito")

    entries.locator("a").click()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_contain_text("places/quito")
    expect(detail.locator("#versions")).to_contain_text("v1")
    expect(detail.locator("dl.facts")).to_contain_text("Access levelpublic")
    base = str(platform_api.base_url).rstrip("/")
    expect(detail.locator("#oapif-1")).to_have_value(f"{base}/features")
    expect(detail.locator("#xyz-1")).to_have_value(
        f"{base}/features/collections/places_quito_v1/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
    )
    stac = detail.locator("#stac-1").input_value()
    assert stac.startswith(f"{base}/stac/collections/places/items/")
    assert platform_api.get(stac, headers=bearer(keys[Role.reader])).status_code == 200
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    detail.locator("button[data-copy=xyz-1]").click()
    expect(detail.locator("button[data-copy=xyz-1]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == detail.locator("#xyz-1").input_value()
    assert axe_violations(page) == []
    shoot(page, "catalog-detail")

    tiles = "/features/collections/places_jakarta_v1/tiles/WebMercatorQuad/{z}/{x}/{y}"
    choropleth = page.evaluate(CHOROPLETH, tiles)
    assert choropleth == {"loaded": True, "legend": ["below 0.5", "0.5 to 1", "1 to 1.5", "1.5 and above"]}


def test_the_pages_without_data_pass_axe(api: httpx.Client, keys: dict[Role, str], browser: Browser) -> None:
    page = browser.new_context(base_url=str(api.base_url), viewport=SCREEN).new_page()
    page.goto("/interface/login")
    assert axe_violations(page) == []
    shoot(page, "login")
    page = signed_in(browser, str(api.base_url), keys[Role.admin])
    for name, path in (
        ("jobs", "/interface/jobs"),
        ("review-queue", "/interface/review"),
        ("services", "/interface/services"),
        ("schedules", "/interface/admin/schedules"),
        ("catalog-health", "/interface/admin/catalog"),
        ("submit", "/interface/submit"),
        ("not-found", "/interface/no-such-page"),
    ):
        page.goto(path)
        assert axe_violations(page) == [], path
        shoot(page, name)
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/favicon.svg")
    assert page.request.get("/interface/static/favicon.svg").ok
