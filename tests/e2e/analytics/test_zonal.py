"""Zonal statistics as a user drives them: served rasters summarised over polygons and H3 cells,
checked against values known exactly, reviewed, approved and served like any release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
import shapely
from psycopg.rows import dict_row
from rasterio.transform import from_origin
from typer.testing import CliRunner

from terrace.api.app import AppConfig
from terrace.auth import Role
from terrace.cli import app
from terrace.db.roles import RoleUrls
from terrace.platform.processing import JobDefaults
from terrace.storage import Storage
from tests.conftest import bearer
from tests.e2e.analytics.releases import (
    cell_polygon,
    publish_polygons,
    publish_raster,
    steps,
    write_grid,
    zonal,
)
from tests.e2e.platform.client import approve, wait_done

PIXEL = 0.1
ORIGIN = (100.0, 10.0)  # west, north of the step raster


@pytest.fixture
def app_config(databases: RoleUrls, owner_database_url: str, storage: Storage) -> AppConfig:
    """Three zones a task, so that every job here runs several compute tasks."""
    return AppConfig(
        databases=databases,
        storage=storage,
        owner_database_url=owner_database_url,
        job_defaults=JobDefaults(zonal_chunk_size=3),
    )


def pixels(col0: float, row0: float, col1: float, row1: float) -> shapely.Polygon:
    """A box by pixel edges of the step raster."""
    west, north = ORIGIN
    return shapely.box(west + col0 * PIXEL, north - row1 * PIXEL, west + col1 * PIXEL, north - row0 * PIXEL)


def rows_of(database_url: str, schema: str, table: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        query = psycopg.sql.SQL("SELECT * FROM {} ORDER BY zone_id").format(
            psycopg.sql.Identifier(schema, table)
        )
        return conn.execute(query).fetchall()


def done(api: httpx.Client, key: str, receipt: httpx.Response) -> dict[str, Any]:
    assert receipt.status_code == 202, receipt.text
    status = wait_done(api, key, receipt.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    return status


def test_means_and_sums_over_polygons_are_exact_per_band_with_nodata_and_zones_outside(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    data = steps(20, 10)
    data[0, 0:5, 15:20] = -9999  # nodata in band 1 only
    publish_raster(api, keys, tmp_path / "steps.tif", data, from_origin(*ORIGIN, PIXEL, PIXEL), nodata=-9999)
    aligned, shifted, outside, half_nodata = (
        pixels(2, 0, 4, 2),
        pixels(4.5, 2, 6.5, 4),
        pixels(30, 0, 31, 1),
        pixels(14, 0, 16, 1),
    )
    publish_polygons(api, keys, tmp_path / "parcels.geojson", [aligned, shifted, outside, half_nodata])

    body = {
        "raster": {"dataset_id": "steps", "resource_id": "grid"},
        "zones": {"dataset_id": "parcels", "resource_id": "grid", "version_id": "v1"},
        "stats": ["mean", "sum", "count"],
        "output": {"dataset_id": "steps", "resource_id": "by-parcel", "title": "Steps by parcel"},
    }
    status = done(api, submitter, zonal(api, submitter, **body))
    assert status["release"]["access_level"] == "public"
    (table,) = status["outputs"]
    assert table["schema_name"] == "geo_draft" and table["feature_count"] == 4
    rows = rows_of(database_url, "geo_draft", table["table_name"])
    assert [r["zone_id"] for r in rows] == [1, 2, 3, 4]
    expected = [  # b1: column index; b2: ten times the row index (coverage-weighted)
        {"b1_mean": 2.5, "b1_sum": 10, "b1_count": 4, "b2_mean": 5, "b2_sum": 20, "b2_count": 4},
        {"b1_mean": 5.0, "b1_sum": 20, "b1_count": 4, "b2_mean": 25, "b2_sum": 100, "b2_count": 4},
        {"b1_mean": None, "b1_sum": 0, "b1_count": 0, "b2_mean": None, "b2_sum": 0, "b2_count": 0},
        {"b1_mean": 14.0, "b1_sum": 14, "b1_count": 1, "b2_mean": 0, "b2_sum": 0, "b2_count": 2},
    ]
    for row, wanted in zip(rows, expected, strict=True):
        for column, value in wanted.items():
            assert row[column] == (None if value is None else pytest.approx(value, rel=1e-12)), (column, row)
    assert shapely.from_wkb(bytes.fromhex(rows[1]["geom"])).equals(shapely.MultiPolygon([shifted]))

    again = zonal(api, submitter, **body)
    assert again.status_code == 200 and again.json()["release_id"] == status["release"]["release_id"]

    env = {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": submitter}
    command = ["zonal", "--raster", "steps/grid@v1", "--zones", "parcels/grid", "--stat", "max"]
    ran = CliRunner().invoke(app, [*command, "--output", "steps/max-by-parcel"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "awaiting_approval" in ran.output and "next:       terrace approve" in ran.output
    assert "4 features" in ran.output

    assert approve(api, keys[Role.reviewer], status["release"]["release_id"]).status_code == 200
    items = api.get("/features/collections/steps_by_parcel_v1/items").json()
    served = {f["properties"]["zone_id"]: f["properties"] for f in items["features"]}
    assert served[2]["b1_mean"] == pytest.approx(5.0) and served[2]["b2_sum"] == pytest.approx(100)


def test_class_fractions_over_h3_cells_sum_to_one_and_an_ouo_raster_gives_an_ouo_aggregate(
    platform_api: httpx.Client,
    keys: dict[Role, str],
    owner_database_url: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    # Classes 1, 2, 3 in vertical strips five pixels wide, repeating; 0.01 degree pixels.
    classes = (1 + (np.arange(60) // 5) % 3).astype("uint8")
    data = np.tile(classes, (60, 1))[None]
    west, north, pixel = 100.0, 1.0, 0.01
    publish_raster(api, keys, tmp_path / "cover.tif", data, from_origin(west, north, pixel, pixel), "ouo")
    cells = write_grid(owner_database_url, "test_grid", 6, (100.05, 0.55, 100.45, 0.95))

    body = {
        "raster": {"dataset_id": "cover", "resource_id": "grid"},
        "zones": {"h3_grid": "test_grid", "resolution": 6},
        "stats": ["frac", "majority", "count"],
        "output": {"dataset_id": "cover", "resource_id": "h3"},
    }
    absent = zonal(api, submitter, **{**body, "zones": {"h3_grid": "test_grid", "resolution": 7}})
    assert absent.status_code == 400 and "resolutions: 6" in absent.json()["remediation"]
    status = done(api, submitter, zonal(api, submitter, **body))
    assert status["release"]["access_level"] == "ouo"
    rows = rows_of(database_url, "geo_draft", status["outputs"][0]["table_name"])
    assert [r["zone_id"] for r in rows] == cells and len(cells) > 6
    raster = shapely.box(west, north - 60 * pixel, west + 60 * pixel, north)
    for row in rows:
        fractions = [row["frac_1"], row["frac_2"], row["frac_3"]]
        assert sum(fractions) == pytest.approx(1, rel=1e-9)
        covered = cell_polygon(row["zone_id"]).intersection(raster)
        for value, fraction in zip((1, 2, 3), fractions, strict=True):
            strips = shapely.union_all(
                [
                    shapely.box(west + c * pixel, north - 60 * pixel, west + (c + 5) * pixel, north)
                    for c in range(0, 60, 5)
                    if classes[c] == value
                ]
            )
            assert fraction == pytest.approx(covered.intersection(strips).area / covered.area, rel=1e-6)

    assert approve(api, keys[Role.reviewer], status["release"]["release_id"]).status_code == 200
    items = "/features/collections/cover_h3_v1/items"
    assert api.get(items).status_code == 404
    seen = api.get(items, params={"limit": 1000}, headers=bearer(keys[Role.reader]))
    assert seen.status_code == 200 and len(seen.json()["features"]) == len(cells)


def test_inputs_that_do_not_fit_are_refused_with_the_fix(
    api: httpx.Client, keys: dict[Role, str], owner_database_url: str
) -> None:
    submitter = keys[Role.submitter]
    write_grid(owner_database_url, "tiny", 5, (100.0, 0.0, 100.2, 0.2))
    grid = {"h3_grid": "tiny", "resolution": 5}
    output = {"dataset_id": "out", "resource_id": "stats"}
    missing = zonal(
        api,
        submitter,
        raster={"dataset_id": "none", "resource_id": "x"},
        zones=grid,
        stats=["mean"],
        output=output,
    )
    assert missing.status_code == 404 and "versions" in missing.json()["remediation"]
    unknown = zonal(
        api,
        submitter,
        raster={"dataset_id": "a", "resource_id": "b"},
        zones=grid,
        stats=["mean", "mode", "avg"],
        output=output,
    )
    assert unknown.status_code == 400 and "'mode', 'avg'" in unknown.json()["message"]


def test_weighted_means_over_polygons_are_exact_and_weights_must_be_named_and_fit(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    width, height = 8, 6
    values = np.tile(np.arange(width, dtype=np.float32), (height, 1))[None]  # the column index
    people = np.repeat(np.arange(height, dtype=np.float32)[:, None] + 1, width, axis=1)[None]  # row + 1
    transform = from_origin(*ORIGIN, PIXEL, PIXEL)
    publish_raster(api, keys, tmp_path / "values.tif", values, transform)
    publish_raster(api, keys, tmp_path / "people.tif", people, transform)
    half_off = from_origin(ORIGIN[0] + PIXEL / 2, ORIGIN[1], PIXEL, PIXEL)
    publish_raster(api, keys, tmp_path / "shifted.tif", people, half_off)
    ell = [(0, c) for c in range(4)] + [(r, 0) for r in range(1, 4)]  # (row, column) of whole pixels
    block = [(r, c) for r in range(2, 5) for c in range(3, 7)]
    zones = [shapely.union_all([pixels(c, r, c + 1, r + 1) for r, c in cells]) for cells in (ell, block)]
    publish_polygons(api, keys, tmp_path / "plots.geojson", zones)

    body: dict[str, Any] = {
        "raster": {"dataset_id": "values", "resource_id": "grid"},
        "zones": {"dataset_id": "plots", "resource_id": "grid"},
        "stats": ["weighted_mean", "weighted_sum", "mean"],
        "output": {"dataset_id": "values", "resource_id": "by-plot"},
    }
    unweighted = zonal(api, submitter, **body)
    assert unweighted.status_code == 400 and "`weights`" in unweighted.json()["remediation"]
    assert "weighted_mean, weighted_sum" in unweighted.json()["message"]
    misaligned = zonal(api, submitter, **body, weights={"dataset_id": "shifted", "resource_id": "grid"})
    assert misaligned.status_code == 400 and "line up" in misaligned.json()["message"]
    assert "gdalwarp" in misaligned.json()["remediation"]

    weights = {"dataset_id": "people", "resource_id": "grid", "version_id": "v1"}
    status = done(api, submitter, zonal(api, submitter, **body, weights=weights))
    rows = rows_of(database_url, "geo_draft", status["outputs"][0]["table_name"])
    for row, cells in zip(rows, (ell, block), strict=True):
        weighted = sum(values[0, r, c] * people[0, r, c] for r, c in cells)
        total = sum(people[0, r, c] for r, c in cells)
        assert row["weighted_mean"] == pytest.approx(weighted / total, abs=1e-9)
        assert row["weighted_sum"] == pytest.approx(weighted, abs=1e-9)
        assert row["mean"] == pytest.approx(sum(values[0, r, c] for r, c in cells) / len(cells), abs=1e-9)
    assert rows[0]["weighted_mean"] == pytest.approx(6 / 13, abs=1e-9)  # the ell's weights matter

    env = {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": submitter}
    command = ["zonal", "--raster", "values/grid", "--zones", "plots/grid", "--weights", "people/grid@v1"]
    stats = [arg for stat in body["stats"] for arg in ("--stat", stat)]
    ran = CliRunner().invoke(app, [*command, *stats, "--output", "values/by-plot", "--no-wait"], env=env)
    assert ran.exit_code == 0, ran.output
    assert f"release_id: {status['release']['release_id']}" in ran.output
