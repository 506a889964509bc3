"""Opening an uploaded vector file as a stream of Arrow batches with WKB geometry.

GDAL (through pyogrio's Arrow API) reads every format but GeoParquet, which pyarrow reads with
its `geo` metadata. Archives (a shapefile or a File Geodatabase, zipped) are checked before
anything is opened (zip bombs, nothing to read).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from terrace.errors import InvalidInput
from terrace.ingest.archives import check_archive

GEOMETRY = "geometry"
LAT_NAMES = ("lat", "latitude", "y", "lat_dd")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "lon_dd")
WKT_NAMES = ("wkt", "geom", "geometry", "the_geom", "wkt_geom")
FORMATS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".zip": "zip",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".gml": "GML",
    ".fgb": "FlatGeobuf",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
    ".csv": "CSV",
    ".pbf": "OSM",
    ".topojson": "TopoJSON",
    ".gpx": "GPX",
    ".sqlite": "SQLite",
}


@dataclass(frozen=True)
class Part:
    """A part of a layer that one prepare task reads: a FID range [fid_from, fid_to) for a
    GeoPackage, `count` features from `skip` for a Shapefile, row groups of a GeoParquet file,
    or, for formats read front to back, the whole layer."""

    fid_from: int | None = None
    fid_to: int | None = None
    skip: int = 0
    count: int | None = None
    row_groups: list[int] | None = None
    first_row: int = 0  # source row number of the part's first feature (GeoParquet)


@dataclass
class Batch:
    records: pa.RecordBatch  # attributes and WKB `geometry`
    fids: np.ndarray  # the features' ids in the source (GDAL FID; row number for GeoParquet)


@dataclass
class VectorSource:
    """An opened layer: its Arrow schema (geometry as WKB in `geometry`), CRS and batches."""

    path: Path
    format: str
    layer: str | None
    schema: pa.Schema
    crs: str | None
    batches: Iterator[Batch]
    parts: Callable[[int], list[Part]]  # the layer cut into parts of about n features


@dataclass(frozen=True)
class ReadOptions:
    layer: str | None = None
    lat_column: str | None = None
    lon_column: str | None = None
    wkt_column: str | None = None
    batch_size: int = 65536


def source_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{path.name}: unsupported file type {suffix or '(none)'}.",
            "Upload one of: " + ", ".join(sorted(FORMATS)) + ".",
        )
    return FORMATS[suffix]


@contextmanager
def open_source(path: Path, options: ReadOptions, part: Part | None = None) -> Iterator[VectorSource]:
    """Open `path` (only `part` of it, if given) for streaming; every failure is an InvalidInput
    naming the file and the fix."""
    if not path.exists() or path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty.", "Upload the complete file again.")
    fmt = source_format(path)
    check_archive(path)
    part = part or Part()
    if fmt == "GeoParquet":
        yield _geoparquet(path, options, part)
        return
    gdal_path, fmt = _zip_member(path) if fmt == "zip" else (str(path), fmt)
    layer = _choose_layer(path, gdal_path, options.layer)
    where = (
        None if part.fid_from is None else f"FID >= {int(part.fid_from)} AND FID < {int(part.fid_to or 0)}"
    )
    try:
        with pyogrio.open_arrow(
            gdal_path,
            layer=layer,
            batch_size=options.batch_size,
            use_pyarrow=True,
            return_fids=True,
            where=where,
            skip_features=part.skip,
            **_open_options(fmt, options),
        ) as (meta, reader):
            schema = _rename_geometry(reader.schema, meta.get("geometry_name") or "wkb_geometry", path, layer)
            fid_index = _fid_index(schema, meta.get("fid_column"))
            schema = schema.remove(fid_index)
            batches = (
                Batch(
                    pa.RecordBatch.from_arrays(
                        b.columns[:fid_index] + b.columns[fid_index + 1 :], schema=schema
                    ),
                    b.column(fid_index).to_numpy(),
                )
                for b in _limit(reader, part.count)
            )
            yield VectorSource(
                path,
                fmt,
                layer,
                schema,
                meta.get("crs"),
                batches,
                partial(_gdal_parts, gdal_path, fmt, layer, meta.get("fid_column")),
            )
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as {fmt}: {exc}",
            "Check that the file is complete and of the type its extension says.",
        ) from exc


def _fid_index(schema: pa.Schema, fid_column: str | None) -> int:
    """The FID column of GDAL's Arrow stream: named as the layer's FID column, or OGC_FID, and
    written first; a GeoJSON whose features carry an `id` may name it otherwise."""
    for name in (fid_column, "OGC_FID"):
        if name and schema.get_field_index(name) >= 0:
            return schema.get_field_index(name)
    return 0


def _limit(batches: Iterable[pa.RecordBatch], count: int | None) -> Iterator[pa.RecordBatch]:
    """The first `count` rows of `batches` (all of them for None)."""
    left = count
    for batch in batches:
        if left is not None and batch.num_rows >= left:
            if left:
                yield batch.slice(0, left)
            return
        if left is not None:
            left -= batch.num_rows
        yield batch


def _gdal_parts(gdal_path: str, fmt: str, layer: str | None, fid_column: str | None, size: int) -> list[Part]:
    """Parts for parallel prepare tasks. Only GeoPackage and unzipped Shapefile are cut: other
    drivers would read (GeoJSON: parse, zip: inflate) the file from its start for every part.
    Features are counted with SQL: GDAL's layer information would identify the CRS again,
    which takes longer than reading a small file."""
    if fmt not in ("GPKG", "ESRI Shapefile"):
        return [Part()]
    table = _quoted(str(layer))
    fid = _quoted(fid_column or "fid")
    _, counted = pyogrio.read_arrow(
        gdal_path,
        # SQLite for a GeoPackage, OGR SQL for a Shapefile, on the uploaded file only; the names
        # are quoted identifiers
        sql=f"SELECT COUNT(*) AS n, MIN({fid}) AS lo, MAX({fid}) AS hi FROM {table}"  # noqa: S608
        if fmt == "GPKG"
        else f"SELECT COUNT(*) AS n FROM {table}",  # noqa: S608
        read_geometry=False,
    )
    count = counted.column("n")[0].as_py()
    pieces = -(-count // size)
    if pieces <= 1:
        return [Part()]
    if fmt == "GPKG":  # a FID range is a range scan of the GeoPackage's primary key
        low, high = counted.column("lo")[0].as_py(), counted.column("hi")[0].as_py() + 1
        step = -(-(high - low) // pieces)
        return [Part(fid_from=start, fid_to=min(start + step, high)) for start in range(low, high, step)]
    return [Part(skip=start, count=size) for start in range(0, count, size)]  # seeks through the .shx


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def described(file: str, layer: str | None) -> str:
    """A file's name for messages, with its layer's when the file has other layers than its
    namesake."""
    return f"layer {layer} of {file}" if layer and layer != PurePosixPath(file).stem else file


def _rename_geometry(schema: pa.Schema, name: str, path: Path, layer: str | None = None) -> pa.Schema:
    index = schema.get_field_index(name)
    if index < 0:
        csv = path.suffix.lower() == ".csv"
        raise InvalidInput(
            f"{described(path.name, layer)} has no geometry column"
            + (
                f" (no column named as coordinates or WKT: {', '.join(LON_NAMES + LAT_NAMES + WKT_NAMES)})."
                if csv
                else "."
            ),
            "Name the columns with lat_column/lon_column or wkt_column."
            if csv
            else "Choose a spatial layer with the `layer` option, or upload a spatial file.",
        )
    return pa.schema(
        pa.field(GEOMETRY, field.type) if position == index else field.with_name(unique)
        for position, (field, unique) in enumerate(
            zip(schema, unique_names(schema.names, index), strict=True)
        )
    )


def unique_names(names: list[str], geometry: int) -> list[str]:
    """Attribute names made unique beside the geometry column (at position `geometry`, to be
    called GEOMETRY): GDAL lets a CSV repeat a header, whose later copies become name_2,
    name_3, ...; an attribute called `geometry` becomes geometry_2."""
    taken = {GEOMETRY} | set(names)
    seen: set[str] = {GEOMETRY}
    unique = []
    for position, name in enumerate(names):
        if position == geometry:
            unique.append(GEOMETRY)
            continue
        chosen, suffix = name, 2
        while chosen in seen or (chosen != name and chosen in taken):
            chosen, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(chosen)
        taken.add(chosen)
        unique.append(chosen)
    return unique


def _open_options(fmt: str, options: ReadOptions) -> dict[str, Any]:
    if fmt != "CSV":
        return {}
    if options.wkt_column:
        return {"GEOM_POSSIBLE_NAMES": options.wkt_column, "KEEP_GEOM_COLUMNS": "NO"}
    if options.lat_column or options.lon_column:
        return {
            "X_POSSIBLE_NAMES": options.lon_column or "",
            "Y_POSSIBLE_NAMES": options.lat_column or "",
            "KEEP_GEOM_COLUMNS": "NO",
            "AUTODETECT_TYPE": "YES",
        }
    return {
        "X_POSSIBLE_NAMES": ",".join(LON_NAMES),
        "Y_POSSIBLE_NAMES": ",".join(LAT_NAMES),
        "GEOM_POSSIBLE_NAMES": ",".join(WKT_NAMES),
        "KEEP_GEOM_COLUMNS": "NO",
        "AUTODETECT_TYPE": "YES",
    }


def _choose_layer(path: Path, gdal_path: str, wanted: str | None) -> str | None:
    try:
        layers = pyogrio.list_layers(gdal_path)
    except DataSourceError as exc:
        _require_shapefile_parts(path)
        raise InvalidInput(
            f"{path.name} cannot be opened: {exc}",
            "Check that the file is complete and of the type its extension says.",
        ) from exc
    names = [str(name) for name, _ in layers]
    spatial = [str(name) for name, kind in layers if kind is not None]
    if wanted is not None:
        if wanted not in names:
            raise InvalidInput(f"{path.name} has no layer {wanted!r}.", f"Choose one of: {', '.join(names)}.")
        return wanted
    if len(spatial) > 1:
        raise InvalidInput(
            f"{path.name} has {len(spatial)} spatial layers: {', '.join(spatial)}.",
            "Name the one to load with the `layer` option.",
        )
    return spatial[0] if spatial else (names[0] if names else None)


def _require_shapefile_parts(path: Path) -> None:
    """GDAL reads no shapefile without its .shx: name the one missing beside a .shp."""
    if path.suffix.lower() == ".shp" and not any(
        path.with_suffix(suffix).exists() for suffix in (".shx", ".SHX")
    ):
        raise InvalidInput(
            f"The shapefile {path.name} has no {path.stem}.shx beside it: a shapefile needs its "
            ".shx and .dbf files.",
            f"Upload {path.stem}.shx beside the .shp and submit again.",
        )


def _zip_member(path: Path) -> tuple[str, str]:
    """The GDAL path and format of the dataset inside a zip (a shapefile, or a File Geodatabase:
    a folder named *.gdb); `check_archive` has checked its sizes (zip bombs)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    shapefiles = [m.filename for m in members if m.filename.lower().endswith(".shp")]
    if shapefiles:
        return f"/vsizip/{path}/{shapefiles[0]}", "Shapefile (zip)"
    geodatabases = [
        "/".join(parts[: i + 1])
        for parts in (m.filename.split("/") for m in members)
        for i, part in enumerate(parts[:-1])
        if part.lower().endswith(".gdb")
    ]
    if geodatabases:
        return f"/vsizip/{path}/{geodatabases[0]}", "FileGDB (zip)"
    raise InvalidInput(
        f"{path.name} contains no .shp file and no File Geodatabase (.gdb folder).",
        "Zip the shapefile's .shp, .shx, .dbf and .prj together, or the whole .gdb folder.",
    )


