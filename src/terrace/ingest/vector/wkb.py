"""The MULTI WKB of cleaned geometries, written through GeoArrow: rings oriented in numpy, and the
source's own WKB reused for every geometry cleaning left as it was read."""

from __future__ import annotations

import geoarrow.pyarrow as ga
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

MULTI_TYPES = (ga.multipoint(), ga.multilinestring(), ga.multipolygon())
POLYGON = 2


def multi_wkb(geoms: np.ndarray, family: int, source: pa.BinaryArray | None = None) -> pa.BinaryArray:
    """ISO WKB of `geoms` (all of one family) as the family's MULTI type, polygons with their
    exterior rings counter-clockwise and their holes clockwise (SPEC §4).

    `source` holds, per geometry, the WKB it was read from, or null where cleaning changed it:
    only those are written by GEOS; GeoArrow turns the rest into MULTIs without GEOS objects.
    """
    if source is None:
        wkb = _written(geoms)
    else:
        missing = source.is_null()
        wkb = pc.replace_with_mask(source, missing, _written(geoms[missing.to_numpy(zero_copy_only=False)]))
    target = MULTI_TYPES[family]
    if shapely.has_z(geoms).any():
        target = target.with_dimensions(ga.Dimensions.XYZ)
    native = ga.as_geoarrow(ga.wkb().wrap_array(wkb), target)
    if family == POLYGON:
        native = target.wrap_array(_oriented(native.storage))
    return ga.as_wkb(native).storage


def plain(array: pa.Array) -> pa.BinaryArray:
    """WKB as a plain binary array, whatever extension type or width the reader gave it."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array.type, pa.ExtensionType):
        array = array.storage
    return array.cast(pa.binary())


def _written(geoms: np.ndarray) -> pa.BinaryArray:
    # through a list: Arrow converts a list of bytes several times faster than an object array
    return pa.array(shapely.to_wkb(geoms, flavor="iso", output_dimension=3).tolist(), pa.binary())


def _oriented(multipolygons: pa.ListArray) -> pa.ListArray:
    """The same multipolygons with every exterior ring counter-clockwise and every hole clockwise:
    a ring of the wrong sign of area (shoelace, relative to its first vertex) is reversed."""
    polygons = multipolygons.values
    rings = polygons.values
    vertices = rings.values
    ring_offsets = rings.offsets.to_numpy()
    starts, ends = ring_offsets[:-1], ring_offsets[1:]
    exterior = np.zeros(len(starts), dtype=bool)
    exterior[polygons.offsets.to_numpy()[:-1][np.diff(polygons.offsets.to_numpy()) > 0]] = True
    x, y = (vertices.field(name).to_numpy() for name in ("x", "y"))
    ring_of_vertex = np.repeat(np.arange(len(starts)), ends - starts)
    dx, dy = x - x[starts][ring_of_vertex], y - y[starts][ring_of_vertex]
    cross = dx[:-1] * dy[1:] - dx[1:] * dy[:-1]
    cross = np.append(cross, 0.0)
    cross[ends[ends > 0] - 1] = 0.0  # no term from a ring's last vertex to the next ring's first
    area = np.add.reduceat(cross, starts) if len(starts) and len(cross) else np.zeros(len(starts))
    area[starts == ends] = 0.0
    wrong = np.where(exterior, area < 0, area > 0)
    if not wrong.any():
        return multipolygons
    order = np.arange(len(x))
    flip = wrong[ring_of_vertex]
    order[flip] = (starts + ends - 1)[ring_of_vertex[flip]] - order[flip]
    fields = [vertices.field(i).take(pa.array(order)) for i in range(vertices.type.num_fields)]
    flipped = pa.StructArray.from_arrays(fields, fields=list(vertices.type))
    return pa.ListArray.from_arrays(
        multipolygons.offsets,
        pa.ListArray.from_arrays(
            polygons.offsets,
            pa.ListArray.from_arrays(rings.offsets, flipped, type=rings.type),
            type=polygons.type,
        ),
        type=multipolygons.type,
    )
