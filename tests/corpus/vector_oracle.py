"""GDAL as the oracle of a vector load: what GDAL reads from a corpus file, what Terrace loaded
from it through the real process_vector job, and every way the two differ.

The load is faithful when, for the layer Terrace loaded:
- every feature GDAL reads is a row of the output (a collection of points, lines or polygons
  together a row of each family's table), or is dropped with a row of the job's repair report
  that says why (DROPS, justified: a null geometry is null in GDAL too);
- every attribute GDAL reads is a column, under the name and type of Terrace's documented
  mapping (`terrace.ingest.vector.columns`), with every value equal after that mapping, or a
  column of no values reported as dropped;
- every output geometry is valid, non-empty, of the family of its source (point, line or
  polygon, as MULTI), with its area (polygons), length (lines) or coordinates (points) equal
  to the source's after reprojection to EPSG:4326 within MEASURE_TOLERANCE; for a source
  geometry invalid once reprojected, equal to the part of its family of GEOS' MakeValid of it
  (what `ogr2ogr -makevalid` loads) within REPAIR_TOLERANCE;
- the extent registered for each table is the source's after reprojection;
- no output part spans more than 180° of longitude unless its source did (a geometry drawn
  across ±180° is cut there, not smeared across the globe).

A layer of which GDAL reads no CRS (but a CSV, taken as WGS 84) or no feature with a geometry
cannot be loaded: Terrace must refuse it with a precise input error.

GeoParquet has no GDAL driver in the installed wheels; pyarrow reads it, as Terrace does.
Curved geometries are compared after PostGIS' ST_CurveToLine (32 segments a quarter circle) in
the source CRS, TINs and polyhedral surfaces as their faces, unclosed rings closed: Terrace
stores them so, and reports each such feature.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.sources import GEOMETRY, LAT_NAMES, LON_NAMES, WKT_NAMES, unique_names
from terrace.storage import Storage

MEASURE_TOLERANCE = 1e-6  # relative, area or length of a valid source geometry
# Relative, of the area or length of MakeValid's result for a repaired source geometry: the
# repair runs on the reprojected geometry, MakeValid here on the same; the slack is rounding.
REPAIR_TOLERANCE = 1e-6
POINT_TOLERANCE = 1e-9  # degrees, a point's coordinates after reprojection
EXTENT_TOLERANCE = 1e-7  # degrees, the registered extent
FAMILIES = ("point", "line", "polygon")
# shapely type id → family; 7, a GeometryCollection, takes its members' family
FAMILY_OF_TYPE = {0: 0, 1: 1, 2: 1, 3: 2, 4: 0, 5: 1, 6: 2}
WGS84 = pyproj.CRS.from_epsg(4326)
# report reasons that drop a feature (others, as Z_DROPPED or GEOMETRY_REPAIRED, keep it)
DROPS = frozenset(
    {
        "NULL_GEOMETRY_DROPPED",
        "GEOMETRY_UNREADABLE_DROPPED",
        "GEOMETRY_UNREPAIRABLE_DROPPED",
    }
)
MAX_PROBLEMS = 5  # of one kind, in an outcome's detail


@dataclass
class Reading:
    """One layer as GDAL reads it: feature ids, geometries, attributes, CRS."""

    layer: str | None
    fids: list[int]
    geometries: np.ndarray  # shapely, None for none, UNREADABLE (see `_readable`)
    attributes: pa.Table
    crs: str | None

    def refusal(self, path: Path) -> str | None:
        """Why Terrace must refuse this layer, if it must: nothing GDAL reads can be loaded."""
        if self.crs is None and path.suffix.lower() != ".csv":  # a CSV is WGS 84 unless told
            return "GDAL reads no coordinate reference system"
        if all(g is None or g is UNREADABLE or g.is_empty for g in self.geometries):
            return "GDAL reads no feature with a geometry"
        return None


@dataclass
class Output:
    """What the job loaded from one layer: its tables' rows in objectid order, by family."""

    rows: dict[int, list[dict[str, Any]]]
    columns: list[dict[str, str]]  # source, name, pg_type
    warnings: list[dict[str, Any]]
    report: dict[int, set[str]]  # source FID → the reasons of its report rows
    extents: dict[int, list[float]]


