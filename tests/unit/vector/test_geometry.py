"""The vectorized geometry steps give exactly what GEOS gives one geometry at a time."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from terrace.ingest.vector.geometry import multi_wkb

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
    written = shapely.from_wkb(
        multi_wkb(geoms, np.full(len(geoms), FAMILY[name])).to_numpy(zero_copy_only=False)
    )
    assert set(shapely.get_type_id(written)) == {4 + FAMILY[name]}
    assert shapely.equals(written, geoms).all()
    assert (shapely.has_z(written) == shapely.has_z(geoms)).all()


def test_wrapped_wkb_is_byte_for_byte_what_geos_writes_for_the_multi() -> None:
    polygons = np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)], dtype=object)
    expected = shapely.to_wkb(shapely.multipolygons(polygons[:, np.newaxis]), flavor="iso", byte_order=1)
    assert multi_wkb(polygons, np.full(2, 2)).to_pylist() == list(expected)


def test_multi_wkb_of_nothing_is_empty() -> None:
    assert len(multi_wkb(np.array([], dtype=object), np.array([], dtype=np.int8))) == 0
