"""The context a handler runs in: its task, resources, progress and checkpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc_postgresql
import psycopg
from adbc_driver_manager import dbapi as adbc
from adbc_driver_manager.dbapi import Connection as AdbcConnection
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from terrace.db.pool import Connection, Pool
from terrace.db.queries import queries
from terrace.errors import LeaseLost, Unavailable
from terrace.orchestration.definitions import Json, M, P, T
from terrace.storage import Storage

PROGRESS_INTERVAL_SECONDS = 1.0
APPLICATION_NAME = "terrace-task"


@contextmanager
def database_errors(job_type: str) -> Iterator[None]:
    """A database that cannot be reached (or drops the connection) becomes `Unavailable`, which
    the task's retry handles; the driver's text, naming hosts and ports, stays in the log."""
    try:
        yield
    except (psycopg.OperationalError, adbc_driver_manager.OperationalError) as exc:
        raise Unavailable(
            f"The database was not available to a {job_type} task.",
            "The task is retried; if it keeps failing, check that the workers reach PostgreSQL.",
        ) from exc


@dataclass
class TaskRun(Generic[P, T]):
    """One attempt of one task; implements `definitions.TaskContext`."""

    job_id: str
    task_id: str
    job_type: str
    stage: int
    attempt: int
    params: P
    task: T
    database_url: str
    storage: Storage
    pool: Pool
    worker_id: str
    checkpoints: dict[str, Json] = field(default_factory=dict)
    _last_progress: float = 0.0

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[Connection]:
        with (
            database_errors(self.job_type),
            psycopg.connect(
                self.database_url,
                autocommit=autocommit,
                row_factory=dict_row,
                application_name=APPLICATION_NAME,
            ) as conn,
        ):
            yield conn

    @contextmanager
    def adbc(self) -> Iterator[adbc.Connection]:
        with database_errors(self.job_type), adbc_postgresql.connect(self.database_url) as conn:
            yield conn

    def progress(self, percent: float, message: str = "") -> None:
        """Record progress; writes at most once a second unless the task is done."""
        now = time.monotonic()
        if percent < 100 and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        with self.pool.connection() as conn:
            conn.execute(
                queries("orchestration")["progress"],
                {
                    "task_id": self.task_id,
                    "attempt": self.attempt,
                    "percent": max(0.0, min(100.0, percent)),
                    "message": message,
                },
            )

    def fence(self, conn: Connection | AdbcConnection) -> None:
        """Hold the task in `conn`'s open transaction, or raise `LeaseLost` if this attempt no
        longer holds it; call it just before committing writes a stale attempt must not commit."""
        statement = sql.SQL("SELECT app.hold_task({}, {}, {})").format(
            sql.Literal(self.task_id), sql.Literal(self.worker_id), sql.Literal(self.attempt)
        )
        if isinstance(conn, psycopg.Connection):
            row = conn.execute(statement).fetchone()
            held = row is not None and next(iter(row.values()))
        else:
            with conn.cursor() as cursor:
                cursor.execute(statement.as_string())
                fetched = cursor.fetchone()
                held = fetched is not None and fetched[0]
        if not held:
            raise LeaseLost(self.task_id)

    def _lease(self) -> dict[str, object]:
        return {"task_id": self.task_id, "worker_id": self.worker_id, "attempt": self.attempt}

    def checkpoint(self, phase: str, data: BaseModel | None = None, conn: Connection | None = None) -> None:
        """Save `phase` as done: a retry of this task skips it and gets `data` back. Given `conn`,
        the checkpoint is part of that connection's transaction."""
        stored = data.model_dump(mode="json") if data is not None else {}
        if conn is None:
            with self.pool.connection() as own:
                self._save(own, phase, stored)
        else:
            self._save(conn, phase, stored)
        self.checkpoints[phase] = stored

    def _save(self, conn: Connection, phase: str, data: Json) -> None:
        q = queries("orchestration")
        row = conn.execute(
            q["checkpoint"],
            {"phase": phase, "data": Jsonb(data), **self._lease()},
        ).fetchone()
        if row is None:
            raise LeaseLost(self.task_id)
        conn.execute(
            q["event"],
            {
                "job_id": row["job_id"],
                "task_id": self.task_id,
                "stage": row["stage"],
                "kind": "task_checkpoint",
                "message": phase,
                "duration_ms": None,
                "data": Jsonb({"phase": phase}),
            },
        )

    def checkpoint_data(self, phase: str, model: type[M]) -> M | None:
        stored = self.checkpoints.get(phase)
        return None if stored is None else model.model_validate(stored)
