"""CSV written batch by batch: one header line, the geometry as WKT in a `WKT` column.

WKT serves every geometry type (the served tables hold MULTI geometries, so x/y columns would
fit none of them), and GDAL, QGIS and most tools read a column named `WKT` as the geometry.
Arrays become JSON text and binary values base64, so that every cell is one CSV field.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as csv
from psycopg import sql

from terrace.exports.sink import Drain
from terrace.exports.source import ServedTable, TableColumn

GEOMETRY_HEADER = "WKT"


def select(table: ServedTable) -> list[sql.Composable]:
    return [_expression(table, column) for column in table.columns]


def _expression(table: ServedTable, column: TableColumn) -> sql.Composable:
    name = sql.Identifier(column.name)
    if column.name == table.geometry:
        return sql.SQL("ST_AsText({}) AS {}").format(name, sql.Identifier(GEOMETRY_HEADER))
    if column.is_array:
        return sql.SQL("array_to_json({})::text AS {}").format(name, name)
    if column.type == "bytea":
        return sql.SQL("encode({}, 'base64') AS {}").format(name, name)
    return name


def write(batches: pa.RecordBatchReader) -> Iterator[bytes]:
    """The file's bytes: the header line, then each batch's lines."""
    sink = Drain()
    with csv.CSVWriter(sink, batches.schema) as writer:
        yield sink.take()
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()
