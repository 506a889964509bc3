"""Every raster of the corpus through the real process_raster job, its COG checked against GDAL.

The module shares one database, API and worker: each file is its own asset (resource = entry id),
so the submissions touch nothing of each other's.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.api.app import AppConfig
from terrace.auth import Role, create_key
from terrace.db.cluster import LocalCluster
from terrace.db.roles import login_urls
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import LiveServer, bearer, create_database, drop_database
from tests.corpus.manifest import Entry, entries
from tests.corpus.outcome import Outcome, Status
from tests.corpus.raster_oracle import differences

FINISHED = {"awaiting_approval", "completed", "failed", "cancelled"}
JOB_TIMEOUT = 180.0


@dataclass(frozen=True)
class Platform:
    api: httpx.Client
    key: str
    storage: Storage
    database_url: str


@pytest.fixture(scope="module")
def platform(
    cluster: LocalCluster,
    template_database: str,
    role_passwords: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """A database, storage, a worker and the live API shared by the whole module."""
    name = create_database(cluster, template_database)
    databases = login_urls(cluster.url(name), role_passwords)
    storage = Storage.local(tmp_path_factory.mktemp("raster-corpus") / "storage")
    storage.create_containers()
    with psycopg.connect(databases.app, row_factory=dict_row) as conn:
        key = create_key(conn, "corpus", Role.submitter)[1]
    worker = Worker(
        databases.app,
        default_registry(),
        storage,
        WorkerConfig(concurrency=2, lease_seconds=60, poll_seconds=0.2, grace_seconds=5, janitor_seconds=5),
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    config = AppConfig(databases=databases, storage=storage, upload_max_bytes=1024**3)
    try:
        with LiveServer(config) as server, httpx.Client(base_url=server.url, timeout=60) as api:
            yield Platform(api=api, key=key, storage=storage, database_url=databases.app)
    finally:
        worker.stop()
        thread.join(timeout=30)
        drop_database(cluster, name)


def resource(entry: Entry) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", entry.id.lower()).strip("-")[:100]


@dataclass(frozen=True)
class Submission:
    """What the user sees in the end: the job's status, its error, the release and its COGs."""

    job_status: str
    error: dict[str, Any] | None
    release_id: str | None
    cogs: list[dict[str, Any]]


def run(platform: Platform, entry: Entry) -> Submission:
    """Upload the file and its sidecars to bronze, submit it and wait for the job."""
    folder = f"corpus/{resource(entry)}"
    for file in entry.files():
        upload = f"/api/storage/bronze/{folder}/{file.name}"
        response = platform.api.put(upload, content=file.read_bytes(), headers=bearer(platform.key))
        assert response.status_code == 201, response.text
    submitted = platform.api.post(
        "/api/platform/submit",
        json={
            "dataset_id": "corpus",
            "resource_id": resource(entry),
            "file_name": f"{folder}/{entry.path().name}",
            "access_level": "public",
        },
        headers=bearer(platform.key),
    )
    if submitted.status_code == 400:  # refused before any job: an input error all the same
        return Submission("refused at submit", {**submitted.json(), "category": "input"}, None, [])
    assert submitted.status_code == 202, submitted.text
    url = f"/api/platform/status/{submitted.json()['request_id']}"
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        status = platform.api.get(url, headers=bearer(platform.key)).json()
        if status["job"]["status"] in FINISHED:
            # Read once more: the status reads the release before the job, so the read that first
            # sees the job finished may predate the outputs the same commit recorded.
            status = platform.api.get(url, headers=bearer(platform.key)).json()
            job, release = status["job"]["status"], status["release"]["release_id"]
            return Submission(job, status["error"], release, status["outputs"]["cogs"])
        time.sleep(0.1)
    raise AssertionError(f"{entry.id}: job still {status['job']['status']} after {JOB_TIMEOUT} s")


def kinds(platform: Platform, release_id: str) -> dict[str, str]:
    with psycopg.connect(platform.database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT path, kind FROM app.cog_metadata WHERE release_id = %s", (release_id,)
        ).fetchall()
    return {row["path"]: row["kind"] for row in rows}


def judge(platform: Platform, entry: Entry, submission: Submission) -> tuple[Status, str]:
    """The outcome of one file: loaded and equal to GDAL's reading, refused, or worse."""
    error = submission.error or {}
    if submission.job_status != "awaiting_approval":
        if error.get("category") == "input":
            return "refused", f"{error['code']}: {error['message']}"
        return "internal_error", f"{submission.job_status} {error.get('code')}: {error.get('message')}"
    if not submission.cogs or submission.release_id is None:
        return "mismatch", "the job wrote no COG"
    found_kinds = kinds(platform, submission.release_id)
    problems = []
    for cog in submission.cogs:
        local = platform.storage.local_path("silver", cog["path"])
        assert local is not None
        problems += differences(entry.path(), local, found_kinds[cog["path"]])
    if problems:
        return "mismatch", "; ".join(problems)
    return "faithful", f"{len(submission.cogs)} COG, {', '.join(sorted(set(found_kinds.values())))}"


@pytest.mark.parametrize("entry", entries("raster"), ids=lambda e: e.id)
def test_each_raster_is_faithful_or_refused_precisely(
    platform: Platform, entry: Entry, outcomes: list[Outcome]
) -> None:
    assert entry.path().is_file(), f"{entry.id}: {entry.path()} is missing; run scripts/setup --test"
    started = time.monotonic()
    try:
        submission = run(platform, entry)
        verdict, detail = judge(platform, entry, submission)
    except Exception as exc:
        outcomes.append(Outcome(entry.id, "raster", "internal_error", repr(exc), time.monotonic() - started))
        raise
    outcomes.append(Outcome(entry.id, "raster", verdict, detail, time.monotonic() - started))

    if entry.expect == "refuse":
        error = submission.error or {}
        assert verdict == "refused", detail
        assert error["code"] == entry.refusal, error
        assert entry.path().name in error["message"] and error["remediation"], error
        root = platform.storage.local_path("bronze", "x")
        assert root is not None and str(root.parent) not in str(error)
    else:
        assert verdict == "faithful", detail
