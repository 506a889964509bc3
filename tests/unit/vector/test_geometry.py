"""The vectorized geometry steps give exactly what GEOS gives one geometry at a time."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from terrace.ingest.vector.geometry import _multi, ewkb_hex

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
def test_multi_wraps_single_parts_and_keeps_multis(name: str) -> None:
    multi = _multi(SAMPLES[name], FAMILY[name])
    assert set(shapely.get_type_id(multi)) == {4 + FAMILY[name]}
    assert shapely.equals(multi, SAMPLES[name]).all()


@pytest.mark.parametrize("name", SAMPLES)
def test_hex_ewkb_is_what_geos_writes(name: str) -> None:
    geoms = _multi(SAMPLES[name], FAMILY[name])
    expected = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    assert ewkb_hex(geoms).to_pylist() == list(expected)


def test_hex_ewkb_of_nothing_is_empty() -> None:
    assert len(ewkb_hex(np.array([], dtype=object))) == 0
