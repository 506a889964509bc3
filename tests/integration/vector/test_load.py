"""Load and finalize tasks retried on their own: a retried chunk replaces its rows instead of adding
them again; a finalize retried after its commit returns what it published."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
import shapely
from pydantic import BaseModel

from terrace.db.pool import Pool, open_pool
from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.contracts import Loaded, LoadTask
from terrace.ingest.vector.finalize import finalize
from terrace.ingest.vector.load import load
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.tables import create_table
from terrace.ingest.vector.wkb import multi_wkb
from terrace.orchestration.context import TaskRun
from terrace.orchestration.definitions import NoInput
from terrace.storage import Storage
from tests.integration.vector.files import polygons, write
from tests.integration.vector.jobs import run

PARAMS = VectorParams(
    path="in/x.gpkg", dataset_id="floods", resource_id="jakarta", release_id="0" * 32, version_ordinal=1
)


@pytest.fixture
def pool(database_url: str) -> Iterator[Pool]:
    opened = open_pool(database_url, max_size=2)
    yield opened
    opened.close()


def context(
    database_url: str, storage: Storage, pool: Pool, stage: int, task: BaseModel, **run: Any
) -> TaskRun:
    """The context a worker would give the task."""
    return TaskRun(
        job_id="j" * 64,
        task_id=f"{'j' * 64}:{stage}:0",
        job_type="process_vector",
        stage=stage,
        attempt=1,
        params=run.pop("params", PARAMS),
        task=task,
        database_url=database_url,
        storage=storage,
        pool=pool,
        worker_id="w",
        **run,
    )


def claimed(database_url: str, run: TaskRun, attempt: int) -> TaskRun:
    """`run` as attempt `attempt`, its task held by it in app.tasks (a handler's fence checks that)."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO app.jobs (job_id, job_type, parameters, stage_count, max_attempts, "
            "backoff_base_seconds, backoff_max_seconds, timeout_seconds) "
            "VALUES (%s, 'process_vector', '{}', 5, 3, 1, 1, 3600) ON CONFLICT DO NOTHING",
            (run.job_id,),
        )
        conn.execute(
            "INSERT INTO app.tasks (task_id, job_id, stage, task_index, parameters, max_attempts, status, "
            "attempt, lease_owner) VALUES (%s, %s, %s, 0, '{}', 3, 'running', %s, %s) "
            "ON CONFLICT (task_id) DO UPDATE SET attempt = excluded.attempt",
            (run.task_id, run.job_id, run.stage, attempt, run.worker_id),
        )
    return replace(run, attempt=attempt)


def test_a_retried_load_never_duplicates_its_chunk(database_url: str, storage: Storage, pool: Pool) -> None:
    squares = shapely.box(np.arange(5.0), 0, np.arange(5.0) + 1, 1)
    chunk = pa.table({"name": [f"s{i}" for i in range(5)], "geom": multi_wkb(squares, 2)})
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, chunk.schema) as writer:
        writer.write_table(chunk)
    storage.put("silver", "work/polygon-00000-000.arrow", sink.getvalue().to_pybytes())
    with psycopg.connect(database_url) as conn:
        create_table(conn, "geo_draft", "stg_test", [Column("name", "name", "text")], 2, "geom", False)
    task = LoadTask(
        chunk="work/polygon-00000-000.arrow",
        staging="stg_test",
        first_objectid=11,
        columns=["name"],
        geometry_column="geom",
    )
    first = claimed(database_url, context(database_url, storage, pool, 4, task), 1)
    assert load(first) == Loaded(staging="stg_test", rows=5, batch="polygon-00000-000")
    load(claimed(database_url, first, 2))  # as if the first attempt's result had been lost after its commit
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*), min(objectid), max(objectid), bool_and(ST_Equals(geom, "
            "ST_Multi(ST_MakeEnvelope(objectid - 11, 0, objectid - 10, 1, 4326)))), "
            "min(etl_batch_id) FROM geo_draft.stg_test"
        ).fetchone()
    assert rows == (5, 11, 15, True, "polygon-00000-000")


@pytest.mark.usefixtures("worker")
def test_a_finalize_retried_after_its_commit_returns_what_it_published(
    database_url: str, storage: Storage, pool: Pool, tmp_path: Path
) -> None:
    job = run(database_url, storage, write(tmp_path / "z.gpkg", polygons(30)))
    assert job["status"] == "completed", job["error"]
    with psycopg.connect(database_url) as conn:
        (checkpoints,) = conn.execute(
            "SELECT checkpoints FROM app.tasks WHERE job_id = %s AND stage = 5", (job["job_id"],)
        ).fetchone()
    assert checkpoints["published"] == job["result"]
    params = VectorParams.model_validate(job["parameters"])
    retry = context(database_url, storage, pool, 5, NoInput(), params=params, checkpoints=checkpoints)
    assert finalize(retry).model_dump(mode="json") == job["result"]
    chunks = storage.local_path("silver", "ingest/floods/jakarta/floods_jakarta_ord1-r1/chunks")
    assert chunks is not None and not any(chunks.glob("*"))
