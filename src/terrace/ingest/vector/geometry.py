"""The cleaning sequence of SPEC §4, vectorized with shapely 2: every repair is counted and every
dropped or repaired feature is reported with its source row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyproj
import shapely

FAMILIES = ("point", "line", "polygon")
# shapely type id → family index (0 point, 1 line, 2 polygon); 7 is GeometryCollection
FAMILY_OF_TYPE = {0: 0, 1: 1, 2: 1, 3: 2, 4: 0, 5: 1, 6: 2}
# the same as an array indexed by type id + 1 (type id -1 is a missing geometry, 7 a collection)
FAMILY_LOOKUP = np.array([-1, 0, 1, 1, 2, 0, 1, 2, -1], dtype=np.int8)
MULTI = (shapely.multipoints, shapely.multilinestrings, shapely.multipolygons)
SINGLE_TYPE = (0, 1, 3)  # shapely type id of Point, LineString, Polygon by family
MULTI_TYPE = (4, 5, 6)  # and of MultiPoint, MultiLineString, MultiPolygon
# The two upper-case hex digits of every byte value, as one uint16 each (their bytes in order).
HEX_PAIRS = np.array([f"{i:02X}".encode() for i in range(256)], dtype="S2").view(np.uint16)
WORLD = shapely.box(-180, -90, 180, 90)
EAST_OF_ANTIMERIDIAN = shapely.box(180, -90, 540, 90)


@dataclass
class Cleaned:
    geometries: np.ndarray  # MULTI geometries in EPSG:4326 of the kept rows
    families: np.ndarray  # family index of each kept row
    kept: np.ndarray  # boolean mask over the batch's rows
    counts: Counter[str] = field(default_factory=Counter)
    report: list[tuple[int, str]] = field(default_factory=list)  # (source row, reason code)


def clean(wkb: np.ndarray, first_row: int, transformer: pyproj.Transformer | None, keep_z: bool) -> Cleaned:
    """Clean one batch of WKB geometries whose first row is source row `first_row`; a transformer
    reprojects to EPSG:4326."""
    result = Cleaned(np.empty(0, dtype=object), np.empty(0, dtype=np.int8), np.ones(len(wkb), dtype=bool))
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    _drop(result, shapely.is_missing(geoms) | shapely.is_empty(geoms), first_row, "NULL_GEOMETRY_DROPPED")
    geoms = geoms.copy()
    geoms[~result.kept] = None
    geoms, families = _families(result, geoms, first_row)
    invalid = result.kept & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = _keep_family(shapely.make_valid(geoms[invalid]), families[invalid])
        _note(result, invalid, first_row, "GEOMETRY_REPAIRED")
    if not keep_z:
        has_z = result.kept & shapely.has_z(geoms)
        if has_z.any():
            geoms[has_z] = shapely.force_2d(geoms[has_z])
            _note(result, has_z, first_row, "Z_DROPPED")
    kept = result.kept
    if transformer is not None:  # None: the data is in EPSG:4326 already
        geoms[kept] = shapely.transform(geoms[kept], _projector(transformer), include_z=keep_z)
    crossing = np.zeros(len(geoms), dtype=bool)
    crossing[kept] = np.diff(shapely.bounds(geoms[kept])[:, [0, 2]], axis=1)[:, 0] > 180
    if crossing.any():
        geoms[crossing] = _split_at_antimeridian(geoms[crossing])
        _note(result, crossing, first_row, "ANTIMERIDIAN_FIXED")
    for family in range(3):
        mask = kept & (families == family)
        if mask.any():
            geoms[mask] = _multi(geoms[mask], family)
    polygons = kept & (families == 2)
    geoms[polygons] = shapely.orient_polygons(geoms[polygons], exterior_cw=False)
    result.geometries, result.families = geoms[kept], families[kept]
    return result


def _projector(transformer: pyproj.Transformer):  # type: ignore[no-untyped-def]
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y, coords[:, 2]]) if coords.shape[1] == 3 else np.column_stack([x, y])

    return project


def _families(result: Cleaned, geoms: np.ndarray, first_row: int) -> tuple[np.ndarray, np.ndarray]:
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
            result.report.append((first_row + int(index), "COLLECTION_CONVERTED"))
        else:
            mixed[index] = True
    _drop(result, mixed, first_row, "MIXED_COLLECTION_DROPPED")
    return geoms, families


def _keep_family(geoms: np.ndarray, families: np.ndarray) -> np.ndarray:
    """make_valid may return collections (a polygon with a dangling line): keep the own family."""
    out = geoms.copy()
    for index in np.flatnonzero(shapely.get_type_id(geoms) == 7):
        parts = shapely.get_parts(geoms[index])
        same = parts[[FAMILY_OF_TYPE.get(int(t), -1) == families[index] for t in shapely.get_type_id(parts)]]
        out[index] = MULTI[families[index]](same)
    return out


def _multi(geoms: np.ndarray, family: int) -> np.ndarray:
    """Every geometry of one family as its MULTI type; single parts wrap in one vectorized call."""
    types = shapely.get_type_id(geoms)
    out = geoms.copy()
    single = types == SINGLE_TYPE[family]
    if single.any():
        out[single] = MULTI[family](geoms[single][:, np.newaxis])
    other = ~single & (types != MULTI_TYPE[family])
    if other.any():  # a LinearRing among lines: rebuilt from its parts
        parts, index = shapely.get_parts(geoms[other], return_index=True)
        out[other] = MULTI[family](parts, indices=index)
    return out


def ewkb_hex(geoms: np.ndarray, srid: int = 4326) -> pa.StringArray:
    """Hex EWKB (what PostGIS reads from text COPY) of `geoms`: GEOS writes binary WKB, numpy
    turns all of it into hex at once, several times faster than GEOS' own hex writer."""
    binary = pa.array(shapely.to_wkb(shapely.set_srid(geoms, srid), include_srid=True), pa.binary())
    _, offsets, data = binary.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[: len(binary) + 1]
    hexed = HEX_PAIRS[np.frombuffer(data, dtype=np.uint8)[: ends[-1]]] if len(binary) else HEX_PAIRS[:0]
    return pa.StringArray.from_buffers(len(binary), pa.py_buffer(ends * 2), pa.py_buffer(hexed.tobytes()))


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


def _drop(result: Cleaned, mask: np.ndarray, first_row: int, code: str) -> None:
    mask = mask & result.kept
    if mask.any():
        result.kept &= ~mask
        _note(result, mask, first_row, code)


def _note(result: Cleaned, mask: np.ndarray, first_row: int, code: str) -> None:
    rows = np.flatnonzero(mask)
    result.counts[code] += len(rows)
    result.report.extend((first_row + int(r), code) for r in rows)
