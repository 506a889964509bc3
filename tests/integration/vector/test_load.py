"""Load and finalize tasks retried on their own: a retried chunk replaces its rows instead of adding
them again; a finalize retried after its commit returns what it published."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
import shapely

from terrace.ingest.vector.columns import Column
from terrace.ingest.vector.finalize import finalize
from terrace.ingest.vector.geometry import multi_wkb
from terrace.ingest.vector.load import load
from terrace.ingest.vector.tables import create_table
from terrace.storage import Storage
from tests.integration.vector.files import polygons, write
from tests.integration.vector.jobs import run


@dataclass(frozen=True)
class LoadContext:
    params: dict[str, Any]
    job_params: dict[str, Any]
    attempt: int
    database_url: str
    storage: Storage


def test_a_retried_load_never_duplicates_its_chunk(database_url: str, storage: Storage) -> None:
    squares = shapely.box(np.arange(5.0), 0, np.arange(5.0) + 1, 1)
    chunk = pa.table({"name": [f"s{i}" for i in range(5)], "geom": multi_wkb(squares, np.full(5, 2))})
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, chunk.schema) as writer:
        writer.write_table(chunk)
    storage.put("silver", "work/polygon-00000-000.arrow", sink.getvalue().to_pybytes())
    with psycopg.connect(database_url) as conn:
        create_table(conn, "geo_draft", "stg_test", [Column("name", "name", "text")], 2, "geom", False)
    params = {
        "chunk": "work/polygon-00000-000.arrow",
        "staging": "stg_test",
        "first_objectid": 11,
        "columns": ["name"],
        "geometry_column": "geom",
    }
    job = {
        "path": "in/x.gpkg",
        "dataset_id": "floods",
        "resource_id": "jakarta",
        "release_id": "0" * 32,
        "version_ordinal": 1,
    }
    first = LoadContext(params, job, 1, database_url, storage)
    assert load(first)["rows"] == 5
    load(replace(first, attempt=2))  # as if the first attempt's result had been lost after its commit
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*), min(objectid), max(objectid), bool_and(ST_Equals(geom, "
            "ST_Multi(ST_MakeEnvelope(objectid - 11, 0, objectid - 10, 1, 4326)))), "
            "min(etl_batch_id) FROM geo_draft.stg_test"
        ).fetchone()
    assert rows == (5, 11, 15, True, "polygon-00000-000")


@dataclass(frozen=True)
class RetryContext:
    job_params: dict[str, Any]
    database_url: str
    storage: Storage
    checkpoints: dict[str, Any]

    def checkpoint_data(self, phase: str) -> dict[str, Any] | None:
        return self.checkpoints.get(phase)


@pytest.mark.usefixtures("worker")
def test_a_finalize_retried_after_its_commit_returns_what_it_published(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, write(tmp_path / "z.gpkg", polygons(30)))
    assert job["status"] == "completed", job["error"]
    with psycopg.connect(database_url) as conn:
        (checkpoints,) = conn.execute(
            "SELECT checkpoints FROM app.tasks WHERE job_id = %s AND stage = 5", (job["job_id"],)
        ).fetchone()
    assert checkpoints["published"] == job["result"]
    retry = RetryContext(job["parameters"], database_url, storage, checkpoints)
    assert finalize(retry) == job["result"]
    chunks = storage.local_path("silver", "ingest/floods/jakarta/floods_jakarta_ord1-r1/chunks")
    assert chunks is not None and not any(chunks.glob("*"))
