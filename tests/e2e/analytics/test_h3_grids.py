"""H3 grids as a user makes them: the HTTP API, a real worker, the cells read back from PostGIS and
compared with h3-py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import h3
import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from terrace.analytics.grids import grid_resolutions
from terrace.auth import Role
from terrace.cli import app
from terrace.errors import NotFound
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done

H3 = h3.api.numpy_int
GRIDS = "/api/analytics/h3/grids"


def create(
    api: httpx.Client, key: str, name: str, resolutions: list[int], area: dict[str, Any]
) -> httpx.Response:
    return api.post(GRIDS, json={"name": name, "resolutions": resolutions, "area": area}, headers=bearer(key))


def wait_job(api: httpx.Client, key: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still running: {job}")


def build(
    api: httpx.Client, key: str, name: str, resolutions: list[int], area: dict[str, Any]
) -> dict[str, Any]:
    response = create(api, key, name, resolutions, area)
    assert response.status_code == 202, response.text
    job = wait_job(api, key, response.json()["job_id"])
    assert job["status"] == "completed", job
    return job


def cells(database_url: str, grid: str, resolution: int) -> dict[int, int | None]:
    """cell_id → parent_id of the grid's cells at a resolution."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT cell_id, parent_id FROM h3.cells WHERE grid = %s AND resolution = %s", (grid, resolution)
        ).fetchall()
    return dict(rows)


def box_cells(box: tuple[float, float, float, float], res: int) -> set[int]:
    minx, miny, maxx, maxy = box
    return set(
        H3.polygon_to_cells(
            h3.LatLngPoly([(miny, minx), (miny, maxx), (maxy, maxx), (maxy, minx)]), res
        ).tolist()
    )


def test_bbox_grid_equals_h3_and_a_rerun_writes_nothing_twice(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    created = create(api, submitter, "java_box", [7, 5], {"bbox": [110.0, -7.5, 111.0, -6.5]})
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["grid"]["name"] == "java_box" and body["grid"]["status"] == "building"
    assert body["grid"]["resolutions"] == [5, 7]
    job = wait_job(api, submitter, body["job_id"])
    assert job["status"] == "completed", job

    box = (110.0, -7.5, 111.0, -6.5)
    coarse, fine = cells(database_url, "java_box", 5), cells(database_url, "java_box", 7)
    assert set(coarse) == box_cells(box, 5) and set(fine) == box_cells(box, 7)
    assert set(coarse.values()) == {None}
    assert all(parent == H3.cell_to_parent(cell, 5) for cell, parent in fine.items())

    listed = api.get(GRIDS, headers=bearer(keys[Role.reader])).json()
    (grid,) = [g for g in listed if g["name"] == "java_box"]
    assert grid["status"] == "ready"
    assert grid["cell_counts"] == {"5": len(coarse), "7": len(fine)}
    assert grid["area"] == {"bbox": list(box)} and grid["created_by"]
    assert job["result"] == {
        "grid": "java_box",
        "cells": grid["cell_counts"],
        "total": len(coarse) + len(fine),
    }
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        assert grid_resolutions(conn, "java_box") == (5, 7)
        with pytest.raises(NotFound, match="No H3 grid"):
            grid_resolutions(conn, "no_such_grid")

    # every task runs again (delete-then-COPY per chunk): the same rows, none twice
    rerun = api.post(f"/api/jobs/{body['job_id']}/resubmit", headers=bearer(keys[Role.admin]))
    assert rerun.status_code in (200, 202), rerun.text
    assert wait_job(api, submitter, body["job_id"])["status"] == "completed"
    with psycopg.connect(database_url) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (resolution, cell_id)) FROM h3.cells WHERE grid = 'java_box'"
        ).fetchone()
    assert total == distinct == len(coarse) + len(fine)


