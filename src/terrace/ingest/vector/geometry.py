"""The cleaning sequence of SPEC §4, vectorized with shapely 2: every repair is counted and every
dropped or repaired feature is reported with its source row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
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
WORLD = shapely.box(-180, -90, 180, 90)
EAST_OF_ANTIMERIDIAN = shapely.box(180, -90, 540, 90)
# WKB that GEOS cannot read (curves, TINs, polyhedral surfaces) → WKB of the lines and polygons
# they approximate or are made of, in order; None where no reader understands it.
Linearize = Callable[[list[bytes]], list[bytes | None]]
# per-feature repairs tried in turn when GEOS raises on a feature (SPEC §4)
REPAIRS: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    partial(shapely.make_valid, method="structure", keep_collapsed=False),
    partial(shapely.make_valid, method="linework"),
    partial(shapely.buffer, distance=0),
)


@dataclass
class Cleaned:
    """A batch cleaned: one geometry per row, but a collection of several families gives one
    geometry per family (`rows` says whose)."""

    geometries: np.ndarray  # the kept geometries in EPSG:4326, single or MULTI
    families: np.ndarray  # family index of each kept geometry
    kept: np.ndarray  # boolean mask over the geometries cleaned
    rows: np.ndarray  # the batch row of each geometry cleaned
    touched: np.ndarray  # True where cleaning changed the geometry read
    counts: Counter[str] = field(default_factory=Counter)
    report: list[tuple[int, str]] = field(default_factory=list)  # (row in the batch, reason code)

    @property
    def kept_rows(self) -> np.ndarray:
        """The batch row of each kept geometry, in order."""
        return self.rows[self.kept]

    @property
    def kept_touched(self) -> np.ndarray:
        """Whether cleaning changed each kept geometry, in order."""
        return self.touched[self.kept]


def clean(
    wkb: np.ndarray, transformer: pyproj.Transformer | None, keep_z: bool, linearize: Linearize
) -> Cleaned:
    """Clean one batch of WKB geometries; a transformer reprojects to EPSG:4326, `linearize`
    turns curved geometries into lines and polygons.

    Every GEOS step runs on the whole batch; if GEOS raises, the step is redone feature by
    feature and a feature it fails on is repaired (`REPAIRS`, in turn) or dropped and reported.
    """
    result = Cleaned(
        np.empty(0, dtype=object),
        np.empty(0, dtype=np.int8),
        np.ones(len(wkb), dtype=bool),
        np.arange(len(wkb)),
        np.zeros(len(wkb), dtype=bool),
    )
    geoms = _read_wkb(result, wkb, linearize)
    _drop(result, shapely.is_missing(geoms) | shapely.is_empty(geoms), "NULL_GEOMETRY_DROPPED")
    geoms = geoms.copy()
    geoms[~result.kept] = None
    geoms, families = _families(result, geoms)
    # measures have no column: M is dropped (with Z kept, by `multi_wkb`'s XYZ output)
    has_m = result.kept & shapely.has_m(geoms)
    if has_m.any():
        only_m = has_m & ~shapely.has_z(geoms)
        geoms[only_m] = shapely.force_2d(geoms[only_m])
        result.touched |= has_m
        _note(result, has_m, "M_DROPPED")
    if not keep_z:
        has_z = result.kept & shapely.has_z(geoms)
        if has_z.any():
            geoms[has_z] = shapely.force_2d(geoms[has_z])
            result.touched |= has_z
            _note(result, has_z, "Z_DROPPED")
    if transformer is not None:  # None: the data is in EPSG:4326 already
        kept = result.kept
        geoms[kept] = shapely.transform(geoms[kept], _projector(transformer), include_z=keep_z)
        result.touched |= kept
    # validity is judged where the geometry lies: one drawn across ±180° once cut (reprojection
    # may also make a valid geometry invalid, so repairs follow it)
    crossing = _crossing(geoms, result.kept)
    invalid = result.kept & ~crossing & ~shapely.is_valid(geoms)
    _step(result, geoms, families, invalid, shapely.make_valid)
    _note(result, invalid & result.kept, "GEOMETRY_REPAIRED")
    _step(result, geoms, families, crossing, _split_at_antimeridian)
    _note(result, crossing & result.kept, "ANTIMERIDIAN_FIXED")
    kept = result.kept
    result.geometries, result.families = geoms[kept], families[kept]
    return result


def _read_wkb(result: Cleaned, wkb: np.ndarray, linearize: Linearize) -> np.ndarray:
    """The geometries of `wkb`, None for none. What GEOS cannot read is read again: unclosed
    rings closed (GEOMETRY_REPAIRED), curves linearized and TINs and polyhedral surfaces made
    polygons by `linearize` (NONLINEAR_CONVERTED); what nothing reads is dropped
    (GEOMETRY_UNREADABLE_DROPPED)."""
    try:
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    except NotImplementedError:  # a curve among them, which fails the whole array
        geoms = np.array([_geometry(one, "ignore") for one in wkb], dtype=object)
    unread = np.flatnonzero(
        shapely.is_missing(geoms) & np.array([one is not None for one in wkb], dtype=bool)
    )
    if not len(unread):
        return geoms
    geoms = geoms.copy()
    geoms[unread] = [_geometry(wkb[index], "fix") for index in unread]
    result.touched[unread] = True
    _note(result, _mask(len(wkb), unread[~shapely.is_missing(geoms[unread])]), "GEOMETRY_REPAIRED")
    unread = unread[shapely.is_missing(geoms[unread])]
    if len(unread):
        read = np.array([_geometry(one, "ignore") for one in linearize(list(wkb[unread]))], dtype=object)
        geoms[unread] = read
        _note(result, _mask(len(wkb), unread[~shapely.is_missing(read)]), "NONLINEAR_CONVERTED")
        _drop(result, _mask(len(wkb), unread[shapely.is_missing(read)]), "GEOMETRY_UNREADABLE_DROPPED")
    return geoms


def _geometry(wkb: bytes | None, on_invalid: str) -> shapely.Geometry | None:
    """One WKB geometry, None if GEOS cannot read it."""
    try:
        return shapely.from_wkb(wkb, on_invalid=on_invalid)
    except (NotImplementedError, shapely.errors.GEOSException):
        return None


def _mask(length: int, indexes: np.ndarray) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    mask[indexes] = True
    return mask


def _step(
    result: Cleaned,
    geoms: np.ndarray,
    families: np.ndarray,
    mask: np.ndarray,
    operation: Callable[[np.ndarray], np.ndarray],
) -> None:
    """`geoms[mask] = operation(...)`, each kept in its family; where GEOS raises, one feature at a
    time, a failing feature repaired first and dropped with a report row if it still fails."""
    if not mask.any():
        return
    result.touched |= mask
    try:
        geoms[mask] = _keep_family(operation(geoms[mask]), families[mask])
        return
    except shapely.errors.GEOSException:
        pass
    for index in np.flatnonzero(mask):
        one = np.array([geoms[index]], dtype=object)
        family = families[index : index + 1]
        try:
            geoms[index] = _keep_family(operation(one), family)[0]
            continue
        except shapely.errors.GEOSException:
            pass
        for repair in REPAIRS:
            try:
                candidate = _keep_family(operation(_keep_family(repair(one), family)), family)[0]
            except shapely.errors.GEOSException:
                continue
            if not shapely.is_empty(candidate) and shapely.is_valid(candidate):
                geoms[index] = candidate
                break
        else:
            _drop(result, np.arange(len(geoms)) == index, "GEOMETRY_UNREPAIRABLE_DROPPED")


def _crossing(geoms: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Kept geometries drawn across the ±180° meridian: a segment jumping more than 180° in
    longitude (a segment along a pole, as Antarctica's, is no crossing). Geometries already cut
    at ±180° (Fiji, Russia) span up to 360° without crossing and are left as they are."""
    crossing = np.zeros(len(geoms), dtype=bool)
    wide = np.flatnonzero(kept & (np.ptp(shapely.bounds(geoms)[:, [0, 2]], axis=1) > 180))
    for index in wide:
        for line in _lines(geoms[index]):
            coords = shapely.get_coordinates(line)
            jump = np.abs(np.diff(coords[:, 0])) > 180
            polar = (np.abs(coords[:-1, 1]) >= 90) & (coords[:-1, 1] == coords[1:, 1])
            if (jump & ~polar).any():
                crossing[index] = True
                break
    return crossing


