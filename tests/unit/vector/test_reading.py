"""Geometries as real files hold them: what GEOS cannot read is read otherwise or dropped with a
reason, measures are dropped, and a collection of several geometry types is split, not lost."""

from __future__ import annotations

import struct

import numpy as np
import shapely

from terrace.ingest.vector.geometry import clean
from terrace.ingest.vector.wkb import multi_wkb

CIRCLE = bytes.fromhex(  # CIRCULARSTRING(0 0, 1 1, 2 0), which GEOS does not read
    "0108000000030000000000000000000000000000000000000000000000000000f03f000000000000f03f"
    "00000000000000400000000000000000"
)
# POLYGON((0 0, 1 0, 1 1, 0 1)): a ring GDAL hands over as stored, unclosed
UNCLOSED = struct.pack("<BIII8d", 1, 3, 1, 4, 0, 0, 1, 0, 1, 1, 0, 1)


def no_curves(wkb: list[bytes]) -> list[bytes | None]:
    raise AssertionError("nothing for PostGIS expected")


def wkb(*geoms: shapely.Geometry) -> np.ndarray:
    return shapely.to_wkb(np.array(geoms, dtype=object), flavor="iso")


def test_what_geos_cannot_read_goes_to_postgis_and_what_no_one_reads_is_dropped() -> None:
    asked: list[list[bytes]] = []

    def postgis(batch: list[bytes]) -> list[bytes | None]:
        asked.append(batch)
        return [shapely.to_wkb(shapely.LineString([(0, 0), (1, 1), (2, 0)])), None]

    batch = np.array(
        [shapely.to_wkb(shapely.Point(5, 5)), CIRCLE, b"\x01\x99\x00\x00\x00", None], dtype=object
    )
    cleaned = clean(batch, None, False, postgis)
    assert asked == [[CIRCLE, b"\x01\x99\x00\x00\x00"]]
    assert cleaned.kept.tolist() == [True, True, False, False]
    assert cleaned.families.tolist() == [0, 1]
    assert sorted(cleaned.report) == [
        (1, "NONLINEAR_CONVERTED"),
        (2, "GEOMETRY_UNREADABLE_DROPPED"),
        (3, "NULL_GEOMETRY_DROPPED"),
    ]


def test_an_unclosed_ring_is_closed_and_reported() -> None:
    cleaned = clean(np.array([UNCLOSED], dtype=object), None, False, no_curves)
    (square,) = cleaned.geometries
    assert shapely.is_valid(square) and shapely.area(square) == 1
    assert cleaned.report == [(0, "GEOMETRY_REPAIRED")]


def test_measures_are_dropped_and_z_kept_when_asked() -> None:
    xym = shapely.from_wkt("POINT M (1 2 3)")
    xyzm = shapely.from_wkt("LINESTRING ZM (0 0 1 7, 1 1 2 8)")
    for keep_z, dimensions in ((False, [2, 2]), (True, [2, 3])):
        cleaned = clean(wkb(xym, xyzm), None, keep_z, no_curves)
        assert ("M_DROPPED" in cleaned.counts) and cleaned.counts["M_DROPPED"] == 2
        written = shapely.from_wkb(
            [
                wkb
                for family in (0, 1)
                for wkb in multi_wkb(cleaned.geometries[cleaned.families == family], family).to_pylist()
            ]
        )
        assert not shapely.has_m(written).any()
        assert shapely.get_coordinate_dimension(written).tolist() == dimensions


def test_a_collection_of_several_types_is_split_into_a_row_per_type() -> None:
    mixed = shapely.GeometryCollection(
        [shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)]), shapely.Point(2, 2)]
    )
    cleaned = clean(wkb(shapely.box(0, 0, 1, 1), mixed, shapely.Point(3, 3)), None, False, no_curves)
    assert cleaned.kept_rows.tolist() == [0, 1, 1, 2]
    assert cleaned.families.tolist() == [2, 0, 1, 0]
    assert shapely.equals(cleaned.geometries[1], shapely.MultiPoint([(0, 0), (2, 2)]))
    assert cleaned.report == [(1, "MIXED_COLLECTION_SPLIT")]
