"""Real worker processes for tests: `terrace worker`, with the demonstration job types too
(`python -m tests.demo_worker`), against a test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
FINISHED = {"completed", "failed", "cancelled", "awaiting_approval"}


def start_worker(
    database_url: str,
    storage_root: Path,
    *,
    concurrency: int = 2,
    lease: float = 60.0,
    grace: float = 5.0,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRACE_")}
    env |= {
        "TERRACE_APP_DATABASE_URL": database_url,
        "TERRACE_STORAGE_URL": storage_root.as_uri(),
        "TERRACE_WORKER_CONCURRENCY": str(concurrency),
        "TERRACE_LEASE_SECONDS": str(lease),
        "TERRACE_GRACE_SECONDS": str(grace),
    }
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (the child owns it)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.demo_worker"],
        env=env,
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


@contextmanager
def workers(
    database_url: str, storage_root: Path, count: int = 1, **options: Any
) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [start_worker(database_url, storage_root, **options) for _ in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_job(
    database_url: str, job_id: str, timeout: float = 120, statuses: set[str] = FINISHED
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while time.monotonic() < deadline:
            job = conn.execute("SELECT * FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
            if job and job["status"] in statuses:
                return job
            time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status'] if job else 'missing'} after {timeout} s")
