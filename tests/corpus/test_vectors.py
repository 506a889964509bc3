"""Every vector file of the corpus through the real process_vector job, with GDAL as the oracle
(`vector_oracle`): loaded faithfully, or refused as an input error with a precise message."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.conftest import create_database, drop_database
from tests.corpus import vector_oracle
from tests.corpus.manifest import Entry, entries
from tests.corpus.outcome import Outcome, Status

JOB_SECONDS = 120


@dataclass(frozen=True)
class Platform:
    """One database, storage and worker shared by the module's files: each file is its own
    asset, so their releases and tables never meet."""

    database_url: str
    storage: Storage


@pytest.fixture(scope="module")
def platform(
    cluster: LocalCluster,
    template_database: str,
    role_passwords: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    name = create_database(cluster, template_database)
    database_url = login_urls(cluster.url(name), role_passwords).app
    storage = Storage.local(tmp_path_factory.mktemp("corpus") / "storage")
    storage.create_containers()
    worker = Worker(
        database_url,
        default_registry(),
        storage,
        WorkerConfig(concurrency=2, lease_seconds=60, poll_seconds=1, grace_seconds=5, janitor_seconds=1),
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield Platform(database_url, storage)
    finally:
        worker.stop()
        thread.join(timeout=30)
        drop_database(cluster, name)


def submit(platform: Platform, entry: Entry, layer: str | None, number: int) -> dict[str, Any]:
    """Upload the file and its sidecars to bronze, run process_vector as the first release of
    asset corpus/{entry}-{number} (loading `layer`), and return the finished job."""
    folder = f"corpus/{entry.id}"
    for file in entry.files():
        platform.storage.put("bronze", f"{folder}/{file.name}", file)
    resource = f"{re.sub(r'[^a-z0-9_-]', '-', entry.id.lower())}-{number}"
    params = {
        "path": f"{folder}/{entry.path().name}",
        "dataset_id": "corpus",
        "resource_id": resource,
        "release_id": identity.release_id(identity.asset_id("corpus", resource), "ord1"),
        "version_ordinal": 1,
        "access_level": "public",
        "layer": layer,
    }
    with psycopg.connect(platform.database_url, row_factory=dict_row) as conn:
        job_id, _ = CoreMachine(default_registry(), platform.storage).submit(conn, "process_vector", params)
    deadline = time.monotonic() + JOB_SECONDS
    with psycopg.connect(platform.database_url, autocommit=True, row_factory=dict_row) as conn:
        while time.monotonic() < deadline:
            job = conn.execute("SELECT * FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
            if job is not None and job["status"] in ("completed", "failed"):
                return job
            time.sleep(0.05)
    raise AssertionError(f"{entry.id}: process_vector did not finish in {JOB_SECONDS} s")


@dataclass(frozen=True)
class Verdict:
    """One layer's outcome, and whether it is what the manifest and GDAL's reading expect."""

    status: Status
    detail: str
    expected: bool


def judge(platform: Platform, entry: Entry, path: Path, layer: str | None, job: dict[str, Any]) -> Verdict:
    """The outcome of one layer's job against the manifest and GDAL's reading: a load faithful
    to GDAL's reading, or an input error with a precise message where the manifest expects a
    refusal or GDAL reads nothing Terrace could load (no CRS, no geometry)."""
    where = f"layer {layer}: " if layer else ""
    reading, refusal = None, f"the manifest expects {entry.refusal}" if entry.expect == "refuse" else None
    if refusal is None:
        try:
            reading = vector_oracle.read(path, layer, platform.database_url)
        except (DataSourceError, DataLayerError) as exc:
            refusal = f"GDAL cannot read it ({exc})"
        else:
            refusal = reading.refusal(path)
    if job["status"] == "failed":
        error = job["error"] or {}
        message = f"{error.get('code')}: {error.get('message')}"
        if error.get("category") != "input":
            return Verdict("internal_error", where + message, False)
        if refusal is None:
            return Verdict("mismatch", f"{where}refused, GDAL reads it: {message}", False)
        if entry.refusal and error.get("code") != entry.refusal:
            return Verdict(
                "mismatch", f"{where}refused as {error.get('code')}, not {entry.refusal}: {message}", False
            )
        if not precise(error.get("message") or "", path, platform):
            return Verdict("mismatch", f"{where}imprecise message: {message}", False)
        return Verdict("refused", where + message, True)
    if refusal is not None or reading is None:
        return Verdict("mismatch", f"{where}loaded, but {refusal}", False)
    out = vector_oracle.output(platform.database_url, platform.storage, job)
    problems = vector_oracle.compare(reading, out)
    if problems:
        return Verdict("mismatch", where + str(problems), False)
    loaded = sum(len(rows) for rows in out.rows.values())
    dropped = len(reading.fids) - loaded
    summary = f"{loaded} features" + (f", {dropped} dropped as reported" if dropped else "")
    return Verdict("faithful", where + summary, True)


def precise(message: str, path: Path, platform: Platform) -> bool:
    """An input error names the file (or a feature, column or layer of it) and no server path."""
    root = str(platform.storage.local_root or "/")
    names_it = path.name in message or re.search(r"\b(feature|column|layer|row)\b", message) is not None
    return names_it and root not in message and "/tmp/" not in message


@pytest.mark.parametrize("entry", entries("vector"), ids=lambda e: e.id)
def test_vector(entry: Entry, platform: Platform, outcomes: list[Outcome]) -> None:
    started = time.monotonic()
    path = entry.path()
    if not path.exists():
        outcomes.append(
            Outcome(entry.id, "vector", "internal_error", "missing: run scripts/setup --test", 0.0)
        )
        pytest.fail(f"{entry.id}: {path.name} is missing; run scripts/setup --test")
    verdicts = []
    for number, layer in enumerate([entry.layer] if entry.layer else vector_oracle.spatial_layers(path)):
        job = submit(platform, entry, layer, number)
        verdicts.append(judge(platform, entry, path, layer, job))
    status: Status = (
        "internal_error"
        if any(v.status == "internal_error" for v in verdicts)
        else "mismatch"
        if not all(v.expected for v in verdicts)
        else "refused"
        if all(v.status == "refused" for v in verdicts)
        else "faithful"
    )
    detail = " | ".join(v.detail for v in verdicts)
    outcomes.append(Outcome(entry.id, "vector", status, detail, time.monotonic() - started))
    assert all(v.expected for v in verdicts), detail
