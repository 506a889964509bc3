"""Every vector file of the corpus through the real process_vector job, with GDAL as the oracle
(`vector_oracle`): loaded faithfully, or refused as an input error with a precise message."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from pyogrio.errors import DataLayerError, DataSourceError

from terrace.catalog import identity
from terrace.db.cluster import LocalCluster
from terrace.db.roles import login_urls
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import create_database, drop_database
from tests.corpus import vector_oracle
from tests.corpus.manifest import Entry, entries
from tests.corpus.outcome import Outcome, Status
from tests.workers import workers

JOB_SECONDS = 300  # from submission, with up to AHEAD jobs queued before it
AHEAD = 3  # files submitted ahead of the one judged, so that the worker loads while GDAL reads
ENTRIES = entries("vector")


@dataclass
class Platform:
    """One database, storage and worker process shared by the module's files: each file is its
    own asset, so their releases and tables never meet. The files the session runs are
    submitted a few ahead of the one judged."""

    database_url: str
    storage: Storage
    queue: list[Entry]  # the entries this session runs, in order
    jobs: dict[str, str] = field(default_factory=dict)  # entry id → job id

    def job(self, entry: Entry) -> dict[str, Any]:
        """Submit `entry` and the next AHEAD entries not yet submitted; wait for entry's job."""
        start = self.queue.index(entry) if entry in self.queue else len(self.queue)
        for upcoming in [entry, *self.queue[start + 1 : start + 1 + AHEAD]]:
            if upcoming.id not in self.jobs and upcoming.path().exists():
                self.jobs[upcoming.id] = submit(self, upcoming)
        deadline = time.monotonic() + JOB_SECONDS
        with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row) as conn:
            while time.monotonic() < deadline:
                job = conn.execute(
                    "SELECT * FROM app.jobs WHERE job_id = %s", (self.jobs[entry.id],)
                ).fetchone()
                if job is not None and job["status"] in ("completed", "failed"):
                    return job
                time.sleep(0.05)
        raise AssertionError(f"{entry.id}: process_vector did not finish in {JOB_SECONDS} s")


