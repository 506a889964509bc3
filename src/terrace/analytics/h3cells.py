"""H3 cells as arrays: filling an area, parents by index arithmetic, and polygons that stay right
across the antimeridian and at the poles.

Cells are `uint64` numpy arrays (an H3 index never sets its top bit, so it fits a BIGINT as is).
Areas are shapely geometries in longitude/latitude, already cut at ±180°. Filling uses h3-py's
`h3shape_to_cells_experimental` on whole polygons: with contain="center" it selects what
`polygon_to_cells` does, and unlike that function's algorithm it handles polygons reaching a pole
(the pinned h3 range keeps its signature). Polygons come from h3ronpy as WKB in one call; only the
few cells drawn wider than 180° (crossing the antimeridian or holding a pole) are rebuilt one by one.
"""

from __future__ import annotations

from collections.abc import Iterator

import h3
import h3ronpy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from h3ronpy.vector import cells_to_wkb_polygons

H3 = h3.api.numpy_int
MAX_RESOLUTION = 15
_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT
# The ISO WKB header of a MultiPolygon of one part (little-endian): prepended to a Polygon's WKB.
_MULTI_HEADER = pa.scalar(b"\x01" + (6).to_bytes(4, "little") + (1).to_bytes(4, "little"), pa.binary())
_WEST = shapely.box(-180, -90, 0, 90)
_EAST = shapely.box(0, -90, 180, 90)
_WORLD = shapely.box(-180, -90, 180, 90)
_BEYOND = shapely.box(180, -90, 540, 90)  # east of the antimeridian, in shifted longitudes


def _digits_below(res: int) -> np.uint64:
    """The bits of the index digits finer than `res` (3 bits a digit, digit 15 lowest)."""
    return np.uint64((1 << (3 * (MAX_RESOLUTION - res))) - 1)


def parents(cells: np.ndarray, res: int) -> np.ndarray:
    """The parent of each cell at `res` (not finer than the cells): the resolution field set to
    `res` and the digits below it set to 7 ("unused"), as the H3 index layout defines."""
    cells = cells.astype(np.uint64, copy=False)
    return (cells & ~_RES_MASK) | (np.uint64(res) << _RES_SHIFT) | _digits_below(res)


def descendant_range(first: int, last: int, parent_res: int, res: int) -> tuple[int, int]:
    """Bounds of the indexes at `res` that descend from the cells at `parent_res` from `first` to
    `last` (in index order): such descendants form one range, which holds no other cell at `res`."""
    at_res = np.uint64(res) << _RES_SHIFT
    low = (np.uint64(first) & ~_RES_MASK & ~_digits_below(parent_res)) | at_res | _digits_below(res)
    high = (np.uint64(last) & ~_RES_MASK) | at_res
    return int(low), int(high)


def fill(area: shapely.Geometry, res: int) -> np.ndarray:
    """The cells at `res` whose centre lies in `area` (h3's polygon_to_cells), sorted."""
    found = [H3.h3shape_to_cells_experimental(shape, res, contain="center") for shape in _shapes(area)]
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)


def cover(area: shapely.Geometry, res: int) -> np.ndarray:
    """The cells at `res` that overlap `area`, and their neighbours, sorted: every cell whose
    descendants can have a centre in `area` (descendants reach less than a cell beyond it)."""
    found = [H3.h3shape_to_cells_experimental(shape, res, contain="overlap") for shape in _shapes(area)]
    return neighbourhood(np.concatenate(found)) if found else np.empty(0, np.uint64)


def neighbourhood(cells: np.ndarray) -> np.ndarray:
    """The cells and their neighbours, sorted."""
    return np.unique(np.asarray(pa.array(h3ronpy.grid_disk(cells, 1, flatten=True)), dtype=np.uint64))


