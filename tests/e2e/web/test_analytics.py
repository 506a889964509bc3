"""The Analytics page in a real browser: create an H3 grid through the page and follow it to
ready, run zonal statistics of an `ouo` raster over it through the page, approve the draft, and
see the aggregate as hexagons coloured by the chosen statistic, with its legend, though the
browser holds no API key; every step passes axe-core."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import numpy as np
from playwright.sync_api import Browser, expect
from rasterio.transform import from_origin
from tests.conftest import bearer
from tests.e2e.analytics.releases import publish_raster
from tests.e2e.platform.client import approve, wait_done
from tests.e2e.web.checks import axe_violations
from tests.e2e.web.test_browser import browser, shoot, signed_in

from terrace.auth import Role

__all__ = ["browser"]

# The hexagons' fill layer that map.js's addChoropleth draws, and what the map shows of it.
RENDERED = """() => {
  const map = window.Terrace.maps[0];
  return { hexagons: map.queryRenderedFeatures({ layers: ["aggregate-fill"] }).length,
           means: map.queryRenderedFeatures({ layers: ["aggregate-fill"] })
                     .map((f) => f.properties.mean).filter((m) => typeof m === "number").length };
}"""


def test_a_grid_and_zonal_statistics_through_the_page_then_the_ouo_aggregate_on_the_map(
    platform_api: httpx.Client, keys: dict[Role, str], browser: Browser, tmp_path: Path
) -> None:
    api = platform_api
    # A gradient from west to east, 0.01 degree pixels: the cells' means rise eastwards.
    data = np.tile(np.arange(60, dtype=np.float32), (60, 1))[None]
    publish_raster(api, keys, tmp_path / "heat.tif", data, from_origin(100.0, 1.0, 0.01, 0.01), "ouo")
    page = signed_in(browser, str(api.base_url), keys[Role.reviewer])

    page.click("nav a[href='/interface/analytics']")
    expect(page).to_have_title("Analytics · Terrace")
    page.fill("#grid-form input[name=name]", "heat_r6")
    page.fill("#grid-form input[name=resolutions]", "6")
    page.fill("#grid-form input[name=bbox]", "100.05, 0.55, 100.45, 0.95")
    page.click("#create-grid")
    expect(page.locator("#receipt h2")).to_have_text("Grid heat_r6 is being built")
    job = page.locator("#receipt a[href^='/interface/jobs/']").get_attribute("href")
    assert job is not None
    assert axe_violations(page) == []
    wait_ready(api, keys[Role.reader], "heat_r6")
    page.goto("/interface/analytics")
    row = page.locator("#grids tbody tr", has_text="heat_r6")
    expect(row).to_contain_text("ready")
    expect(row.locator(f"a[href='{job}']")).to_have_count(1)
    expect(row).to_contain_text(re.compile(r"6: \d+"))

    page.fill("input[name=raster_dataset]", "heat")
    page.fill("input[name=raster_resource]", "grid")
    page.select_option("select[name=h3_grid]", "heat_r6")
    page.fill("input[name=resolution]", "6")
    page.fill("input[name=output_dataset]", "heat")
    page.fill("input[name=output_resource]", "h3")
    page.click("#run-zonal")
    expect(page.locator("#receipt h2")).to_have_text("Zonal statistics submitted")
    review = page.locator("#receipt a[href^='/interface/review/']").get_attribute("href")
    assert review is not None and page.locator("#receipt a[href^='/interface/jobs/']").count() == 1
    release_id = review.rsplit("/", 1)[1]
    status = wait_done(api, keys[Role.reviewer], release_id)
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(api, keys[Role.reviewer], release_id).status_code == 200
    # The browser holds no API key: /features refuses the ouo aggregate to it.
    assert page.request.get("/features/collections/heat_h3_v1/tiles/WebMercatorQuad/9/398/255").status == 404

    page.goto("/interface/analytics")
    page.click("#aggregates a[href$='" + release_id + "']")
    expect(page.locator("#aggregate-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    page.select_option("#statistic", "mean")
    page.click("form.inline button[type=submit]")
    expect(page).to_have_url(re.compile(r"statistic=mean$"))
    expect(page.locator("#aggregate-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    rendered = page.evaluate(RENDERED)
    assert rendered["hexagons"] > 6 and rendered["means"] == rendered["hexagons"], rendered
    expect(page.locator("#legend .legend-title")).to_have_text("mean")
    expect(page.locator("#legend li")).to_have_count(5)
    assert axe_violations(page) == []
    shoot(page, "analytics")


def wait_ready(api: httpx.Client, key: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        grid = api.get(f"/api/analytics/h3/grids/{name}", headers=bearer(key)).json()
        if grid["status"] != "building":
            assert grid["status"] == "ready", grid
            return
        time.sleep(0.3)
    raise AssertionError(f"grid {name} still building")
