"""A served table read as a stream of Arrow record batches: one statement, over binary COPY.

ADBC's PostgreSQL driver reads the COPY stream as it arrives and cuts it into batches of about
`BATCH_BYTES`, so memory holds one batch whatever the table's size, and the export is one
consistent snapshot. The serving role's statement timeout (made for API requests) would cut a
long export short, so this connection, used for nothing else, has its own: `EXPORT_TIMEOUT`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
from psycopg import sql

from terrace.db.pool import connect
from terrace.db.queries import queries
from terrace.errors import NotFound

BATCH_BYTES = 2 * 1024 * 1024
EXPORT_TIMEOUT = "2h"
_KINDS = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}


@dataclass(frozen=True)
class TableColumn:
    name: str
    type: str  # PostgreSQL type name (the element's `_name` for arrays)
    is_array: bool


@dataclass(frozen=True)
class ServedTable:
    """A served relation and what an export needs to know of it."""

    schema: str
    name: str
    columns: tuple[TableColumn, ...]
    geometry: str  # the geometry column
    geometry_type: str  # as PostGIS names it: MULTIPOLYGON, POINT, GEOMETRY ...
    srid: int
    has_z: bool

    @property
    def relation(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def kind(self) -> str | None:
        """The geometry type as Simple Features names it (`MultiPolygon Z`); None when mixed."""
        kind = _KINDS.get(self.geometry_type)
        return f"{kind} Z" if kind and self.has_z else kind


def describe(url: str, schema: str, table: str) -> ServedTable:
    """The relation's columns and geometry, read as the serving role (so only what it may read)."""
    params = {"schema": schema, "table": table}
    with connect(url) as conn:
        columns = conn.execute(queries("exports")["served_columns"], params).fetchall()
        geometry = conn.execute(queries("exports")["served_geometry"], params).fetchone()
    if geometry is None:
        raise NotFound(
            f"Table {table} cannot be exported: it has no geometry column.",
            "Only vector releases loaded by Terrace are exported; ask an admin to check the release.",
        )
    return ServedTable(
        schema=schema,
        name=table,
        columns=tuple(TableColumn(c["name"], c["type"], c["is_array"]) for c in columns),
        geometry=geometry["name"],
        geometry_type=geometry["type"].upper(),
        srid=int(geometry["srid"]),
        has_z=int(geometry["dimensions"]) >= 3 and not geometry["type"].upper().endswith("M"),
    )


Selection = Callable[[ServedTable], list[sql.Composable]]


def read_batches(url: str, table: ServedTable, select: Selection) -> pa.RecordBatchReader:
    """The table's rows as a stream of record batches; `select` gives the select list, one
    expression per output column. The connection closes when the stream ends or is closed."""
    conn = adbc.connect(url, autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
        cursor.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(EXPORT_TIMEOUT)).as_string())
        query = sql.SQL("SELECT {columns} FROM {table}").format(
            columns=sql.SQL(", ").join(select(table)), table=table.relation
        )
        cursor.execute(query.as_string())
        stream = cursor.fetch_record_batch()
    except BaseException:
        conn.close()
        raise
    schema = plain_schema(stream.schema)
    return pa.RecordBatchReader.from_batches(schema, _batches(conn, cursor, stream))


def _batches(
    conn: adbc.Connection, cursor: adbc.Cursor, stream: pa.RecordBatchReader
) -> Iterator[pa.RecordBatch]:
    try:
        for batch in stream:
            yield plain(batch)
    finally:
        cursor.close()
        conn.close()


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """The schema without the driver's field metadata, its opaque types (numeric) as their text."""
    return pa.schema([pa.field(f.name, _storage(f.type), f.nullable) for f in schema])


def plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = [c.storage if isinstance(c.type, pa.BaseExtensionType) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=plain_schema(batch.schema))


def _storage(kind: pa.DataType) -> pa.DataType:
    return kind.storage_type if isinstance(kind, pa.BaseExtensionType) else kind
