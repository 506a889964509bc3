"""The cleaning sequence of SPEC §4, vectorized with shapely 2: every repair is counted and every
dropped or repaired feature is reported with its source row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely

FAMILIES = ("point", "line", "polygon")
# shapely type id → family index (0 point, 1 line, 2 polygon); 7 is GeometryCollection
FAMILY_OF_TYPE = {0: 0, 1: 1, 2: 1, 3: 2, 4: 0, 5: 1, 6: 2}
# the same as an array indexed by type id + 1 (type id -1 is a missing geometry, 7 a collection)
FAMILY_LOOKUP = np.array([-1, 0, 1, 1, 2, 0, 1, 2, -1], dtype=np.int8)
MULTI = (shapely.multipoints, shapely.multilinestrings, shapely.multipolygons)
# shapely type id → True for the single-part types (Point, LineString, LinearRing, Polygon)
SINGLE = np.array([True, True, True, True, False, False, False, False])
# A MULTI WKB header holding one part, little-endian, by family (+3 with Z): the ISO WKB of a
# single geometry becomes its MULTI type by prepending this; the part keeps its own bytes.
MULTI_HEADERS = pa.array(
    [b""]
    + [
        b"\x01" + code.to_bytes(4, "little") + (1).to_bytes(4, "little")
        for code in (4, 5, 6, 1004, 1005, 1006)
    ],
    pa.binary(),
)
WORLD = shapely.box(-180, -90, 180, 90)
EAST_OF_ANTIMERIDIAN = shapely.box(180, -90, 540, 90)


@dataclass
class Cleaned:
    geometries: np.ndarray  # geometries in EPSG:4326 of the kept rows, single or MULTI
    families: np.ndarray  # family index of each kept row
    kept: np.ndarray  # boolean mask over the batch's rows
    counts: Counter[str] = field(default_factory=Counter)
    report: list[tuple[int, str]] = field(default_factory=list)  # (row in the batch, reason code)


def clean(wkb: np.ndarray, transformer: pyproj.Transformer | None, keep_z: bool) -> Cleaned:
    """Clean one batch of WKB geometries; a transformer reprojects to EPSG:4326."""
    result = Cleaned(np.empty(0, dtype=object), np.empty(0, dtype=np.int8), np.ones(len(wkb), dtype=bool))
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    _drop(result, shapely.is_missing(geoms) | shapely.is_empty(geoms), "NULL_GEOMETRY_DROPPED")
    geoms = geoms.copy()
    geoms[~result.kept] = None
    geoms, families = _families(result, geoms)
    invalid = result.kept & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = _keep_family(shapely.make_valid(geoms[invalid]), families[invalid])
        _note(result, invalid, "GEOMETRY_REPAIRED")
    if not keep_z:
        has_z = result.kept & shapely.has_z(geoms)
        if has_z.any():
            geoms[has_z] = shapely.force_2d(geoms[has_z])
            _note(result, has_z, "Z_DROPPED")
    kept = result.kept
    if transformer is not None:  # None: the data is in EPSG:4326 already
        geoms[kept] = shapely.transform(geoms[kept], _projector(transformer), include_z=keep_z)
    crossing = np.zeros(len(geoms), dtype=bool)
    crossing[kept] = np.diff(shapely.bounds(geoms[kept])[:, [0, 2]], axis=1)[:, 0] > 180
    if crossing.any():
        geoms[crossing] = _split_at_antimeridian(geoms[crossing])
        _note(result, crossing, "ANTIMERIDIAN_FIXED")
    polygons = kept & (families == 2)
    geoms[polygons] = shapely.orient_polygons(geoms[polygons], exterior_cw=False)
    result.geometries, result.families = geoms[kept], families[kept]
    return result


def _projector(transformer: pyproj.Transformer):  # type: ignore[no-untyped-def]
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y, coords[:, 2]]) if coords.shape[1] == 3 else np.column_stack([x, y])

    return project


def _families(result: Cleaned, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Family of each geometry; a collection of one family becomes that family, mixed ones drop."""
    types = shapely.get_type_id(geoms)
    families = FAMILY_LOOKUP[np.clip(types, -1, 7) + 1]
    collections = np.flatnonzero(result.kept & (types == 7))
    mixed = np.zeros(len(geoms), dtype=bool)
    for index in collections:
        parts = shapely.get_parts(geoms[index])
        kinds = {FAMILY_OF_TYPE.get(int(t), -1) for t in shapely.get_type_id(parts)}
        if len(kinds) == 1 and -1 not in kinds:
            family = kinds.pop()
            families[index], geoms[index] = family, MULTI[family](parts)
            result.counts["COLLECTION_CONVERTED"] += 1
            result.report.append((int(index), "COLLECTION_CONVERTED"))
        else:
            mixed[index] = True
    _drop(result, mixed, "MIXED_COLLECTION_DROPPED")
    return geoms, families


def _keep_family(geoms: np.ndarray, families: np.ndarray) -> np.ndarray:
    """make_valid may return collections (a polygon with a dangling line): keep the own family."""
    out = geoms.copy()
    for index in np.flatnonzero(shapely.get_type_id(geoms) == 7):
        parts = shapely.get_parts(geoms[index])
        same = parts[[FAMILY_OF_TYPE.get(int(t), -1) == families[index] for t in shapely.get_type_id(parts)]]
        out[index] = MULTI[families[index]](same)
    return out


def multi_wkb(geoms: np.ndarray, families: np.ndarray) -> pa.BinaryArray:
    """ISO WKB of `geoms` (of the given families), each as its family's MULTI type.

    GEOS writes every geometry once; single parts are wrapped by prepending a one-part MULTI
    header in one Arrow kernel, instead of building a MULTI object per geometry. PostGIS takes
    the SRID from the column type.
    """
    # through a list: Arrow converts a list of bytes several times faster than an object array
    wkb = pa.array(shapely.to_wkb(geoms, flavor="iso", output_dimension=3).tolist(), pa.binary())
    single = SINGLE[np.clip(shapely.get_type_id(geoms), 0, 7)]
    header = np.where(single, families.astype(np.int64) + 1 + 3 * shapely.has_z(geoms), 0)
    return pc.binary_join_element_wise(MULTI_HEADERS.take(pa.array(header)), wkb, pa.scalar(b"", pa.binary()))


def union_box(box: list[float] | None, other: list[float]) -> list[float]:
    """The bounding box [xmin, ymin, xmax, ymax] of two boxes; `box` may be None (nothing yet)."""
    if box is None:
        return other
    return [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]


def _split_at_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Cut geometries drawn across the ±180° meridian into their eastern and western parts."""

    def shift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0] = np.where(out[:, 0] < 0, out[:, 0] + 360, out[:, 0])
        return out

    def back(coords: np.ndarray) -> np.ndarray:
        return coords - np.array([360.0, 0.0])

    shifted = shapely.transform(geoms, shift)
    west = shapely.intersection(shifted, WORLD)
    east = shapely.transform(shapely.intersection(shifted, EAST_OF_ANTIMERIDIAN), back)
    return shapely.union(west, east)


def _drop(result: Cleaned, mask: np.ndarray, code: str) -> None:
    mask = mask & result.kept
    if mask.any():
        result.kept &= ~mask
        _note(result, mask, code)


def _note(result: Cleaned, mask: np.ndarray, code: str) -> None:
    rows = np.flatnonzero(mask)
    result.counts[code] += len(rows)
    result.report.extend((int(r), code) for r in rows)
