"""Opening an uploaded vector file as a stream of Arrow batches with WKB geometry.

GDAL (through pyogrio's Arrow API) reads every format but GeoParquet, which pyarrow reads with
its `geo` metadata. Archives are checked before anything is opened (zip bombs, missing .shp).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from terrace.errors import InvalidInput

MAX_UNZIPPED_BYTES = 20 * 1024**3
MAX_ZIP_RATIO = 200
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
}


@dataclass
class VectorSource:
    """An opened layer: its Arrow schema (geometry as WKB in `geometry`), CRS and batches."""

    path: Path
    format: str
    layer: str | None
    schema: pa.Schema
    crs: str | None
    batches: Iterator[pa.RecordBatch]


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
def open_source(path: Path, options: ReadOptions) -> Iterator[VectorSource]:
    """Open `path` for streaming; every failure is an InvalidInput naming the file and the fix."""
    if not path.exists() or path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty.", "Upload the complete file again.")
    fmt = source_format(path)
    if fmt == "GeoParquet":
        yield _geoparquet(path, options)
        return
    gdal_path, fmt = (_zip_member(path), "Shapefile (zip)") if fmt == "zip" else (str(path), fmt)
    layer = _choose_layer(path, gdal_path, options.layer)
    try:
        with pyogrio.open_arrow(
            gdal_path,
            layer=layer,
            batch_size=options.batch_size,
            use_pyarrow=True,
            **_open_options(fmt, options),
        ) as (meta, reader):
            schema = _rename_geometry(reader.schema, meta.get("geometry_name") or "wkb_geometry")
            batches = (pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in reader)
            yield VectorSource(path, fmt, layer, schema, meta.get("crs"), batches)
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as {fmt}: {exc}",
            "Check that the file is complete and of the type its extension says.",
        ) from exc


def _rename_geometry(schema: pa.Schema, name: str) -> pa.Schema:
    index = schema.get_field_index(name)
    if index < 0:
        raise InvalidInput(
            "The layer has no geometry column.",
            "For CSV name lat_column/lon_column or wkt_column; otherwise upload a spatial layer.",
        )
    return schema.set(index, pa.field(GEOMETRY, schema.field(index).type))


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


def _zip_member(path: Path) -> str:
    """The GDAL path of the dataset inside a zip, after checking sizes (zip bombs)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"{path.name} is not a valid zip archive.", "Upload the archive again.") from exc
    unzipped = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if unzipped > MAX_UNZIPPED_BYTES or unzipped / packed > MAX_ZIP_RATIO:
        raise InvalidInput(
            f"{path.name} expands to {unzipped} bytes ({unzipped // packed}x its size).",
            "Upload the data uncompressed or in smaller archives.",
        )
    shapefiles = [m.filename for m in members if m.filename.lower().endswith(".shp")]
    if not shapefiles:
        raise InvalidInput(
            f"{path.name} contains no .shp file.", "Zip the shapefile's .shp, .shx, .dbf and .prj together."
        )
    return f"/vsizip/{path}/{shapefiles[0]}"


def _geoparquet(path: Path, options: ReadOptions) -> VectorSource:
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
    schema = _rename_geometry(parquet.schema_arrow.remove_metadata(), column)
    batches = (
        pa.RecordBatch.from_arrays(b.columns, schema=schema)
        for b in parquet.iter_batches(batch_size=options.batch_size)
    )
    return VectorSource(
        path, "GeoParquet", None, schema, json.dumps(crs) if isinstance(crs, dict) else crs, batches
    )