@dataclass
class Problems:
    """Differences by kind, the first few of each kept for the outcome's detail."""

    found: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, example: str) -> None:
        self.found[kind] += 1
        if len(self.examples.setdefault(kind, [])) < MAX_PROBLEMS:
            self.examples[kind].append(example)

    def __bool__(self) -> bool:
        return bool(self.found)

    def __str__(self) -> str:
        return "; ".join(f"{kind} ×{n}: {', '.join(self.examples[kind])}" for kind, n in self.found.items())


def default_layer(path: Path) -> str | None:
    """The layer Terrace loads when none is named: the file's only spatial layer, else its
    first (GeoParquet has one)."""
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return None
    layers = pyogrio.list_layers(path)
    spatial = [str(name) for name, kind in layers if kind is not None]
    return spatial[0] if len(spatial) == 1 else str(layers[0][0])


def read(path: Path, layer: str | None, database_url: str, crs: str | None = None) -> Reading:
    """GDAL's reading of `layer` of `path` (CSV with the open options Terrace documents); `crs`
    is the one a user gives for a file that names none, as the job is given it."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        return _read_parquet(path, database_url)
    options: dict[str, Any] = {}
    if suffix == ".csv":
        options = {
            "X_POSSIBLE_NAMES": ",".join(LON_NAMES),
            "Y_POSSIBLE_NAMES": ",".join(LAT_NAMES),
            "GEOM_POSSIBLE_NAMES": ",".join(WKT_NAMES),
            "KEEP_GEOM_COLUMNS": "NO",
            "AUTODETECT_TYPE": "YES",
        }
    meta, table = pyogrio.read_arrow(path, layer=layer or default_layer(path), return_fids=True, **options)
    # a repeated attribute name takes the unique name the documented mapping gives it
    geometry = table.schema.get_field_index(meta["geometry_name"] or "wkb_geometry")
    table = table.rename_columns(unique_names(table.schema.names, geometry))
    fid = next(
        (n for n in (meta.get("fid_column"), "OGC_FID") if n and table.schema.get_field_index(n) >= 0),
        table.schema.names[0],
    )
    wkb = table.column(GEOMETRY).to_pylist() if geometry >= 0 else [None] * len(table)
    return Reading(
        layer,
        table.column(fid).to_pylist(),
        _geometries(wkb, database_url),
        table.drop_columns([c for c in (fid, GEOMETRY) if c in table.schema.names]),
        meta.get("crs") or crs,
    )


def _read_parquet(path: Path, database_url: str) -> Reading:
    table = pq.read_table(path)
    geo = json.loads(table.schema.metadata[b"geo"])
    column = geo["primary_column"]
    crs = geo["columns"][column].get("crs", "OGC:CRS84")
    table = table.rename_columns(unique_names(table.schema.names, table.schema.get_field_index(column)))
    return Reading(
        None,
        list(range(len(table))),
        _geometries(table.column(GEOMETRY).to_pylist(), database_url),
        table.drop_columns([GEOMETRY]),
        json.dumps(crs) if isinstance(crs, dict) else crs,
    )


def output(database_url: str, storage: Storage, job: dict[str, Any]) -> Output:
    """The rows, columns, warnings, repair report and extents of a completed process_vector job."""
    result = job["result"]
    params = VectorParams.model_validate(job["parameters"])
    report: dict[int, set[str]] = {}
    if result["outputs"]["repair_report"]:
        location = result["outputs"]["repair_report"]
        text = storage.get(location["container"], location["path"]).decode()
        for fid, reason in list(csv.reader(io.StringIO(text)))[1:]:
            report.setdefault(int(fid), set()).add(reason)
    names = [c["name"] for c in result["columns"]]
    rows: dict[int, list[dict[str, Any]]] = {}
    extents: dict[int, list[float]] = {}
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        for table in result["tables"]:
            if table["table_role"] == "view":
                continue
            family = ("MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON").index(table["geometry_type"])
            selected = [sql.Identifier(n) for n in names] + [
                sql.SQL("ST_AsBinary({g}) AS geom_wkb, ST_IsValid({g}) AS geom_valid").format(
                    g=sql.Identifier(params.geometry_column)
                ),
                sql.SQL("GeometryType({}) AS geom_type").format(sql.Identifier(params.geometry_column)),
            ]
            query = sql.SQL("SELECT {} FROM {} ORDER BY objectid").format(
                sql.SQL(", ").join(selected), sql.Identifier(table["schema_name"], table["table_name"])
            )
            rows[family] = conn.execute(query).fetchall()
            catalog = conn.execute(
                "SELECT bbox FROM geo.table_catalog WHERE schema_name = %s AND table_name = %s",
                (table["schema_name"], table["table_name"]),
            ).fetchone()
            extents[family] = catalog["bbox"] if catalog else []
    return Output(rows, result["columns"], result["warnings"], report, extents)


def compare(reading: Reading, out: Output) -> Problems:
    """Every difference between GDAL's reading of a layer and what the job loaded from it."""
    problems = Problems()
    geoms = reading.geometries
    kept: dict[int, list[int]] = {}
    for index, (fid, geom) in enumerate(zip(reading.fids, geoms, strict=True)):
        reasons = out.report.get(fid, set())
        dropped = reasons & DROPS
        due = _drop_reason(geom)
        if dropped:
            if (due and dropped != {due}) or (not due and dropped != {"GEOMETRY_UNREPAIRABLE_DROPPED"}):
                problems.add("unjustified drop", f"fid {fid} {'/'.join(sorted(dropped))}")
            continue
        if due:
            problems.add("kept without geometry", f"fid {fid} should be {due}")
            continue
        for family in sorted(_family_of(geom)):  # a collection of several: a row in each table
            kept.setdefault(family, []).append(index)
    for family in sorted(set(out.rows) - set(kept)):
        problems.add("unexpected table", f"{len(out.rows[family])} {FAMILIES[family]}s")
    transformer = _transformer(reading.crs)
    for family, indexes in sorted(kept.items()):
        rows = out.rows.get(family, [])
        if len(rows) != len(indexes):
            problems.add(
                "feature count",
                f"{FAMILIES[family]}: GDAL {len(indexes)} (after reported drops), loaded {len(rows)}",
            )
            continue
        _compare_attributes(reading, out, indexes, rows, problems)
        extent = _compare_geometries(reading, geoms, transformer, out, family, indexes, rows, problems)
        registered = out.extents.get(family) or []
        if extent is not None and (
            len(registered) != 4 or not np.allclose(registered, extent, rtol=0, atol=EXTENT_TOLERANCE)
        ):
            problems.add("extent", f"{FAMILIES[family]}: registered {registered}, GDAL {list(extent)}")
    return problems