def test_antimeridian_and_polar_grids_from_the_cli(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    env = {"TERRACE_URL": str(api.base_url), "TERRACE_API_KEY": submitter}
    made = CliRunner().invoke(
        app, ["h3", "grid", "dateline", "--resolution", "6", "--bbox", "179.5,-1,-179.5,1"], env=env
    )
    assert made.exit_code == 0, made.output
    assert "job_id:" in made.output and "dateline" in made.output and "ready" in made.output
    build(api, submitter, "north_cap", [2, 3], {"bbox": [-180, 88, 180, 90]})
    listed = CliRunner().invoke(app, ["h3", "list"], env=env)
    assert listed.exit_code == 0 and "north_cap" in listed.output and "r3: 12" in listed.output, listed.output
    wrong = CliRunner().invoke(app, ["h3", "grid", "nowhere", "--resolution", "6"], env=env)
    assert wrong.exit_code == 2 and "--bbox" in wrong.output

    expected = box_cells((179.5, -1, 180, 1), 6) | box_cells((-180, -1, -179.5, 1), 6)
    found = cells(database_url, "dateline", 6)
    assert set(found) == expected
    with psycopg.connect(database_url) as conn:
        widest = conn.execute(
            "SELECT max(ST_XMax(d.geom) - ST_XMin(d.geom)) FROM h3.cells c, ST_Dump(c.geom) d "
            "WHERE c.grid = 'dateline'"
        ).fetchone()[0]
        cut = conn.execute(
            "SELECT count(*) FROM h3.cells WHERE grid = 'dateline' AND ST_NumGeometries(geom) = 2"
        ).fetchone()[0]
        area = conn.execute(
            "SELECT sum(ST_Area(geom::geography, false)) FROM h3.cells WHERE grid = 'dateline'"
        ).fetchone()[0]
        at_pole = conn.execute(
            "SELECT resolution, cell_id FROM h3.cells WHERE grid = 'north_cap' "
            "AND ST_Intersects(geom, 'SRID=4326;POINT(25 90)'::geometry) ORDER BY resolution"
        ).fetchall()
        valid = conn.execute("SELECT bool_and(ST_IsValid(geom)) FROM h3.cells").fetchone()[0]
    assert widest < 1 and cut > 10  # each part under a degree wide: cut at ±180°, not smeared
    # on the sphere, as h3 measures cells
    assert area == pytest.approx(sum(H3.cell_area(c, unit="m^2") for c in expected), rel=1e-3)
    assert at_pole == [(2, H3.latlng_to_cell(90, 0, 2)), (3, H3.latlng_to_cell(90, 0, 3))]
    assert set(cells(database_url, "north_cap", 3)) == box_cells((-180, 88, 0, 90), 3) | box_cells(
        (0, 88, 180, 90), 3
    )
    assert valid


def write_polygon(path: Path) -> Path:
    ring = [
        [106.70, -6.30],
        [106.95, -6.30],
        [106.95, -6.05],
        [106.80, -6.18],
        [106.70, -6.05],
        [106.70, -6.30],
    ]
    feature = {
        "type": "Feature",
        "properties": {"n": 1},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_grid_over_a_served_polygon_release(
    platform_api: httpx.Client, keys: dict[Role, str], database_url: str, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    upload(api, submitter, write_polygon(tmp_path / "area.geojson"), "floods/area.geojson")
    submitted = submit(api, submitter, "floods/area.geojson").json()
    not_served = create(api, submitter, "jakarta", [8], {"dataset_id": "floods", "resource_id": "jakarta"})
    assert not_served.status_code == 404, not_served.text
    assert wait_done(api, submitter, submitted["request_id"])["job"]["status"] == "awaiting_approval"
    assert approve(api, keys[Role.reviewer], submitted["release_id"]).status_code == 200

    area = {"dataset_id": "floods", "resource_id": "jakarta", "version_id": "v1"}
    build(api, submitter, "jakarta", [6, 8], area)
    ring = [(-6.30, 106.70), (-6.30, 106.95), (-6.05, 106.95), (-6.18, 106.80), (-6.05, 106.70)]
    assert set(cells(database_url, "jakarta", 8)) == set(H3.polygon_to_cells(h3.LatLngPoly(ring), 8).tolist())
    grid = api.get(f"{GRIDS}/jakarta", headers=bearer(keys[Role.reader])).json()
    assert grid["area"] == {**area, "release_id": submitted["release_id"]}


def test_who_may_do_what_and_bad_requests(
    api: httpx.Client, keys: dict[Role, str], database_url: str
) -> None:
    box = {"bbox": [0, 0, 1, 1]}
    assert create(api, keys[Role.reader], "by_reader", [5], box).status_code == 403
    assert api.post(GRIDS, json={"name": "anon", "resolutions": [5], "area": box}).status_code == 401

    for body, field in (
        ({"name": "Bad-Name", "resolutions": [5], "area": box}, "name"),
        ({"name": "ok", "resolutions": [16], "area": box}, "resolutions"),
        ({"name": "ok", "resolutions": [], "area": box}, "resolutions"),
        ({"name": "ok", "resolutions": [5, 5], "area": box}, "resolutions"),
        ({"name": "ok", "resolutions": [5], "area": {"bbox": [0, 0, 1]}}, "area.bbox"),
        ({"name": "ok", "resolutions": [5], "area": {"bbox": [0, 1, 1, 0]}}, "area.bbox"),
        ({"name": "ok", "resolutions": [5], "area": {"bbox": [0, 0, 200, 1]}}, "area.bbox"),
        ({"name": "ok", "resolutions": [5], "area": {"bbox": [0, 0, 1, 1], "dataset_id": "floods"}}, "area"),
        ({"name": "ok", "resolutions": [5], "area": {"resource_id": "x"}}, "area"),
        ({"name": "ok", "resolutions": [5]}, "area"),
    ):
        response = api.post(GRIDS, json=body, headers=bearer(keys[Role.submitter]))
        assert response.status_code == 400, (body, response.text)
        assert response.json()["message"].startswith(f"Invalid request: {field}"), response.text

    too_many = create(api, keys[Role.submitter], "world", [5, 9], {"bbox": [-180, -90, 180, 90]})
    assert too_many.status_code == 400
    message = too_many.json()["message"] + too_many.json()["remediation"]
    assert "10,000,000" in message and "TERRACE_H3_MAX_CELLS" in message and "would have about" in message

    assert create(api, keys[Role.submitter], "twice", [3], box).status_code == 202
    again = create(api, keys[Role.submitter], "twice", [4], box)
    assert again.status_code == 409 and "twice" in again.json()["message"]

    missing = api.get(f"{GRIDS}/nothing_here", headers=bearer(keys[Role.reader]))
    assert missing.status_code == 404 and "terrace h3 list" in missing.json()["remediation"]
    assert api.delete(f"{GRIDS}/twice", headers=bearer(keys[Role.submitter])).status_code == 403
    assert api.delete(f"{GRIDS}/twice", headers=bearer(keys[Role.admin])).status_code == 204
    assert api.get(f"{GRIDS}/twice", headers=bearer(keys[Role.reader])).status_code == 404
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM h3.grids").fetchone()[0] == 0
        job = conn.execute("SELECT status FROM app.jobs WHERE job_type = 'h3_grid'").fetchone()[0]
    assert job == "cancelled"  # no worker ran it; deleting the grid cancelled its job


def test_a_failed_build_leaves_the_grid_failed_without_cells(
    api: httpx.Client, keys: dict[Role, str], database_url: str, request: pytest.FixtureRequest
) -> None:
    created = create(api, keys[Role.submitter], "doomed", [6], {"bbox": [20.0, 10.0, 21.0, 11.0]})
    job_id = created.json()["job_id"]
    # before any worker runs it, the job's area becomes a release that has no served table
    gone = {"dataset_id": "gone", "resource_id": "gone", "version_id": "v1", "release_id": "0" * 32}
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE app.jobs SET parameters = jsonb_set(parameters, '{area}', %s) WHERE job_id = %s",
            (psycopg.types.json.Jsonb(gone), job_id),
        )
    request.getfixturevalue("worker")
    job = wait_job(api, keys[Role.submitter], job_id)
    assert job["status"] == "failed" and "has no served table" in job["error"]["message"]
    grid = api.get(f"{GRIDS}/doomed", headers=bearer(keys[Role.reader])).json()
    assert grid["status"] == "failed" and grid["cell_counts"] is None
    assert cells(database_url, "doomed", 6) == {}
