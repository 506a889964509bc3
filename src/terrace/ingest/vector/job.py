"""The process_vector job: inspect (one task) → prepare (one task per part of the file) → stage
(one task: checks, staging tables) → load (one task per chunk) → finalize (one task)."""

from __future__ import annotations

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.ingest.vector.contracts import (
    Inspected,
    Loaded,
    LoadTask,
    Prepared,
    PrepareTask,
    Published,
    Staged,
    StageTask,
)
from terrace.ingest.vector.finalize import finalize
from terrace.ingest.vector.inspect import inspect
from terrace.ingest.vector.load import load, plan_loads
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.prepare import plan_parts, prepare
from terrace.ingest.vector.staging import create_staging, plan_staging
from terrace.ingest.vector.tables import drop_table
from terrace.orchestration.definitions import JobType, NoInput, Stage
from terrace.storage import Storage


def drop_staging(conn: Connection, storage: Storage, params: VectorParams, job_id: str) -> None:
    """A failed job leaves nothing behind: drop its staging tables, delete its chunks."""
    rows = conn.execute(
        queries("vector")["staging_tables"],
        {"schema": params.target_schema, "pattern": f"stg\\_{job_id[:12]}\\_%"},
    ).fetchall()
    for row in rows:
        drop_table(conn, params.target_schema, row["table_name"])
    storage.delete_folder("silver", params.work_prefix)


def _single(params: VectorParams, results: list[Published]) -> Published:
    (published,) = results
    return published


PROCESS_VECTOR = JobType(
    name="process_vector",
    parameters=VectorParams,
    stages=(
        Stage("inspect", inspect, lambda params, _: [NoInput()], NoInput, Inspected),
        Stage("prepare", prepare, plan_parts, PrepareTask, Prepared),
        Stage("stage", create_staging, plan_staging, StageTask, Staged),
        Stage("load", load, plan_loads, LoadTask, Loaded),
        Stage("finalize", finalize, lambda params, _: [NoInput()], NoInput, Published),
    ),
    finalize=_single,
    on_failure=drop_staging,
    max_attempts=3,
    backoff_base_seconds=5.0,
    backoff_max_seconds=120.0,
)
