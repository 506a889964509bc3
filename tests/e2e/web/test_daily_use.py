"""The web UI as data stewards use it every day, in a real browser: a job followed live, a shapefile
dropped with its sidecars and checked before it is submitted."""

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
from playwright.sync_api import Browser, Page, expect
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


def write_shapefile(folder: Path, count: int) -> list[Path]:
    """A shapefile of points around Jakarta: its .shp and every sidecar GDAL writes."""
    rng = np.random.default_rng(count)
    points = shapely.points(rng.uniform(106.7, 106.9, count), rng.uniform(-6.3, -6.1, count))
    table = pa.table({"depth": rng.uniform(0, 2, count), "geometry": shapely.to_wkb(points)})
    shp = folder / "Drains.shp"
    pyogrio.write_arrow(
        table, shp, driver="ESRI Shapefile", geometry_name="geometry", geometry_type="Point", crs="EPSG:4326"
    )
    return sorted(folder.glob("Drains.*"))


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
    files = write_shapefile(tmp_path, 12)
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