def polygons(cells: np.ndarray) -> pa.BinaryArray:
    """ISO WKB MultiPolygons of the cells, in order. A cell crossing the antimeridian is cut into
    its parts east and west of it; a cell holding a pole reaches it along ±180°."""
    if not len(cells):
        return pa.array([], pa.binary())
    wkb = pa.array(cells_to_wkb_polygons(cells))
    multi = pc.binary_join_element_wise(_MULTI_HEADER, wkb.cast(pa.binary()), pa.scalar(b"", pa.binary()))
    wide = _longitude_spans(wkb) > 180
    if not wide.any():
        return multi
    fixed = shapely.to_wkb([_wrapped(int(cell)) for cell in cells[wide]], flavor="iso")
    return pc.replace_with_mask(multi, pa.array(wide), pa.array(fixed.tolist(), pa.binary()))


def _longitude_spans(wkb: pa.LargeBinaryArray) -> np.ndarray:
    """max - min longitude of each polygon, read straight from the WKB h3ronpy writes: one ring of
    little-endian 2D points after a 13-byte header (byte order, type, ring count, point count)."""
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int64)[wkb.offset : wkb.offset + len(wkb) + 1]
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)
    points = (np.diff(offsets) - 13) // 16
    first = np.cumsum(points) - points  # each polygon's first point among all points
    within = np.arange(points.sum()) - np.repeat(first, points)
    at = np.repeat(offsets[:-1] + 13, points) + 16 * within
    x = data[at[:, None] + np.arange(8)].copy().view("<f8").ravel()
    return np.maximum.reduceat(x, first) - np.minimum.reduceat(x, first)


def shapes(cells: np.ndarray) -> np.ndarray:
    """The cells' polygons (as `polygons` draws them) as shapely geometries."""
    return shapely.from_wkb(polygons(cells).to_numpy(zero_copy_only=False))


def _wrapped(cell: int) -> shapely.MultiPolygon:
    """A cell drawn wider than 180° in longitude, drawn right."""
    lat, lng = np.asarray(H3.cell_to_boundary(cell)).T
    if _holds_pole(cell, lat):
        return shapely.MultiPolygon([_polar(lat, lng)])
    shifted = shapely.Polygon(np.column_stack([np.where(lng < 0, lng + 360, lng), lat]))
    west = shapely.intersection(shifted, _WORLD)
    east = shapely.transform(shapely.intersection(shifted, _BEYOND), lambda xy: xy - [360.0, 0.0])
    return shapely.MultiPolygon([p for part in (west, east) for p in shapely.get_parts(part) if p.area > 0])


def _holds_pole(cell: int, lat: np.ndarray) -> bool:
    pole = 90.0 if lat.mean() > 0 else -90.0
    return bool(H3.latlng_to_cell(pole, 0.0, H3.get_resolution(cell)) == cell)


def _polar(lat: np.ndarray, lng: np.ndarray) -> shapely.Polygon:
    """The cell around a pole: its vertices by longitude, closed along ±180° and the pole's line."""
    order = np.argsort(lng)
    lat, lng = lat[order], lng[order]
    # where the edge from the easternmost vertex to the westernmost crosses ±180°
    t = (180 - lng[-1]) / (lng[0] + 360 - lng[-1])
    crossing = lat[-1] + t * (lat[0] - lat[-1])
    pole = 90.0 if lat.mean() > 0 else -90.0
    ring = [(-180.0, crossing), *zip(lng, lat, strict=True), (180.0, crossing), (180.0, pole), (-180.0, pole)]
    return shapely.Polygon(ring)


def _shapes(area: shapely.Geometry) -> Iterator[h3.H3Shape]:
    """The polygons of `area` as h3 shapes, each under 180° wide (h3 takes a wider edge as one
    crossing the antimeridian)."""
    for polygon in shapely.get_parts(area):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        xmin, _, xmax, _ = polygon.bounds
        halves = [polygon] if xmax - xmin <= 180 else [polygon & _WEST, polygon & _EAST]
        for half in halves:
            for part in shapely.get_parts(half):
                if part.geom_type == "Polygon" and part.area > 0:
                    yield h3.geo_to_h3shape(part)
