"""Connection pools and one-off connections (psycopg 3), all returning rows as dicts."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

Connection = psycopg.Connection[DictRow]

# A connection handed back to the pool within this many seconds is handed out again unchecked:
# it was working a moment ago, and checking it would add a round trip to every checkout of a
# busy process (a worker's loop checks out a connection for each claim).
RECENTLY_USED_SECONDS = 2.0


class PooledConnection(psycopg.Connection[DictRow]):
    """A pooled connection that remembers when it was last handed back."""

    returned_at: float = float("-inf")


Pool = ConnectionPool[PooledConnection]


def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    name: str = "terrace",
    keepalive_seconds: float | None = None,
) -> Pool:
    """An opened pool whose connections return rows as dicts. A connection idle for a while is
    checked as it is handed out, so that after a database restart callers get a fresh one
    instead of an error."""
    pool: Pool = ConnectionPool(
        url,
        connection_class=PooledConnection,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": name, **keepalives(keepalive_seconds)},
        name=name,
        open=False,
        check=_check_if_idle,
        reset=_stamp_return,
    )
    pool.open(wait=True, timeout=30)
    return pool


def _check_if_idle(conn: PooledConnection) -> None:
    if time.monotonic() - conn.returned_at > RECENTLY_USED_SECONDS:
        ConnectionPool.check_connection(conn)


def _stamp_return(conn: PooledConnection) -> None:
    conn.returned_at = time.monotonic()


def connect(url: str, *, autocommit: bool = False, keepalive_seconds: float | None = None) -> Connection:
    """A single connection with dict rows, for CLI commands and schema management."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row, **keepalives(keepalive_seconds))


def keepalives(seconds: float | None) -> dict[str, Any]:
    """Connection parameters that make both ends drop a connection whose peer went silent (a host
    cut off or lost) within about four times `seconds`: the server then ends its session and
    releases its locks (a janitor's leadership, a handler's hold on its task) instead of keeping
    them for the hours of the operating system's TCP defaults. None: the defaults."""
    if seconds is None:
        return {}
    step = max(1, round(seconds))
    server = f"-c tcp_keepalives_idle={step} -c tcp_keepalives_interval={step} -c tcp_keepalives_count=3"
    return {
        "keepalives": 1,
        "keepalives_idle": step,
        "keepalives_interval": step,
        "keepalives_count": 3,
        "tcp_user_timeout": step * 4000,
        "options": f"{server} -c tcp_user_timeout={step * 4000}",
    }


def fetch_one(conn: Connection, query: str | sql.Composed, params: dict[str, Any] | None = None) -> DictRow:
    """The single row a query always returns (aggregates, RETURNING of a known row)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError("query returned no row")
    return row
