"""GeoParquet 1.1 written batch by batch: WKB geometry, a `bbox` covering column, `geo` metadata.

Each page of the table becomes one row group, handed on as soon as it is written; the file's
`geo` metadata, whose bbox is known only at the end, goes into the footer (`store_schema=False`
keeps pyarrow from writing a second, bbox-less copy of the metadata into the Arrow schema).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyproj
from psycopg import sql

from terrace.exports.sink import Drain
from terrace.exports.source import ServedTable

VERSION = "1.1.0"
BOUNDS = ("xmin", "ymin", "xmax", "ymax")
_FUNCTIONS = {"xmin": "ST_XMin", "ymin": "ST_YMin", "xmax": "ST_XMax", "ymax": "ST_YMax"}


def covering_name(table: ServedTable) -> str:
    """`bbox`, unless the table has a column of that name."""
    names = {column.name for column in table.columns}
    return next(name for name in ("bbox", "geometry_bbox", "__bbox") if name not in names)


def select(table: ServedTable) -> list[sql.Composable]:
    """Columns as they are, the geometry as ISO WKB, then its four bounds (made the covering)."""
    geometry = sql.Identifier(table.geometry)
    columns: list[sql.Composable] = [
        sql.SQL("ST_AsBinary({}) AS {}").format(geometry, geometry)
        if column.name == table.geometry
        else sql.Identifier(column.name)
        for column in table.columns
    ]
    columns += [
        sql.SQL("{}({})::float8 AS {}").format(
            sql.SQL(_FUNCTIONS[bound]), geometry, sql.Identifier(f"__{bound}")
        )
        for bound in BOUNDS
    ]
    return columns


def write(batches: pa.RecordBatchReader, table: ServedTable) -> Iterator[bytes]:
    """The file's bytes, one row group at a time, then the footer."""
    sink = Drain()
    covering = covering_name(table)
    schema = _with_covering(batches.schema, covering)
    extent = [math.inf, math.inf, -math.inf, -math.inf]
    with pq.ParquetWriter(sink, schema, compression="zstd", store_schema=False) as writer:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            _widen(extent, batch)
            writer.write_batch(_as_covered(batch, schema, covering), row_group_size=batch.num_rows)
            yield sink.take()
        writer.add_key_value_metadata({"geo": json.dumps(metadata(table, covering, extent))})
    yield sink.take()


def metadata(table: ServedTable, covering: str, extent: list[float]) -> dict[str, Any]:
    """The `geo` metadata of GeoParquet 1.1 for the table's geometry column."""
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": [table.kind] if table.kind else [],
        "crs": pyproj.CRS.from_epsg(table.srid).to_json_dict(),
        "covering": {"bbox": {bound: [covering, bound] for bound in BOUNDS}},
    }
    if math.isfinite(extent[0]):
        column["bbox"] = extent
    return {"version": VERSION, "primary_column": table.geometry, "columns": {table.geometry: column}}


def _with_covering(schema: pa.Schema, covering: str) -> pa.Schema:
    kept = [field for field in schema if field.name not in _bound_columns()]
    struct = pa.struct([pa.field(bound, pa.float64()) for bound in BOUNDS])
    return pa.schema([*kept, pa.field(covering, struct)])


def _as_covered(batch: pa.RecordBatch, schema: pa.Schema, covering: str) -> pa.RecordBatch:
    bounds = [batch.column(name) for name in _bound_columns()]
    mask = pc.is_null(bounds[0])
    struct = pa.StructArray.from_arrays(bounds, names=list(BOUNDS), mask=mask)
    kept = [batch.column(field.name) for field in schema if field.name != covering]
    return pa.RecordBatch.from_arrays([*kept, struct], schema=schema)


def _widen(extent: list[float], batch: pa.RecordBatch) -> None:
    for index, name in enumerate(_bound_columns()):
        found = (pc.min if index < 2 else pc.max)(batch.column(name)).as_py()
        if found is not None:
            extent[index] = min(extent[index], found) if index < 2 else max(extent[index], found)


def _bound_columns() -> list[str]:
    return [f"__{bound}" for bound in BOUNDS]
