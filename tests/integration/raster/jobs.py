"""Running the raster jobs through CoreMachine and a real worker, and looking at what they left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from terrace.catalog import identity
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.workers import wait_for_job

BASE = {
    "dataset_id": "floods",
    "resource_id": "jakarta",
    "release_id": identity.release_id(identity.asset_id("floods", "jakarta"), "ord1"),
    "version_ordinal": 1,
    "access_level": "public",
}


def submit(database_url: str, storage: Storage, job_type: str, params: dict[str, Any]) -> dict[str, Any]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        job_id, _ = CoreMachine(default_registry(), storage).submit(conn, job_type, params)
    return wait_for_job(database_url, job_id, timeout=120, statuses={"completed", "failed"})


def run(database_url: str, storage: Storage, *files: Path, **options: Any) -> dict[str, Any]:
    """Upload the files to bronze and run process_raster (one file) or the collection job."""
    paths = []
    for file in files:
        storage.put("bronze", f"in/{file.name}", file)
        paths.append(f"in/{file.name}")
    if len(paths) == 1:
        return submit(database_url, storage, "process_raster", {**BASE, "path": paths[0], **options})
    return submit(database_url, storage, "process_raster_collection", {**BASE, "paths": paths, **options})


def silver_files(storage: Storage) -> list[str]:
    root = storage.local_path("silver", "x")
    assert root is not None
    return sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*") if p.is_file())


def cog_rows(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute("SELECT * FROM app.cog_metadata ORDER BY part").fetchall()


def stac_item_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM pgstac.items").fetchone()
    assert row is not None
    return int(row[0])
