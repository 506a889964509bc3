"""Terrace across hosts, and the faults it survives: each test ends with exact row counts, no
duplicate row and a catalog check that finds nothing.

Hosts are network namespaces on a private bridge (tests/cluster/network.py): `db` (PostgreSQL),
`storage`, `api` and `w1`..`w3`, each process started from deploy/systemd's units.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.cluster.deployment import Deployment, Options
from tests.cluster.submissions import (
    LARGE_VECTOR,
    RASTER,
    assert_catalog_clean,
    assert_raster_exact,
    assert_vector_exact,
    corpus_entry,
    submit,
    wait,
    wait_running,
)

pytestmark = pytest.mark.usefixtures("all_workers")
on_azurite = pytest.mark.skipif(
    Options().storage != "azurite",
    reason="storage faults need Azurite on the storage host (TERRACE_CLUSTER_STORAGE=azurite, the default) "
    "(local-folder storage has no storage host to restart and no temporary files)",
)


def hosts_of(deployment: Deployment, job_id: str) -> dict[str, int]:
    """Tasks each host started for the job (its workers' ids begin with the host name)."""
    with deployment.db() as conn:
        rows = conn.execute(
            "SELECT split_part(data ->> 'worker', '-', 1) AS host, count(*) AS n FROM app.job_events "
            "WHERE job_id = %s AND kind = 'task_started' GROUP BY 1 ORDER BY 1",
            (job_id,),
        ).fetchall()
    return {r["host"]: r["n"] for r in rows}


def events(deployment: Deployment, job_id: str, kind: str) -> list[dict]:
    with deployment.db() as conn:
        return conn.execute(
            "SELECT * FROM app.job_events WHERE job_id = %s AND kind = %s ORDER BY event_id", (job_id, kind)
        ).fetchall()


def transcript(deployment: Deployment, job_id: str) -> str:
    with deployment.db() as conn:
        rows = conn.execute(
            "SELECT to_char(created_at, 'HH24:MI:SS.MS') AS at, kind, stage, data ->> 'worker' AS worker "
            "FROM app.job_events WHERE job_id = %s ORDER BY event_id",
            (job_id,),
        ).fetchall()
    return "\n".join(f"{r['at']} {r['kind']:<16} stage={r['stage']} {r['worker'] or ''}" for r in rows)


def test_a_vector_and_a_raster_are_processed_across_hosts(
    deployment: Deployment, client: httpx.Client
) -> None:
    vector = submit(client, LARGE_VECTOR, "across")
    raster = submit(client, RASTER, "across")
    assert_vector_exact(deployment, wait(client, vector), vector)
    assert_raster_exact(deployment, wait(client, raster), raster)
    # Submitted to the API host, queued in the database host, run by the worker hosts.
    ran = set(hosts_of(deployment, vector.job_id)) | set(hosts_of(deployment, raster.job_id))
    assert ran and ran <= set(deployment.worker_names), ran
    (deployment.logs / "transcript.txt").write_text(
        f"api host {deployment.api_url}; storage {deployment.env_file['TERRACE_STORAGE_URL']}\n"
        f"vector {vector.entry.id}: {json.dumps(hosts_of(deployment, vector.job_id))}\n"
        + transcript(deployment, vector.job_id)
        + f"\nraster {raster.entry.id}: {json.dumps(hosts_of(deployment, raster.job_id))}\n"
        + transcript(deployment, raster.job_id)
        + "\n"
    )
    assert_catalog_clean(client)


def test_a_worker_host_killed_mid_load_loses_nothing(deployment: Deployment, client: httpx.Client) -> None:
    vector = submit(client, LARGE_VECTOR, "killed")
    victim = wait_running(deployment, vector.job_id)
    assert deployment.kill_host(victim)
    done = wait(client, vector)
    assert_vector_exact(deployment, done, vector)
    retried = [e for e in events(deployment, vector.job_id, "task_retry") if "lease" in (e["message"] or "")]
    assert retried, transcript(deployment, vector.job_id)
    assert_catalog_clean(client)


def test_a_worker_cut_off_past_its_lease_cannot_commit_over_the_retry(
    deployment: Deployment, client: httpx.Client
) -> None:
    raster = submit(client, RASTER, "cut")
    victim = wait_running(deployment, raster.job_id)
    deployment.host(victim).cut()
    time.sleep(deployment.options.lease_seconds * 3)
    deployment.host(victim).plug()
    done = wait(client, raster)
    assert_raster_exact(deployment, done, raster)
    deadline = time.monotonic() + 45
    while not (fenced := events(deployment, raster.job_id, "task_fenced")):
        assert time.monotonic() < deadline, transcript(deployment, raster.job_id)
        time.sleep(0.3)
    assert {e["data"]["worker"].split("-")[0] for e in fenced} == {victim}
    assert {e["data"]["attempt"] for e in fenced} == {1}
    assert_catalog_clean(client)


def test_api_and_workers_reconnect_after_postgresql_restarts_mid_job(
    deployment: Deployment, client: httpx.Client
) -> None:
    vector = submit(client, LARGE_VECTOR, "restart")
    wait_running(deployment, vector.job_id)
    deployment.stop_database("immediate")
    time.sleep(2)
    deployment.start_database()
    done = wait(client, vector)
    assert_vector_exact(deployment, done, vector)
    assert len(deployment.live_workers()) == len(deployment.worker_names)
    for served in ("/features/collections", "/stac/collections"):
        assert client.get(served).status_code == 200, served  # the serving pools reconnected too
    assert_catalog_clean(client)


@on_azurite
def test_an_upload_through_a_storage_restart_is_whole_or_absent(
    deployment: Deployment, client: httpx.Client
) -> None:
    data = corpus_entry(LARGE_VECTOR).path().read_bytes()

    def slowly() -> Iterator[bytes]:
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]
            time.sleep(0.2)

    restart = threading.Timer(1.0, deployment.restart_storage)
    restart.start()
    try:
        answer = client.put("/api/storage/bronze/upload-restart/states.gpkg", content=slowly()).status_code
    except httpx.HTTPError:
        answer = None
    restart.join()
    stored = deployment.blob_size("bronze", "upload-restart/states.gpkg")
    assert (answer, stored) in ((201, len(data)), (None, None)) or (answer or 0) >= 500 and stored is None
    vector = submit(client, LARGE_VECTOR, "upload-restart")
    assert_vector_exact(deployment, wait(client, vector), vector)
    assert_catalog_clean(client)