def _geometries(wkb: list[bytes | None], database_url: str) -> np.ndarray:
    """Shapely geometries of GDAL's WKB, None for none, UNREADABLE for WKB that neither GEOS
    (rings closed) nor PostGIS reads; curves linearized by PostGIS' ST_CurveToLine, TINs and
    polyhedral surfaces read as collections of their faces."""
    out = np.empty(len(wkb), dtype=object)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for index, one in enumerate(wkb):
            out[index] = None if one is None else _readable(one, conn)
    return out


UNREADABLE = shapely.GeometryCollection()  # a marker, compared by identity


def _readable(wkb: bytes, conn: psycopg.Connection[Any]) -> shapely.Geometry:
    for on_invalid in ("ignore", "fix"):
        try:
            geom = shapely.from_wkb(wkb, on_invalid=on_invalid)
        except (NotImplementedError, shapely.errors.GEOSException):
            geom = None
        if geom is not None:
            return geom
    try:
        faces = conn.execute(
            "SELECT ST_AsBinary(CASE WHEN GeometryType(d.geom) = 'TRIANGLE' "
            "THEN ST_MakePolygon(ST_ExteriorRing(d.geom)) ELSE d.geom END) "
            "FROM ST_Dump(ST_CurveToLine(ST_GeomFromWKB(%s))) AS d ORDER BY d.path",
            (wkb,),
        ).fetchall()
    except psycopg.errors.InternalError_:
        return UNREADABLE
    return shapely.GeometryCollection([shapely.from_wkb(face) for (face,) in faces])


