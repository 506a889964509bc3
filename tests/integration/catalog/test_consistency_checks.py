"""The consistency checks one by one against a real database and real (local) storage: stuck jobs,
staging tables and blobs of running jobs, the grace period, and listings read page by page."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.consistency import blobs, checks
from terrace.consistency.findings import BATCH, record
from terrace.consistency.ownership import folder_of, slot_folders
from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage

Conn = psycopg.Connection[dict]  # type: ignore[type-arg]


@pytest.fixture
def conn(database_url: str) -> Iterator[Conn]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def submit(conn: Conn, storage: Storage, job_type: str, params: dict) -> str:  # type: ignore[type-arg]
    with conn.transaction():
        return CoreMachine(with_demos(default_registry()), storage).submit(conn, job_type, params)[0]


def age(storage: Storage, path: str, seconds: float) -> None:
    """Make an object look `seconds` old (local storage: its file's modification time)."""
    local = storage.local_path("silver", path)
    assert local is not None
    then = time.time() - seconds
    os.utime(local, (then, then))


def orphans(conn: Conn, storage: Storage, grace: timedelta) -> list[str]:
    with conn.transaction():
        scopes = [scope for group in blobs.survey(storage) for scope in group]
        return sorted(f.object for f in blobs.orphan_blobs(conn, storage, scopes, grace))


def test_a_job_past_its_timeout_is_stuck_and_a_young_one_is_not(conn: Conn, storage: Storage) -> None:
    old = submit(conn, storage, "hello_world", {"n": 1})
    young = submit(conn, storage, "hello_world", {"n": 2})
    conn.execute(
        "UPDATE app.jobs SET status = 'running', started_at = now() - interval '2 hours', "
        "timeout_seconds = 3600 WHERE job_id = %s",
        (old,),
    )
    with conn.transaction():
        found = list(checks.jobs(conn, "the-check-itself"))
    assert [(f.kind, f.object) for f in found] == [("stuck_job", old)]
    assert young not in found[0].detail and "past its timeout of 3600 s" in found[0].detail


def test_staging_tables_of_running_jobs_are_left_alone(conn: Conn, storage: Storage) -> None:
    running = submit(conn, storage, "hello_world", {"n": 3})
    conn.execute(f"CREATE TABLE geo_draft.stg_{running[:12]}_point (id int)")
    conn.execute("CREATE TABLE geo_draft.stg_0123456789ab_point (id int)")
    with conn.transaction():
        found = list(checks.orphan_tables(conn, "check"))
    assert [(f.kind, f.object) for f in found] == [
        ("orphan_staging_table", "geo_draft.stg_0123456789ab_point")
    ]


def test_blobs_of_running_jobs_and_young_blobs_are_not_orphans(conn: Conn, storage: Storage) -> None:
    params = {"dataset_id": "floods", "resource_id": "jakarta", "version_ordinal": 3, "revision": 2}
    raster_folder, vector_folder = slot_folders("floods", "jakarta", 3, 2)
    conn.execute(
        "INSERT INTO app.jobs (job_id, job_type, status, parameters, stage_count, max_attempts, "
        "backoff_base_seconds, backoff_max_seconds, timeout_seconds) "
        "VALUES ('running-job', 'process_raster', 'running', %s, 3, 3, 1, 1, 3600)",
        (psycopg.types.json.Jsonb(params),),
    )
    written = {
        f"{raster_folder}/part.tif.staging-abc": 7200,  # a running job's work in progress
        f"{vector_folder}/summary.json": 7200,
        "cogs/floods/jakarta/ord1-r1/old.tif": 7200,  # no release, no job: orphan
        "cogs/floods/jakarta/ord1-r1/new.tif": 0,  # too young to judge
        "stray.bin": 7200,
    }
    for path, seconds in written.items():
        storage.put("silver", path, b"x")
        age(storage, path, seconds)
    assert orphans(conn, storage, timedelta(hours=1)) == [
        "silver/cogs/floods/jakarta/ord1-r1/old.tif",
        "silver/stray.bin",
    ]
    conn.execute("UPDATE app.jobs SET status = 'failed' WHERE job_id = 'running-job'")
    assert len(orphans(conn, storage, timedelta(hours=1))) == 4


def test_listings_are_read_in_pages_and_every_orphan_is_recorded_once(
    conn: Conn, storage: Storage, database_url: str
) -> None:
    count = 2 * BATCH + 37  # more than two pages of one scope
    for n in range(count):
        storage.put("silver", f"ingest/bulk/data/slot-r1/{n:05}.arrow", b"")
    storage.put("silver", "cogs/other/set/ord1-r1/x.tif", b"")
    job = submit(conn, storage, "hello_world", {"n": 4})
    with conn.transaction():
        scopes = [scope for group in blobs.survey(storage) for scope in group]
        found = blobs.orphan_blobs(conn, storage, scopes, timedelta(0))
        assert record(conn, job, "silver", found) == count + 1
    with psycopg.connect(database_url) as other:
        rows = other.execute(
            "SELECT count(*), count(DISTINCT object) FROM app.catalog_findings WHERE job_id = %s", (job,)
        ).fetchone()
    assert rows == (count + 1, count + 1)


def test_output_folders_are_named_as_the_ingest_jobs_name_them() -> None:
    assert slot_folders("floods", "jakarta", 2, 1) == (
        "cogs/floods/jakarta/ord2-r1",
        "ingest/floods/jakarta/floods_jakarta_ord2-r1",
    )
    assert folder_of("cogs/floods/jakarta/ord2-r1/a.tif") == "cogs/floods/jakarta/ord2-r1"
    assert folder_of("cogs/floods/jakarta/ord2-r1") is None  # a folder itself holds nothing
    assert folder_of("elsewhere/floods/jakarta/ord2-r1/a.tif") is None
