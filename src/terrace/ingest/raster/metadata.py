"""The app.cog_metadata row of a written COG: read from the file itself, stored by upsert, never
over a row of another release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rasterio
from psycopg.types.json import Jsonb
from rasterio.warp import transform_bounds, transform_geom

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict
from terrace.ingest.release import ReleaseJob, require_own_outputs

JSON_COLUMNS = ("footprint", "bands", "statistics", "rescale", "colormap")


def describe_cog(path: Path) -> dict[str, Any]:
    """Layout, georeferencing and bands of the COG at `path`."""
    with rasterio.open(path) as ds:
        bbox_4326 = _wrapped(transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21))
        west, south, east, north = bbox_4326
        if west > east:  # across the antimeridian: RFC 7946 cuts the footprint in two there
            footprint = {
                "type": "MultiPolygon",
                "coordinates": [[_ring(west, south, 180.0, north)], [_ring(-180.0, south, east, north)]],
            }
        else:
            footprint = transform_geom(
                ds.crs, "EPSG:4326", {"type": "Polygon", "coordinates": [_ring(*ds.bounds)]}
            )
        return {
            "width": ds.width,
            "height": ds.height,
            "band_count": ds.count,
            "dtype": ds.dtypes[0],
            "nodata": ds.nodata,
            "crs": ds.crs.to_string(),
            "epsg": ds.crs.to_epsg(),
            "transform": list(ds.transform)[:6],
            "resolution": list(ds.res),
            "bbox": list(ds.bounds),
            "bbox_4326": bbox_4326,
            "footprint": footprint,
            "overviews": ds.overviews(1),
            "block_size": list(ds.block_shapes[0]),
            "compression": ds.compression.name.lower() if ds.compression else None,
            "bands": [
                {
                    "index": index,
                    "colorinterp": interp.name,
                    "description": description,
                }
                for index, interp, description in zip(
                    ds.indexes, ds.colorinterp, ds.descriptions, strict=True
                )
            ],
        }


def _ring(left: float, bottom: float, right: float, top: float) -> list[list[float]]:
    return [[left, bottom], [right, bottom], [right, top], [left, top], [left, bottom]]


def _wrapped(bounds: tuple[float, float, float, float]) -> list[float]:
    """WGS 84 bounds with longitudes in [-180, 180]; a grid that runs on past 180° (one continuous
    across the antimeridian) gives west > east, as STAC and RFC 7946 write such a box."""
    west, south, east, north = bounds
    if east - west >= 360:
        return [-180.0, south, 180.0, north]
    return [_longitude(west), south, _longitude(east), north]


def _longitude(lon: float) -> float:
    return lon if -180.0 <= lon <= 180.0 else (lon + 180.0) % 360.0 - 180.0


def require_writable(conn: Connection, params: ReleaseJob, container: str, folder: str) -> None:
    """Refuse before writing into `folder` when it holds a COG of another release."""
    require_own_outputs(conn, params)
    foreign = conn.execute(
        queries("raster")["foreign_cog_in_folder"],
        {"container": container, "folder": f"{folder}/", "release_id": params.release_id},
    ).fetchone()
    if foreign is not None:
        _refuse(foreign["path"], f"release {foreign['release_id']}")


def store(conn: Connection, row: dict[str, Any]) -> None:
    """Insert or replace the row of one COG: a retried task of the same release writes the same
    row again; the row of another release is never replaced."""
    values = {k: Jsonb(v) if k in JSON_COLUMNS and v is not None else v for k, v in row.items()}
    if conn.execute(queries("raster")["upsert_cog"], values).fetchone() is None:
        _refuse(row["path"], "another release")


def _refuse(path: str, owner: str) -> None:
    raise Conflict(
        f"{path} belongs to {owner}; Terrace never overwrites another release's outputs.",
        "Submit files through POST /api/platform/submit, which names each release's outputs.",
    )


def cogs_of_job(conn: Connection, job_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(queries("raster")["cogs_of_job"], {"job_id": job_id})]


def forget_job(conn: Connection, job_id: str) -> list[dict[str, Any]]:
    """Delete a job's rows; returns what they pointed at, for the caller to delete."""
    return [dict(r) for r in conn.execute(queries("raster")["delete_cogs_of_job"], {"job_id": job_id})]
