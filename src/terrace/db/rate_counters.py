"""A `limits` storage in PostgreSQL, so that every API process counts against the same limits.

`limits` ships storages for Redis, Memcached and MongoDB only; Terrace's processes share nothing
but the database, so the counters live in `app.rate_limit_counters`, each step one atomic UPSERT
(the fixed-window strategy needs no more). Expired rows are swept now and then.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from limits.storage import Storage
from psycopg.rows import DictRow

from terrace.db.pool import Pool, fetch_one
from terrace.db.queries import queries

SWEEP_SECONDS = 60.0


class PostgresCounters(Storage):
    """Fixed-window counters in the database of the pool `pool()` returns."""

    STORAGE_SCHEME = None

    def __init__(self, pool: Callable[[], Pool]) -> None:
        super().__init__()
        self.pool = pool
        self.q = queries("rate_limits")
        self.swept = time.monotonic()

    @property
    def base_exceptions(self) -> type[Exception]:
        return psycopg.Error

    def _row(self, name: str, params: dict[str, object]) -> DictRow | None:
        with self.pool().connection() as conn:
            return conn.execute(self.q[name], params).fetchone()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        if time.monotonic() - self.swept > SWEEP_SECONDS:
            self.swept = time.monotonic()
            self.reset_expired()
        with self.pool().connection() as conn:
            # A counter lost in a crash only forgives a few requests: no need to wait for the WAL flush.
            conn.execute(self.q["asynchronous_commit"])
            return int(
                fetch_one(conn, self.q["incr"], {"key": key, "expiry": expiry, "amount": amount})["hits"]
            )

    def get(self, key: str) -> int:
        row = self._row("get", {"key": key})
        return int(row["hits"]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row("get_expiry", {"key": key})
        return float(row["expires_at"]) if row else time.time()

    def check(self) -> bool:
        return self._row("check", {}) is not None

    def reset(self) -> int | None:
        with self.pool().connection() as conn:
            return conn.execute(self.q["reset"]).rowcount

    def clear(self, key: str) -> None:
        with self.pool().connection() as conn:
            conn.execute(self.q["clear"], {"key": key})

    def reset_expired(self) -> None:
        with self.pool().connection() as conn:
            conn.execute(self.q["sweep"])
