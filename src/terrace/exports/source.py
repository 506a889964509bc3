"""A served table read as Arrow record batches: one snapshot, key-ordered pages over binary COPY.

Each page is one statement (`WHERE objectid > last ORDER BY objectid LIMIT n`, which the
primary key answers), so the serving role's statement timeout bounds a page, not the export,
and memory holds one page whatever the table's size. The pages run in one REPEATABLE READ,
READ ONLY transaction: an export is one consistent snapshot of the table.
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
from terrace.serving.tables import IDENTITY_COLUMN

PAGE_ROWS = 16_384
_FIRST_KEY = -(2**63)  # below every bigint key
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
    names = {column["name"] for column in columns}
    if geometry is None or IDENTITY_COLUMN not in names:
        raise NotFound(
            f"Table {table} cannot be exported: it has no geometry column or no {IDENTITY_COLUMN} key.",
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


def read_batches(
    url: str, table: ServedTable, select: Selection, page_rows: int = PAGE_ROWS
) -> pa.RecordBatchReader:
    """The table's rows in key order as a stream of record batches; `select` gives the select
    list (one expression per output column), which must keep the key column as it is."""
    conn = adbc.connect(url, autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        first = _page(cursor, table, select, _FIRST_KEY, page_rows)
    except BaseException:
        conn.close()
        raise
    schema = plain_schema(first.schema)
    return pa.RecordBatchReader.from_batches(schema, _pages(conn, cursor, table, select, first, page_rows))


def _pages(
    conn: adbc.Connection,
    cursor: adbc.Cursor,
    table: ServedTable,
    select: Selection,
    page: pa.Table,
    page_rows: int,
) -> Iterator[pa.RecordBatch]:
    try:
        while page.num_rows:
            for batch in page.to_batches():
                yield plain(batch)
            if page.num_rows < page_rows:
                break
            last = page.column(IDENTITY_COLUMN)[-1].as_py()
            page = _page(cursor, table, select, last, page_rows)
        cursor.execute("COMMIT")
    finally:
        cursor.close()
        conn.close()


def _page(cursor: adbc.Cursor, table: ServedTable, select: Selection, after: int, rows: int) -> pa.Table:
    query = sql.SQL("SELECT {columns} FROM {table} WHERE {key} > {after} ORDER BY {key} LIMIT {rows}").format(
        columns=sql.SQL(", ").join(select(table)),
        table=table.relation,
        key=sql.Identifier(IDENTITY_COLUMN),
        after=sql.Literal(int(after)),
        rows=sql.Literal(int(rows)),
    )
    cursor.execute(query.as_string())
    return cursor.fetch_arrow_table()


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """The schema without the driver's field metadata, its opaque types (numeric) as their text."""
    return pa.schema([pa.field(f.name, _storage(f.type), f.nullable) for f in schema])


def plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = [c.storage if isinstance(c.type, pa.BaseExtensionType) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=plain_schema(batch.schema))


def _storage(kind: pa.DataType) -> pa.DataType:
    return kind.storage_type if isinstance(kind, pa.BaseExtensionType) else kind
