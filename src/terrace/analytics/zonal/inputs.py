"""The inputs of a zonal job, found in the catalog: served releases the caller may see, the raster
file to read, the table of zones, and the access level they leave the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from terrace.analytics.grids import grid_resolutions
from terrace.analytics.zonal.params import GridZones, ReleaseRef, ReleaseZones
from terrace.catalog import identity
from terrace.db.models.catalog import ACCESS_LEVELS
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput, NotFound
from terrace.platform.visibility import Viewer

WGS84 = 4326
# How far from whole a ratio of cell sizes or offsets may be: exactextract's default grid tolerance.
GRID_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ServedRelease:
    release_id: str
    dataset_id: str
    resource_id: str
    version_id: str
    data_type: str
    access_level: str
    granted_roles: list[str]

    @property
    def name(self) -> str:
        return f"{self.dataset_id}/{self.resource_id}@{self.version_id}"


@dataclass(frozen=True)
class RasterFile:
    """The file GDAL reads (one COG, or the mosaic VRT of several) and what zones need of it."""

    container: str
    path: str
    bands: int
    dtype: str
    epsg: int | None
    resolution: tuple[float, float]  # cell width, height in the CRS's units
    origin: tuple[float, float]  # west, south edge of a COG: on the grid of them all

    def srid(self) -> int:
        """The EPSG code zones are projected to; 400 when the raster's CRS has none."""
        if self.epsg is None:
            raise InvalidInput(
                "The raster's CRS has no EPSG code, so zones cannot be projected onto it.",
                "Submit the raster again without target_crs (Terrace then writes it in EPSG:4326).",
            )
        return self.epsg


@dataclass(frozen=True)
class ZoneTable:
    """Where the zones are: a relation, its id and geometry columns, and which of its rows."""

    relation: sql.Identifier
    id_column: str
    geometry_column: str
    where: sql.Composable
    params: dict[str, Any]


def served_release(conn: Connection, viewer: Viewer, ref: ReleaseRef, role: str) -> ServedRelease:
    """The served release `ref` names (its latest version when none is given), if the viewer may
    see it; a hidden one answers as a missing one."""
    dataset = identity.normalize_slug(ref.dataset_id, "dataset_id")
    resource = identity.normalize_slug(ref.resource_id, "resource_id")
    version = identity.normalize_version(ref.version_id) if ref.version_id else None
    row = conn.execute(
        queries("zonal")["served_release"],
        {"dataset_id": dataset, "resource_id": resource, "version_id": version, **viewer.params},
    ).fetchone()
    if row is None:
        which = f"version {version}" if version else "served version"
        raise NotFound(
            f"The {role} {dataset}/{resource} has no {which}.",
            f"Name an approved, served release: see /api/platform/catalog/{dataset}/{resource}/versions.",
        )
    return ServedRelease(**row)


def raster_file(conn: Connection, release_id: str) -> RasterFile:
    rows = conn.execute(queries("zonal")["raster_files"], {"release_id": release_id}).fetchall()
    if not rows:
        raise Conflict(
            f"Release {release_id} is no longer served, or has no COG.",
            "Name a served raster release, or run the catalog consistency check.",
        )
    first = rows[0]
    path = first["path"] if len(rows) == 1 else first["mosaic"]
    if path is None:
        raise Conflict(f"Release {release_id} has several COGs and no mosaic.", "Resubmit the raster.")
    bbox = first["bbox"]
    return RasterFile(
        first["container"],
        path,
        first["band_count"],
        first["dtype"],
        first["epsg"],
        (abs(first["resolution"][0]), abs(first["resolution"][1])),
        (bbox[0], bbox[1]),
    )


def require_raster(release: ServedRelease) -> ServedRelease:
    if release.data_type not in ("raster", "raster_collection"):
        raise InvalidInput(
            f"{release.name} is {release.data_type} data, not a raster.", "Name a raster release as `raster`."
        )
    return release


def require_weights_fit(raster: RasterFile, weights: RasterFile, name: str) -> None:
    """400 unless exactextract can read `weights` cell by cell with `raster`: one band, the same
    CRS, and grids whose cell sizes are whole multiples of each other and whose edges line up."""
    fix = "Warp the weights onto the value raster's grid (gdalwarp -tr and -tap), submit it, and name that."
    if weights.bands != 1:
        raise InvalidInput(f"The weights {name} have {weights.bands} bands; weights need one.", fix)
    if weights.epsg != raster.epsg:
        raise InvalidInput(
            f"The weights {name} are in EPSG:{weights.epsg}, the raster in EPSG:{raster.epsg}.", fix
        )
    for axis in (0, 1):
        fine = min(raster.resolution[axis], weights.resolution[axis])
        coarse = max(raster.resolution[axis], weights.resolution[axis])
        offset = abs(raster.origin[axis] - weights.origin[axis])
        if not (_whole(coarse / fine) and _whole(offset / fine)):
            raise InvalidInput(
                f"The grid of the weights {name} ({_cells(weights)}) does not line up with the raster's"
                f" ({_cells(raster)}): cell sizes must be whole multiples and cell edges must meet.",
                fix,
            )


def _whole(ratio: float) -> bool:
    return abs(ratio - round(ratio)) <= GRID_TOLERANCE


def _cells(file: RasterFile) -> str:
    (width, height), (west, south) = file.resolution, file.origin
    return f"cells {width:g} x {height:g} from {west:g}, {south:g}"


def zone_table(conn: Connection, zones: GridZones | ReleaseZones) -> ZoneTable:
    """The zones' table: the cells of an H3 grid at one resolution, or a release's polygons."""
    if isinstance(zones, GridZones):
        resolutions = grid_resolutions(conn, zones.grid)
        if zones.resolution not in resolutions:
            raise InvalidInput(
                f"H3 grid {zones.grid!r} has no resolution {zones.resolution}.",
                f"Use one of its resolutions: {', '.join(map(str, resolutions))}.",
            )
        return ZoneTable(
            sql.Identifier("h3", "cells"),
            "cell_id",
            "geom",
            sql.SQL("grid = %(grid)s AND resolution = %(resolution)s"),
            {"grid": zones.grid, "resolution": zones.resolution},
        )
    tables = conn.execute(queries("zonal")["polygon_tables"], {"release_id": zones.release_id}).fetchall()
    if not tables:
        raise InvalidInput(
            f"Release {zones.release_id} has no polygons to use as zones.",
            "Name a served vector release of polygons, or an H3 grid, as `zones`.",
        )
    table = tables[0]
    return ZoneTable(
        sql.Identifier(table["schema_name"], table["table_name"]),
        "objectid",
        table["geometry_column"],
        sql.SQL("true"),
        {},
    )


def combined_access(releases: list[ServedRelease]) -> tuple[str, list[str]]:
    """The most restrictive access level of the inputs (public < ouo < restricted); restricted,
    only the roles every restricted input grants."""
    level = max((r.access_level for r in releases), key=ACCESS_LEVELS.index, default="public")
    if level != "restricted":
        return level, []
    grants = [set(r.granted_roles) for r in releases if r.access_level == "restricted"]
    return level, sorted(set.intersection(*grants))