def _family_of(geom: shapely.Geometry) -> set[int]:
    kind = shapely.get_type_id(geom)
    if kind != 7:
        return {FAMILY_OF_TYPE[kind]}
    return (
        set().union(*(_family_of(part) for part in shapely.get_parts(geom))) if not geom.is_empty else set()
    )


def _drop_reason(geom: shapely.Geometry | None) -> str | None:
    if geom is UNREADABLE:
        return "GEOMETRY_UNREADABLE_DROPPED"
    if geom is None or shapely.is_empty(geom):
        return "NULL_GEOMETRY_DROPPED"
    return None


def _transformer(crs: str | None) -> pyproj.Transformer | None:
    source = pyproj.CRS.from_user_input(crs) if crs else WGS84  # a CSV without a CRS is WGS 84
    if source.equals(WGS84, ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(source, WGS84, always_xy=True)


def _compare_attributes(
    reading: Reading, out: Output, indexes: list[int], rows: list[dict[str, Any]], problems: Problems
) -> None:
    mapping = {c["source"]: c for c in out.columns}
    all_null_dropped = any(w["code"] == "ALL_NULL_COLUMN_DROPPED" for w in out.warnings)
    for source in reading.attributes.schema.names:
        values = reading.attributes.column(source).to_pylist()
        arrow_type = reading.attributes.schema.field(source).type
        if source not in mapping:
            if not (all_null_dropped and all(values[i] is None for i in indexes)):
                problems.add("column missing", f"{source} ({arrow_type})")
            continue
        column = mapping[source]
        for index, row in zip(indexes, rows, strict=True):
            expected = expected_value(values[index], arrow_type, column["pg_type"])
            if not _equal(expected, row[column["name"]]):
                problems.add(
                    f"value of {source}",
                    f"fid {reading.fids[index]}: GDAL {values[index]!r}, loaded {row[column['name']]!r}",
                )


def expected_value(value: Any, arrow_type: pa.DataType, pg_type: str) -> Any:
    """A GDAL value as the documented mapping stores it in a column of `pg_type`: float32 as its
    shortest decimal, timestamps without zone as UTC and outside years 1..9999 as null,
    unsigned 64-bit integers as numeric, lists as arrays."""
    if value is None:
        return None
    if pg_type.endswith("[]"):
        return [expected_value(v, arrow_type.value_type, pg_type.removesuffix("[]")) for v in value]
    if pa.types.is_float32(arrow_type):
        return float(str(np.float32(value)))
    if isinstance(value, dt.datetime):
        if not 1 <= value.year <= 9999:
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if pg_type == "numeric":
        return Decimal(value)
    return value


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_equal, expected, actual))
    if isinstance(expected, float) and isinstance(actual, float):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    if isinstance(expected, bytes) and isinstance(actual, memoryview):
        return expected == actual.tobytes()
    return bool(expected == actual) and type(expected) is type(actual)


def _compare_geometries(
    reading: Reading,
    geoms: np.ndarray,
    transformer: pyproj.Transformer | None,
    out: Output,
    family: int,
    indexes: list[int],
    rows: list[dict[str, Any]],
    problems: Problems,
) -> np.ndarray | None:
    """Compare the family's output geometries with GDAL's; the extent GDAL's geometries have
    once reprojected and cut at ±180° (None when nothing compared)."""
    source = shapely.force_2d(np.array([_as_multi(g, family) for g in geoms[indexes]], dtype=object))
    if transformer is not None:
        source = shapely.transform(source, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
    loaded = shapely.from_wkb([row["geom_wkb"] for row in rows])
    name = ("MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")[family]
    boxes = []
    for index, before, after, row in zip(indexes, source, loaded, rows, strict=True):
        fid = reading.fids[index]
        if not row["geom_valid"] or row["geom_type"] != name or after.is_empty:
            problems.add("bad output geometry", f"fid {fid}: {row['geom_type']} valid={row['geom_valid']}")
            continue
        crossing = _crossing(before)
        expected = _shifted(before) if crossing else before
        repaired = not shapely.is_valid(expected)
        if repaired:
            expected = _own_family(shapely.make_valid(expected), family)
        reasons = out.report.get(fid, set())
        if (repaired and not reasons & {"GEOMETRY_REPAIRED", "ANTIMERIDIAN_FIXED"}) or (
            crossing and "ANTIMERIDIAN_FIXED" not in reasons
        ):
            problems.add("repair not reported", f"fid {fid}")
        if not _same_measure(expected, after, family, REPAIR_TOLERANCE if repaired else MEASURE_TOLERANCE):
            problems.add(
                f"{'repaired ' if repaired else ''}{('coordinates', 'length', 'area')[family]}",
                f"fid {fid}: GDAL {_measure(expected, family):.9g}, loaded {_measure(after, family):.9g}",
            )
        widest = max(_widths(before), default=0.0)
        if max(_widths(after), default=0.0) > max(180.0, widest) + 1e-9:
            problems.add("smeared across ±180°", f"fid {fid}")
        box = shapely.bounds(expected)
        boxes.append([-180.0, box[1], 180.0, box[3]] if crossing else list(box))
    if not boxes:
        return None
    stacked = np.array(boxes)
    return np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)])