@pytest.fixture(scope="module")
def platform(
    request: pytest.FixtureRequest,
    cluster: LocalCluster,
    template_database: str,
    role_passwords: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    name = create_database(cluster, template_database)
    database_url = login_urls(cluster.url(name), role_passwords).app
    root = tmp_path_factory.mktemp("corpus") / "storage"
    storage = Storage.local(root)
    storage.create_containers()
    queue = [
        item.callspec.params["entry"]
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_vector"
    ]
    log = Path(request.config.rootpath, "test-artifacts", "corpus-vector-worker.log")
    log.parent.mkdir(exist_ok=True)
    log.unlink(missing_ok=True)
    try:
        with workers(database_url, root, concurrency=2, log=log):
            yield Platform(database_url, storage, queue)
    finally:
        drop_database(cluster, name)


def submit(platform: Platform, entry: Entry) -> str:
    """Upload the file and its sidecars to bronze and submit process_vector (with the entry's
    layer, and its CRS for a file that names none) as the first release of asset
    corpus/{entry}; the job's id."""
    folder = f"corpus/{entry.id}"
    for file in entry.files():
        platform.storage.put("bronze", f"{folder}/{file.name}", file)
    resource = re.sub(r"[^a-z0-9_-]", "-", entry.id.lower())
    params = {
        "path": f"{folder}/{entry.path().name}",
        "dataset_id": "corpus",
        "resource_id": resource,
        "release_id": identity.release_id(identity.asset_id("corpus", resource), "ord1"),
        "version_ordinal": 1,
        "access_level": "public",
        "layer": entry.layer,
        "crs": entry.crs,
    }
    with psycopg.connect(platform.database_url, row_factory=dict_row) as conn:
        return CoreMachine(default_registry(), platform.storage).submit(conn, "process_vector", params)[0]


@dataclass(frozen=True)
class Verdict:
    """A file's outcome, and whether it is what the manifest and GDAL's reading expect."""

    status: Status
    detail: str
    expected: bool


def judge(platform: Platform, entry: Entry, path: Path, job: dict[str, Any]) -> Verdict:
    """The outcome of one file's job against the manifest and GDAL's reading: a load faithful
    to GDAL's reading, or an input error with a precise message where the manifest expects a
    refusal or GDAL reads nothing Terrace could load (no CRS, no geometry)."""
    try:
        reading: vector_oracle.Reading | None = vector_oracle.read(
            path, entry.layer, platform.database_url, entry.crs
        )
        unloadable = reading.refusal(path) if reading else None
    except (DataSourceError, DataLayerError) as exc:
        reading, unloadable = None, f"GDAL cannot read it ({exc})"
    refusal = f"the manifest expects {entry.refusal}" if entry.expect == "refuse" else unloadable
    if job["status"] == "failed":
        error = job["error"] or {}
        message = f"{error.get('code')}: {error.get('message')}"
        if error.get("category") != "input":
            return Verdict("internal_error", message, False)
        if refusal is None:
            return Verdict("mismatch", f"refused, GDAL reads it: {message}", False)
        if entry.refusal and error.get("code") != entry.refusal:
            return Verdict(
                "mismatch", f"refused as {error.get('code')}, not {entry.refusal}: {message}", False
            )
        if not precise(error.get("message") or "", path, platform):
            return Verdict("mismatch", f"imprecise message: {message}", False)
        return Verdict("refused", message, True)
    out = vector_oracle.output(platform.database_url, platform.storage, job)
    problems = vector_oracle.compare(reading, out) if reading else None
    if refusal is not None:
        how = " faithfully" if problems is not None and not problems else ""
        return Verdict("mismatch", f"loaded{how}, but {refusal}", False)
    if problems is None or problems:
        return Verdict("mismatch", str(problems), False)
    return Verdict("faithful", summary(reading, out), True)  # type: ignore[arg-type]


def summary(reading: vector_oracle.Reading, out: vector_oracle.Output) -> str:
    """How many features GDAL read, and what the repair report says of them."""
    reasons = Counter(r for fid in reading.fids for r in out.report.get(fid, ()))
    dropped = sum(n for reason, n in reasons.items() if reason in vector_oracle.DROPS)
    split = reasons["MIXED_COLLECTION_SPLIT"]
    counts = (
        (dropped, "dropped as reported"),
        (split, "split by geometry type"),
        (sum(reasons.values()) - dropped - split, "other report rows"),
    )
    return f"{len(reading.fids)} features" + "".join(f", {n} {label}" for n, label in counts if n)


def precise(message: str, path: Path, platform: Platform) -> bool:
    """An input error names the file (and, as it must, its feature, column or layer) and no
    server path."""
    root = str(platform.storage.local_root or "/")
    return path.name in message and root not in message and "/tmp/" not in message


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_vector(entry: Entry, platform: Platform, outcomes: list[Outcome]) -> None:
    path = entry.path()
    if not path.exists():
        outcomes.append(
            Outcome(entry.id, "vector", "internal_error", "missing: run scripts/setup --test", 0.0)
        )
        pytest.fail(f"{entry.id}: {path.name} is missing; run scripts/setup --test")
    job = platform.job(entry)
    started = time.monotonic()
    try:
        verdict = judge(platform, entry, path, job)
    except Exception as exc:
        outcomes.append(Outcome(entry.id, "vector", "mismatch", f"the oracle failed: {exc!r}", 0.0))
        raise
    # the job's own time (not its wait in the queue) and the oracle's
    ran = (job["finished_at"] - job["started_at"]).total_seconds() if job["started_at"] else 0.0
    seconds = ran + time.monotonic() - started
    outcomes.append(Outcome(entry.id, "vector", verdict.status, verdict.detail, seconds))
    assert verdict.expected, verdict.detail