def _geoparquet(path: Path, options: ReadOptions, part: Part) -> VectorSource:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path.name} is not a readable Parquet file: {exc}", "Upload it again.") from exc
    geo = json.loads((parquet.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    column = geo.get("primary_column")
    if not column:
        raise InvalidInput(
            f"{path.name} is Parquet without GeoParquet metadata.",
            "Write it as GeoParquet (e.g. geopandas.to_parquet) or upload another format.",
        )
    if geo["columns"][column].get("encoding", "WKB").upper() != "WKB":
        raise InvalidInput(
            f"{path.name} encodes geometry as {geo['columns'][column]['encoding']}.",
            "Write GeoParquet with WKB geometry encoding.",
        )
    crs = geo["columns"][column].get("crs", "OGC:CRS84")
    schema = _rename_geometry(parquet.schema_arrow.remove_metadata(), column, path)
    return VectorSource(
        path,
        "GeoParquet",
        None,
        schema,
        json.dumps(crs) if isinstance(crs, dict) else crs,
        _numbered(
            parquet.iter_batches(batch_size=options.batch_size, row_groups=part.row_groups), schema, part
        ),
        partial(_row_group_parts, parquet.metadata),
    )


def _numbered(batches: Iterable[pa.RecordBatch], schema: pa.Schema, part: Part) -> Iterator[Batch]:
    row = part.first_row
    for batch in batches:
        yield Batch(
            pa.RecordBatch.from_arrays(batch.columns, schema=schema), np.arange(row, row + batch.num_rows)
        )
        row += batch.num_rows


def _row_group_parts(metadata: pq.FileMetaData, size: int) -> list[Part]:
    """Consecutive row groups of about `size` rows each."""
    parts, groups, rows, first = [], [], 0, 0
    for index in range(metadata.num_row_groups):
        groups.append(index)
        rows += metadata.row_group(index).num_rows
        if rows >= size:
            parts.append(Part(row_groups=groups, first_row=first))
            first, groups, rows = first + rows, [], 0
    if groups or not parts:
        parts.append(Part(row_groups=groups if parts else None, first_row=first))
    return parts
