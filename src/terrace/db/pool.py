"""Connection pools and one-off connections (psycopg 3)."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def open_pool(url: str, *, min_size: int = 1, max_size: int = 10, name: str = "terrace") -> ConnectionPool:
    """An opened pool whose connections return rows as dicts."""
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "application_name": name},
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[dict]:
    """A single connection with dict rows, for CLI commands and schema management."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)