def _lines(geom: shapely.Geometry) -> np.ndarray:
    """The rings and lines of a geometry (no segments for points)."""
    parts = _flat_parts(geom)
    rings = shapely.get_rings(parts[shapely.get_type_id(parts) == 3])
    return np.concatenate([parts[np.isin(shapely.get_type_id(parts), (1, 2))], rings])


def _flat_parts(geom: shapely.Geometry) -> np.ndarray:
    """The single-part members of a geometry, collections and MULTIs inside collections opened."""
    parts = shapely.get_parts(geom)
    while (~SINGLE[np.clip(shapely.get_type_id(parts), 0, 7)]).any():
        parts = shapely.get_parts(parts)
    return parts


def _projector(transformer: pyproj.Transformer):  # type: ignore[no-untyped-def]
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y, coords[:, 2]]) if coords.shape[1] == 3 else np.column_stack([x, y])

    return project


def _families(result: Cleaned, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Family of each geometry. A collection of one family becomes that family's MULTI; one of
    several families is split into a MULTI per family (each a row of its family's table, with
    the feature's attributes): `result`'s rows and mask grow to match."""
    types = shapely.get_type_id(geoms)
    families = FAMILY_LOOKUP[np.clip(types, -1, 7) + 1]
    split: dict[int, list[tuple[int, shapely.Geometry]]] = {}
    for index in np.flatnonzero(result.kept & (types == 7)):
        parts = _flat_parts(geoms[index])
        kinds = np.array([FAMILY_OF_TYPE[int(t)] for t in shapely.get_type_id(parts)])
        by_family = [(int(family), MULTI[family](parts[kinds == family])) for family in np.unique(kinds)]
        result.touched[index] = True
        if len(by_family) == 1:
            families[index], geoms[index] = by_family[0]
            _note(result, _mask(len(geoms), np.array([index])), "COLLECTION_CONVERTED")
        else:
            split[int(index)] = by_family
            _note(result, _mask(len(geoms), np.array([index])), "MIXED_COLLECTION_SPLIT")
    if not split:
        return geoms, families
    counts = np.ones(len(geoms), dtype=np.int64)
    counts[list(split)] = [len(pieces) for pieces in split.values()]
    result.rows, result.kept = np.repeat(result.rows, counts), np.repeat(result.kept, counts)
    result.touched = np.repeat(result.touched, counts)
    expanded, expanded_families = np.repeat(geoms, counts), np.repeat(families, counts)
    starts = np.cumsum(counts) - counts
    for row, pieces in split.items():
        for offset, (family, geom) in enumerate(pieces):
            expanded[starts[row] + offset], expanded_families[starts[row] + offset] = geom, family
    return expanded, expanded_families


def _keep_family(geoms: np.ndarray, families: np.ndarray) -> np.ndarray:
    """make_valid may return collections (a polygon with a dangling line, a MULTI beside a line):
    keep the parts of the own family."""
    out = geoms.copy()
    for index in np.flatnonzero(shapely.get_type_id(geoms) == 7):
        parts = _flat_parts(geoms[index])
        same = parts[[FAMILY_OF_TYPE.get(int(t), -1) == families[index] for t in shapely.get_type_id(parts)]]
        out[index] = MULTI[families[index]](same)
    return out


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

    shifted = shapely.make_valid(shapely.transform(geoms, shift))  # valid as drawn across ±180°
    west = shapely.intersection(shifted, WORLD)
    east = shapely.transform(shapely.intersection(shifted, EAST_OF_ANTIMERIDIAN), back)
    return shapely.union(west, east)


def _drop(result: Cleaned, mask: np.ndarray, code: str) -> None:
    mask = mask & result.kept
    if mask.any():
        result.kept &= ~mask
        _note(result, mask, code)


def _note(result: Cleaned, mask: np.ndarray, code: str) -> None:
    """Count and report the geometries of `mask` (over `result.rows`) under `code`, once a row."""
    rows = np.unique(result.rows[mask])
    if not len(rows):
        return
    result.counts[code] += len(rows)
    result.report.extend((int(r), code) for r in rows)
