"""The janitor fails a job that runs past its type's timeout, and the hung task's late end
changes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.orchestration.demo import PHASES_TEST, with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.workers import wait_for_job

# A task that sleeps past the one second its job may run.
HANGS = replace(PHASES_TEST, name="hangs_test", timeout_seconds=1, max_attempts=1)
HANG_SECONDS = 5.0


@pytest.fixture
def machine(storage: Storage) -> CoreMachine:
    registry = with_demos(default_registry())
    registry.register(HANGS)
    return CoreMachine(registry, storage)


@pytest.fixture
def running_worker(database_url: str, machine: CoreMachine, storage: Storage) -> Iterator[None]:
    config = WorkerConfig(
        concurrency=1, lease_seconds=30, poll_seconds=0.5, grace_seconds=1, janitor_seconds=0.3
    )
    worker = Worker(database_url, machine.registry, storage, config)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield
    worker.stop()
    thread.join(timeout=30)


def test_a_job_past_its_timeout_is_failed_by_the_janitor(
    database_url: str, machine: CoreMachine, running_worker: None
) -> None:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            job_id, _ = machine.submit(conn, HANGS.name, {"phases": 1, "seconds_per_phase": HANG_SECONDS})
        started = time.monotonic()
        job = wait_for_job(database_url, job_id, timeout=30, statuses={"failed", "completed"})
        assert job["status"] == "failed"
        assert job["error"]["code"] == "JOB_TIMEOUT"
        assert "timeout of 1 s" in job["error"]["message"]
        assert time.monotonic() - started < HANG_SECONDS  # failed while its task still hung

        time.sleep(HANG_SECONDS + 1 - (time.monotonic() - started))  # the task's handler has returned
        after = conn.execute(
            "SELECT status::text AS status FROM app.jobs WHERE job_id = %s", [job_id]
        ).fetchone()
        assert after["status"] == "failed"
        kinds = [
            r["kind"] for r in conn.execute("SELECT kind FROM app.job_events WHERE job_id = %s", [job_id])
        ]
        assert kinds.count("job_failed") == 1 and "job_completed" not in kinds
        task = conn.execute(
            "SELECT status::text AS status FROM app.tasks WHERE job_id = %s", [job_id]
        ).fetchone()
        assert task["status"] == "cancelled"
