"""The area a grid covers: a longitude/latitude box, or the polygons of a served vector release.

A box with minx > maxx crosses the antimeridian and becomes two polygons cut at ±180°. A
release is resolved as the catalog resolves it for its caller (only a served version the caller
may see), and its polygons are read from its served tables.
"""

from __future__ import annotations

import math
from typing import Any

import h3
import shapely
from psycopg import sql
from pydantic import Field, field_validator, model_validator

from terrace.catalog.releases import release_tables
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import InvalidInput, NotFound
from terrace.orchestration.definitions import Contract
from terrace.platform import resolve
from terrace.platform.visibility import Viewer

EARTH_RADIUS_M = 6_371_007.2  # the authalic radius h3 computes areas with


class AreaRequest(Contract):
    """Where a grid goes: `bbox`, or a served polygon release by dataset, resource and version."""

    bbox: list[float] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="[minx, miny, maxx, maxy] in degrees; minx > maxx crosses the antimeridian.",
    )
    dataset_id: str | None = Field(default=None, max_length=100)
    resource_id: str | None = Field(default=None, max_length=100)
    version_id: str | None = Field(default=None, max_length=40, description="Default: the latest served.")

    @field_validator("bbox")
    @classmethod
    def _box(cls, bbox: list[float] | None) -> list[float] | None:
        if bbox is None:
            return None
        minx, miny, maxx, maxy = bbox
        if not all(math.isfinite(v) for v in bbox):
            raise ValueError("bbox values must be finite numbers")
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180) or minx == maxx:
            raise ValueError("minx and maxx must differ and lie in [-180, 180] (minx > maxx crosses ±180°)")
        if not -90 <= miny < maxy <= 90:
            raise ValueError("miny must be below maxy, both in [-90, 90]")
        return bbox

    @model_validator(mode="after")
    def _one_kind(self) -> AreaRequest:
        release = self.dataset_id is not None or self.resource_id is not None or self.version_id is not None
        if (self.bbox is None) == (not release) or (release and not (self.dataset_id and self.resource_id)):
            raise ValueError(
                'give either {"bbox": [minx, miny, maxx, maxy]} '
                'or {"dataset_id", "resource_id", "version_id"?}'
            )
        return self


class Area(AreaRequest):
    """An area as a grid records it: a served release resolved to its version and release_id."""

    release_id: str | None = None


def resolve_area(conn: Connection, viewer: Viewer, request: AreaRequest) -> Area:
    """The area with its release resolved (NotFound if the viewer may not see a served version)."""
    if request.bbox is not None:
        return Area(bbox=request.bbox)
    assert request.dataset_id and request.resource_id
    if request.version_id is None:
        release = resolve.latest(conn, viewer, request.dataset_id, request.resource_id)
    else:
        release = resolve.version(conn, viewer, request.dataset_id, request.resource_id, request.version_id)
    if (
        release["approval_state"] != "approved"
        or not release["is_served"]
        or release["data_type"] != "vector"
    ):
        raise NotFound(
            f"{release['dataset_id']}/{release['resource_id']} {release['version_id']} is not a served "
            "vector release.",
            "Name a served vector version (see /api/platform/catalog/{dataset}/{resource}/versions).",
        )
    return Area(
        dataset_id=release["dataset_id"],
        resource_id=release["resource_id"],
        version_id=release["version_id"],
        release_id=release["release_id"],
    )


def geometry(conn: Connection, area: Area) -> shapely.Geometry:
    """The area as one longitude/latitude geometry, cut at ±180°."""
    if area.bbox is not None:
        minx, miny, maxx, maxy = area.bbox
        if minx > maxx:
            return shapely.MultiPolygon(
                [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]
            )
        return shapely.box(minx, miny, maxx, maxy)
    parts = [
        shapely.from_wkb(row["value"])
        for table, column in _polygon_tables(conn, area)
        for row in conn.execute(_polygons(table, column, "ST_AsBinary({})"))
    ]
    return shapely.make_valid(shapely.union_all(parts)) if parts else shapely.Polygon()


def square_metres(conn: Connection, area: Area) -> float:
    """The area's extent on the sphere (for a release, the sum of its polygons' areas)."""
    if area.bbox is not None:
        minx, miny, maxx, maxy = area.bbox
        width = maxx - minx if maxx > minx else maxx - minx + 360
        return (
            EARTH_RADIUS_M**2
            * math.radians(width)
            * (math.sin(math.radians(maxy)) - math.sin(math.radians(miny)))
        )
    return sum(
        fetch_one(conn, _polygons(table, column, "coalesce(sum(ST_Area({}::geography)), 0)"))["value"]
        for table, column in _polygon_tables(conn, area)
    )


def estimated_cells(square_m: float, resolutions: list[int]) -> int:
    """About how many cells cover `square_m` at each of `resolutions`, added up."""
    return sum(math.ceil(square_m / h3.average_hexagon_area(r, unit="m^2")) + 1 for r in resolutions)


def _polygon_tables(conn: Connection, area: Area) -> list[tuple[str, str]]:
    """(table, geometry column) of each served table of the release."""
    assert area.release_id is not None
    found = []
    for table in release_tables(conn, area.release_id):
        if table["schema_name"] != SERVED_SCHEMA:
            continue
        row = conn.execute(
            queries("grids")["geometry_column"], {"schema": SERVED_SCHEMA, "table": table["table_name"]}
        ).fetchone()
        if row is not None:
            found.append((table["table_name"], row["column_name"]))
    if not found:
        raise InvalidInput(
            f"{area.dataset_id}/{area.resource_id} {area.version_id} has no served table with geometries.",
            "Give a bbox, or a served vector release of polygons.",
        )
    return found


def _polygons(table: str, column: str, expression: str) -> sql.Composed:
    """`expression` (with {} for the geometry) over the polygons of a served table, as `value`."""
    selected: Any = sql.SQL(expression).format(sql.Identifier(column))
    return sql.SQL("SELECT {} AS value FROM {} WHERE ST_Dimension({}) = 2").format(
        selected, sql.Identifier(SERVED_SCHEMA, table), sql.Identifier(column)
    )
