"""The context a handler runs in: its task, resources, progress and checkpoints."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from terrace.db.pool import Connection, Pool, fetch_one
from terrace.db.queries import queries
from terrace.orchestration.definitions import Result
from terrace.storage import Storage

PROGRESS_INTERVAL_SECONDS = 1.0


@dataclass
class TaskRun:
    """One attempt of one task; implements `definitions.TaskContext`."""

    job_id: str
    task_id: str
    job_type: str
    stage: int
    attempt: int
    params: dict[str, Any]
    job_params: dict[str, Any]
    database_url: str
    storage: Storage
    pool: Pool
    checkpoints: dict[str, Result] = field(default_factory=dict)
    _last_progress: float = 0.0

    def progress(self, percent: float, message: str = "") -> None:
        """Record progress; writes at most once a second unless the task is done."""
        now = time.monotonic()
        if percent < 100 and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        with self.pool.connection() as conn:
            conn.execute(
                queries("orchestration")["progress"],
                {"task_id": self.task_id, "percent": max(0.0, min(100.0, percent)), "message": message},
            )

    def checkpoint(self, phase: str, data: Result | None = None, conn: Connection | None = None) -> None:
        """Save `phase` as done: a retry of this task skips it and gets `data` back. Given `conn`,
        the checkpoint is part of that connection's transaction."""
        if conn is None:
            with self.pool.connection() as own:
                self._save(own, phase, data)
        else:
            self._save(conn, phase, data)
        self.checkpoints[phase] = data or {}

    def _save(self, conn: Connection, phase: str, data: Result | None) -> None:
        q = queries("orchestration")
        row = fetch_one(
            conn, q["checkpoint"], {"task_id": self.task_id, "phase": phase, "data": Jsonb(data or {})}
        )
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

    def checkpoint_data(self, phase: str) -> Result | None:
        return self.checkpoints.get(phase)
