"""The vectorized H3 geometry: fills equal h3-py's, parents and index ranges by arithmetic equal
h3-py's, and polygons stay right across the antimeridian and around the poles."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely

from terrace.analytics import h3cells
from terrace.analytics.jobs import coarse_resolution

H3 = h3.api.numpy_int


def box_poly(minx: float, miny: float, maxx: float, maxy: float) -> h3.LatLngPoly:
    return h3.LatLngPoly([(miny, minx), (miny, maxx), (maxy, maxx), (maxy, minx)])


@pytest.mark.parametrize("res", [0, 4, 7, 9])
def test_fill_equals_polygon_to_cells(res: int) -> None:
    box = (-3.2, 50.1, -2.1, 51.0)
    expected = np.sort(np.asarray(H3.polygon_to_cells(box_poly(*box), res), dtype=np.uint64))
    assert np.array_equal(h3cells.fill(shapely.box(*box), res), expected)


@pytest.mark.parametrize("res", [1, 6, 11])
def test_parents_equal_cell_to_parent(res: int) -> None:
    cells = h3cells.fill(shapely.box(100, -5, 100.02, -4.98), 12)[::97]
    expected = np.array([H3.cell_to_parent(int(c), res) for c in cells], dtype=np.uint64)
    assert np.array_equal(h3cells.parents(cells, res), expected)


def test_descendant_range_holds_exactly_the_descendants() -> None:
    parents = h3cells.fill(shapely.box(10, 10, 14, 13), 4)
    run = parents[3:9]
    low, high = h3cells.descendant_range(int(run[0]), int(run[-1]), 4, 7)
    everything = np.concatenate([H3.cell_to_children(int(p), 7) for p in parents]).astype(np.uint64)
    inside = everything[(everything >= low) & (everything <= high)]
    expected = np.concatenate([H3.cell_to_children(int(p), 7) for p in run]).astype(np.uint64)
    assert np.array_equal(np.sort(inside), np.sort(expected))


def test_polygons_match_cell_boundaries() -> None:
    cells = h3cells.fill(shapely.box(0, 0, 1, 1), 6)
    shapes = h3cells.shapes(cells)
    assert all(s.geom_type == "MultiPolygon" and len(s.geoms) == 1 for s in shapes)
    for cell, shape in zip(cells[:20], shapes[:20], strict=True):
        lat, lng = np.asarray(H3.cell_to_boundary(int(cell))).T
        assert np.allclose(shapely.get_coordinates(shape)[:-1], np.column_stack([lng, lat]))


def test_cells_across_the_antimeridian_are_cut_there() -> None:
    area = shapely.MultiPolygon([shapely.box(179.5, -1, 180, 1), shapely.box(-180, -1, -179.5, 1)])
    cells = h3cells.fill(area, 5)
    shapes = h3cells.shapes(cells)
    parts = shapely.get_parts(shapes)
    widths = shapely.bounds(parts)[:, 2] - shapely.bounds(parts)[:, 0]
    assert widths.max() < 1  # no part smeared across the globe
    split = shapes[shapely.get_num_geometries(shapes) == 2]
    assert len(split) > 10
    for shape in split:
        east, west = sorted(shape.geoms, key=lambda p: p.bounds[0])
        assert east.bounds[0] == -180 and west.bounds[2] == 180
    # the parts of each cut cell add up to the cell as h3 measures it (planar, in degrees)
    cut = int(cells[shapely.get_num_geometries(shapes) == 2][0])
    lat, lng = np.asarray(H3.cell_to_boundary(cut)).T
    whole = shapely.Polygon(np.column_stack([np.where(lng < 0, lng + 360, lng), lat]))
    assert shapely.area(h3cells.shapes(np.array([cut], np.uint64))[0]) == pytest.approx(whole.area)


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_the_cell_holding_a_pole_reaches_it(pole: float) -> None:
    cap = shapely.box(-180, 88, 180, 90) if pole > 0 else shapely.box(-180, -90, 180, -88)
    cells = h3cells.fill(cap, 3)
    holder = H3.latlng_to_cell(pole, 0, 3)
    assert holder in cells
    shapes = h3cells.shapes(cells)
    at_pole = shapely.intersects(shapes, shapely.Point(37, pole))
    assert cells[at_pole].tolist() == [holder]
    polar = shapes[list(cells).index(holder)]
    assert polar.is_valid and polar.bounds[0] == -180 and polar.bounds[2] == 180
    # everything closer to the pole than the cell's nearest vertex is inside it
    lat = np.abs(np.asarray(H3.cell_to_boundary(int(holder)))[:, 0])
    assert polar.covers(
        shapely.box(-180, lat.max(), 180, 90) if pole > 0 else shapely.box(-180, -90, 180, -lat.max())
    )


def test_cover_reaches_every_parent_of_the_fill() -> None:
    area = shapely.box(30.02, 10.01, 30.05, 10.03)  # much smaller than a resolution-2 cell
    covered = set(h3cells.cover(area, 2).tolist())
    assert set(h3cells.parents(h3cells.fill(area, 9), 2).tolist()) <= covered


def test_coarse_resolution_is_never_finer_than_the_grid() -> None:
    assert coarse_resolution([6, 7, 8]) == 3
    assert coarse_resolution([9]) == 4
    assert coarse_resolution([2, 12]) == 2
    assert coarse_resolution([0, 3]) == 0
