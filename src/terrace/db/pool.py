"""Connection pools and one-off connections (psycopg 3), all returning rows as dicts."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

Connection = psycopg.Connection[DictRow]
Pool = ConnectionPool[Connection]


def open_pool(url: str, *, min_size: int = 1, max_size: int = 10, name: str = "terrace") -> Pool:
    """An opened pool whose connections return rows as dicts."""
    pool: Pool = ConnectionPool(
        url,
        connection_class=psycopg.Connection[DictRow],
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": name},
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def connect(url: str, *, autocommit: bool = False) -> Connection:
    """A single connection with dict rows, for CLI commands and schema management."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


def fetch_one(conn: Connection, query: str | sql.Composed, params: dict[str, Any] | None = None) -> DictRow:
    """The single row a query always returns (aggregates, RETURNING of a known row)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError("query returned no row")
    return row