def _as_multi(geom: shapely.Geometry, family: int) -> shapely.Geometry:
    """The parts of `family` of a collection as that family's MULTI geometry, as Terrace loads
    them (a collection of several families gives a row in each family's table)."""
    if shapely.get_type_id(geom) != 7:
        return geom
    parts = shapely.get_parts(geom)
    while any(shapely.get_type_id(p) >= 4 for p in parts):
        parts = shapely.get_parts(parts)
    own = [p for p in parts if FAMILY_OF_TYPE[shapely.get_type_id(p)] == family]
    return (shapely.multipoints, shapely.multilinestrings, shapely.multipolygons)[family](own)


def _crossing(geom: shapely.Geometry) -> bool:
    """Drawn across ±180°: a segment jumping more than 180° of longitude, not along a pole."""
    for line in _lines(geom):
        xy = shapely.get_coordinates(line)
        jump = np.abs(np.diff(xy[:, 0])) > 180
        polar = (np.abs(xy[:-1, 1]) >= 90) & (xy[:-1, 1] == xy[1:, 1])
        if (jump & ~polar).any():
            return True
    return False


def _lines(geom: shapely.Geometry) -> list[shapely.Geometry]:
    parts = shapely.get_parts(geom)
    out = []
    for part in parts:
        kind = shapely.get_type_id(part)
        if kind in (1, 2):
            out.append(part)
        elif kind == 3:
            out.extend(shapely.get_rings(part))
        elif kind >= 4:
            out.extend(_lines(part))
    return out


def _shifted(geom: shapely.Geometry) -> shapely.Geometry:
    """`geom` with negative longitudes moved east by 360°, as drawn across the antimeridian."""

    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]])

    return shapely.transform(geom, shift)


def _own_family(geom: shapely.Geometry, family: int) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    while any(shapely.get_type_id(p) >= 4 for p in parts):
        parts = shapely.get_parts(parts)
    return shapely.GeometryCollection([p for p in parts if FAMILY_OF_TYPE[shapely.get_type_id(p)] == family])


def _measure(geom: shapely.Geometry, family: int) -> float:
    return float(
        shapely.area(geom)
        if family == 2
        else shapely.length(geom)
        if family == 1
        else len(shapely.get_coordinates(geom))
    )


def _same_measure(
    expected: shapely.Geometry, loaded: shapely.Geometry, family: int, tolerance: float
) -> bool:
    if family == 0:
        a, b = shapely.get_coordinates(expected), shapely.get_coordinates(loaded)
        return a.shape == b.shape and np.allclose(
            np.sort(a, axis=0), np.sort(b, axis=0), rtol=0, atol=POINT_TOLERANCE
        )
    want, got = _measure(expected, family), _measure(loaded, family)
    return abs(want - got) <= tolerance * max(abs(want), abs(got), 1e-300)


def _widths(geom: shapely.Geometry) -> list[float]:
    return [float(b[2] - b[0]) for b in shapely.bounds(shapely.get_parts(geom))]
