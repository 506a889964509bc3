"""What GEOS cannot read, PostGIS reads for the prepare stage: curves become lines and polygons,
TINs and polyhedral surfaces their faces; a geometry PostGIS cannot read either comes back None
without failing the others."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import shapely
from psycopg.rows import dict_row

from terrace.ingest.vector.prepare import _linearize

WKT = {
    "CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 2 0, 1 -1, 0 0))": ("MultiPolygon", math.pi),
    "MULTISURFACE(CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 2 0, 1 -1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))": (
        "MultiPolygon",
        math.pi + 0.5,
    ),
    "COMPOUNDCURVE((0 0, 1 0), CIRCULARSTRING(1 0, 2 1, 3 0))": ("MultiLineString", 1 + math.pi),
    "TIN Z (((0 0 0, 1 0 0, 0 1 0, 0 0 0)), ((1 0 0, 1 1 0, 0 1 0, 1 0 0)))": ("MultiPolygon", 1.0),
    "GEOMETRYCOLLECTION(POLYHEDRALSURFACE(((0 0, 2 0, 2 2, 0 0))), POLYGON((5 5, 6 5, 6 6, 5 5)))": (
        "MultiPolygon",
        2.5,
    ),
}


@dataclass
class Context:
    database_url: str

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection[dict]]:  # type: ignore[type-arg]
        with psycopg.connect(self.database_url, autocommit=autocommit, row_factory=dict_row) as conn:
            yield conn


def test_curves_and_surfaces_become_what_geos_reads(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        wkb = [conn.execute("SELECT ST_AsBinary(ST_GeomFromText(%s))", (w,)).fetchone()[0] for w in WKT]  # type: ignore[index]
    unreadable = b"\x01\x99\x00\x00\x00"
    read = _linearize(Context(database_url), [*wkb, unreadable])  # type: ignore[arg-type]
    assert read[-1] is None
    geoms = shapely.from_wkb(read[:-1])
    for geom, (kind, measure) in zip(geoms, WKT.values(), strict=True):
        assert geom.geom_type == kind
        size = geom.area if kind == "MultiPolygon" else geom.length
        assert abs(size - measure) < 2e-3 * measure  # 32 segments a quarter circle
