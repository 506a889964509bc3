"""Served inputs for the zonal tests: rasters and polygons published through the Platform API, and
an H3 grid written straight into `h3.cells`.

`write_grid` writes a ready grid as the grid job (POST /api/analytics/h3/grids) would leave it,
with h3-py's cells of a box: the zonal tests pick cells by centre, which the job does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h3
import httpx
import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from rasterio.transform import Affine

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, upload, wait_done
from tests.integration.raster import files


def write_grid(
    owner_url: str, name: str, resolution: int, bbox: tuple[float, float, float, float]
) -> list[int]:
    """The H3 cells (ids) whose centres fall in the box, written as ready grid `name`."""
    west, south, east, north = bbox
    cells = h3.polygon_to_cells(
        h3.LatLngPoly([(south, west), (south, east), (north, east), (north, west)]), resolution
    )
    ids = sorted(h3.str_to_int(c) for c in cells)
    rows = [
        (
            name,
            resolution,
            cell,
            h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), resolution - 1)),
            shapely.to_wkb(cell_polygon(cell)),
        )
        for cell in ids
    ]
    with psycopg.connect(owner_url) as conn:
        conn.execute(
            "INSERT INTO h3.grids (name, resolutions, area, status, cell_counts)"
            " VALUES (%s, %s, %s, 'ready', %s)",
            (name, [resolution], json.dumps({"bbox": list(bbox)}), json.dumps({str(resolution): len(ids)})),
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO h3.cells VALUES (%s, %s, %s, %s, ST_SetSRID(ST_GeomFromWKB(%s), 4326))", rows
            )
    return ids


def cell_polygon(cell: int) -> shapely.MultiPolygon:
    boundary = h3.cell_to_boundary(h3.int_to_str(cell))
    return shapely.MultiPolygon([shapely.Polygon([(lng, lat) for lat, lng in boundary])])


def publish_raster(
    api: httpx.Client,
    keys: dict[Role, str],
    path: Path,
    data: npt.NDArray[Any],
    transform: Affine,
    access_level: str = "public",
    granted_roles: tuple[str, ...] = (),
    nodata: float | None = None,
) -> dict[str, Any]:
    """A GeoTIFF in EPSG:4326 submitted as `{stem}/grid` and approved: the served release."""
    files.write(path, data, crs="EPSG:4326", transform=transform, nodata=nodata)
    return _publish(api, keys, path, access_level, list(granted_roles))


def publish_polygons(
    api: httpx.Client, keys: dict[Role, str], path: Path, polygons: list[shapely.Geometry]
) -> dict[str, Any]:
    """A GeoJSON of the polygons submitted as `{stem}/grid` and approved: the served release."""
    features = [
        {"type": "Feature", "properties": {"n": n}, "geometry": shapely.geometry.mapping(p)}
        for n, p in enumerate(polygons)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return _publish(api, keys, path, "public", [])


def _publish(
    api: httpx.Client, keys: dict[Role, str], path: Path, access_level: str, granted_roles: list[str]
) -> dict[str, Any]:
    name = path.stem
    upload(api, keys[Role.submitter], path, f"{name}/{path.name}")
    body = {
        "dataset_id": name,
        "resource_id": "grid",
        "file_name": f"{name}/{path.name}",
        "access_level": access_level,
        "granted_roles": granted_roles,
    }
    submitted = api.post("/api/platform/submit", json=body, headers=bearer(keys[Role.submitter]))
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    approved = approve(api, keys[Role.admin], submitted.json()["release_id"])
    assert approved.status_code == 200, approved.text
    return approved.json()


def zonal(api: httpx.Client, key: str, **body: Any) -> httpx.Response:
    return api.post("/api/analytics/zonal", json=body, headers=bearer(key))


def steps(width: int, height: int) -> npt.NDArray[np.float32]:
    """Band 1: the column index; band 2: ten times the row index."""
    columns = np.tile(np.arange(width, dtype=np.float32), (height, 1))
    rows = np.repeat(np.arange(height, dtype=np.float32)[:, None] * 10, width, axis=1)
    return np.stack([columns, rows])