@on_azurite
def test_a_cog_written_through_a_storage_restart_is_written_once(
    deployment: Deployment, client: httpx.Client
) -> None:
    raster = submit(client, RASTER, "cog-restart")
    wait_running(deployment, raster.job_id, stage=2)
    deployment.restart_storage()
    assert_raster_exact(deployment, wait(client, raster), raster)
    assert_catalog_clean(client)


@on_azurite
def test_a_full_temporary_disk_fails_clearly_and_the_job_succeeds_once_space_returns(
    deployment: Deployment, client: httpx.Client
) -> None:
    ballast = []
    for folder in deployment.worker_tmp.values():
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
        path = folder / "ballast"
        with open(path, "wb") as file:
            os.posix_fallocate(file.fileno(), 0, free - 64 * 1024)
        ballast.append(path)
    raster = submit(client, RASTER, "disk-full")
    failed = wait(client, raster)
    assert failed["job"]["status"] == "failed", failed
    error = failed["error"]
    assert error["code"] == "DISK_FULL" and "temporary disk space" in error["message"], error
    for path in ballast:
        path.unlink()
    again = submit(client, RASTER, "disk-full", overwrite=True)  # what the error tells users to do
    assert again.release_id == raster.release_id and again.job_id != raster.job_id
    assert_raster_exact(deployment, wait(client, again), again)
    assert_catalog_clean(client)
