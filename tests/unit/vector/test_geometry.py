"""The vectorized geometry steps give exactly what GEOS gives one geometry at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely

from terrace.ingest.vector.wkb import multi_wkb

SAMPLES = {
    "points": shapely.points(np.arange(5.0), np.arange(5.0)),
    "points_z": shapely.points(np.arange(3.0), np.arange(3.0), np.arange(3.0)),
    "lines": np.array(
        [shapely.LineString([(0, 0), (1, 1)]), shapely.LinearRing([(0, 0), (1, 0), (1, 1)])], dtype=object
    ),
    "polygons": np.array(
        [shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3), shapely.box(4, 4, 5, 5)])],
        dtype=object,
    ),
}
FAMILY = {"points": 0, "points_z": 0, "lines": 1, "polygons": 2}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_geometry_becomes_its_multi_type(name: str) -> None:
    geoms = SAMPLES[name]
    written = shapely.from_wkb(multi_wkb(geoms, FAMILY[name]).to_numpy(zero_copy_only=False))
    assert set(shapely.get_type_id(written)) == {4 + FAMILY[name]}
    assert shapely.equals(written, geoms).all()
    assert (shapely.has_z(written) == shapely.has_z(geoms)).all()


def test_wrapped_wkb_is_byte_for_byte_what_geos_writes_for_the_multi() -> None:
    polygons = np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)], dtype=object)
    expected = shapely.to_wkb(shapely.multipolygons(polygons[:, np.newaxis]), flavor="iso", byte_order=1)
    assert multi_wkb(polygons, 2).to_pylist() == list(expected)


def test_multi_wkb_of_nothing_is_empty() -> None:
    assert len(multi_wkb(np.array([], dtype=object), 2)) == 0


def test_rings_are_oriented_as_geos_orients_them() -> None:
    clockwise = shapely.Polygon([(0, 0), (0, 4), (4, 4), (4, 0)], [[(1, 1), (2, 1), (2, 2), (1, 1)]])
    polygons = np.array(
        [
            clockwise,
            shapely.MultiPolygon([clockwise, shapely.box(10, 10, 11, 11)]),
            shapely.box(1e7, 1e7, 1e7 + 1e-3, 1e7 + 1e-3, ccw=False),
            shapely.box(0, 0, 1, 1),
        ],
        dtype=object,
    )
    expected = shapely.to_wkb(
        shapely.orient_polygons(
            shapely.multipolygons(shapely.get_parts(polygons), indices=[0, 1, 1, 2, 3]), exterior_cw=False
        ),
        flavor="iso",
    )
    assert multi_wkb(polygons, 2).to_pylist() == list(expected)


def test_wkb_as_read_is_reused_and_oriented() -> None:
    clockwise = shapely.box(0, 0, 1, 1, ccw=False)
    read = pa.array([shapely.to_wkb(clockwise, flavor="iso"), None], pa.binary())
    polygons = np.array([clockwise, shapely.box(5, 5, 6, 6)], dtype=object)
    written = shapely.from_wkb(multi_wkb(polygons, 2, read).to_numpy(zero_copy_only=False))
    assert shapely.equals(written, polygons).all()
    assert shapely.is_ccw(shapely.get_exterior_ring(shapely.get_geometry(written, 0))).all()
