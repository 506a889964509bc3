"""Running process_vector as a client would: upload to bronze, submit, wait for the job."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from terrace.catalog import identity
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage


def run(database_url: str, storage: Storage, file: Path, ordinal: int = 1, **options: Any) -> dict[str, Any]:
    """Upload `file` (and its shapefile siblings) to bronze, run process_vector as the release of
    ordinal `ordinal` (tables geo_draft.floods_jakarta_ord{ordinal}...), return the job."""
    for part in file.parent.glob(file.stem + ".*"):
        storage.put("bronze", f"in/{part.name}", part)
    params = {
        "path": f"in/{file.name}",
        "dataset_id": "floods",
        "resource_id": "jakarta",
        "release_id": identity.release_id(identity.asset_id("floods", "jakarta"), f"ord{ordinal}"),
        "version_ordinal": ordinal,
        "access_level": "public",
        **options,
    }
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        job_id, _ = CoreMachine(default_registry(), storage).submit(conn, "process_vector", params)
    deadline = time.monotonic() + 90
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while time.monotonic() < deadline:
            job = conn.execute("SELECT * FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
            if job["status"] in ("completed", "failed"):
                return job
            time.sleep(0.1)
    raise AssertionError("process_vector did not finish")
