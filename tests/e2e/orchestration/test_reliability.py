"""CoreMachine under real processes: racing workers, kill -9, a database restart, endless failure."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.db.cluster import LocalCluster
from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.workers import start_worker, wait_for_job, workers


def submit(database_url: str, storage: Storage, job_type: str, params: dict) -> str:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return CoreMachine(with_demos(default_registry()), storage).submit(conn, job_type, params)[0]


def query(database_url: str, sql: str, *args: object) -> list[dict]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, args).fetchall()


def wait_for_checkpoint(database_url: str, phase: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(database_url, "SELECT 1 FROM app.tasks WHERE checkpoints ? %s", phase):
            return
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint {phase}")


def test_eight_workers_race_through_a_two_stage_job(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job_id = submit(database_url, storage, "hello_world", {"n": 2000})
    with workers(database_url, tmp_path, count=8, concurrency=4):
        job = wait_for_job(database_url, job_id, timeout=240)
    assert job["status"] == "completed", job["error"]
    assert job["result"] == {"greetings": 2000, "replies": 2000}
    tasks = query(
        database_url, "SELECT stage, count(*) AS n, max(attempt) AS attempts FROM app.tasks GROUP BY stage"
    )
    assert sorted((t["stage"], t["n"], t["attempts"]) for t in tasks) == [(1, 2000, 1), (2, 2000, 1)]
    runs = query(
        database_url,
        "SELECT count(*) AS n, count(DISTINCT task_id) AS distinct_tasks FROM app.job_events "
        "WHERE kind = 'task_started'",
    )
    assert runs == [{"n": 4000, "distinct_tasks": 4000}]
    stages = query(
        database_url, "SELECT stage FROM app.job_events WHERE kind = 'stage_completed' ORDER BY stage"
    )
    assert [s["stage"] for s in stages] == [1, 2]


def test_a_killed_worker_loses_its_task_to_another_which_resumes_at_the_checkpoint(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job_id = submit(database_url, storage, "phases_test", {"phases": 6, "seconds_per_phase": 0.4})
    doomed = start_worker(database_url, tmp_path, lease=2.0)
    try:
        wait_for_checkpoint(database_url, "phase-2")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        with workers(database_url, tmp_path, lease=2.0):
            job = wait_for_job(database_url, job_id, timeout=60)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert job["status"] == "completed", job["error"]
    (result,) = [r["result"] for r in query(database_url, "SELECT result FROM app.tasks")]
    assert result["attempt"] == 2 and result["ran_this_attempt"][0] >= 3
    retries = query(database_url, "SELECT message FROM app.job_events WHERE kind = 'task_retry'")
    assert [r["message"] for r in retries] == [
        "The worker running this task stopped renewing its lease (crashed, killed or cut off)."
    ]


def test_the_heartbeat_keeps_a_task_longer_than_its_lease(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job_id = submit(database_url, storage, "phases_test", {"phases": 5, "seconds_per_phase": 0.6})
    with workers(database_url, tmp_path, lease=1.0):
        job = wait_for_job(database_url, job_id, timeout=60)
    assert job["status"] == "completed", job["error"]
    (task,) = query(database_url, "SELECT attempt, result FROM app.tasks")
    assert task["attempt"] == 1 and task["result"]["ran_this_attempt"] == [1, 2, 3, 4, 5]


def test_workers_survive_a_database_restart(
    cluster: LocalCluster, database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job_id = submit(database_url, storage, "phases_test", {"phases": 6, "seconds_per_phase": 0.4})
    with workers(database_url, tmp_path, lease=5.0, log=tmp_path / "worker.log"):
        wait_for_checkpoint(database_url, "phase-1")
        cluster.restart()
        job = wait_for_job(database_url, job_id, timeout=90)
    assert job["status"] == "completed", (job["error"], (tmp_path / "worker.log").read_text()[-3000:])


def test_a_task_that_always_fails_fails_the_job_with_its_story(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job_id = submit(database_url, storage, "fail_test", {"always": True, "error": "transient"})
    with workers(database_url, tmp_path):
        job = wait_for_job(database_url, job_id, timeout=60)
    assert job["status"] == "failed"
    assert job["error"]["message"] == "The database was not available to a fail_test task."
    assert job["error"]["attempts"] == 3 and job["error"]["category"] == "transient"
    kinds = [e["kind"] for e in query(database_url, "SELECT kind FROM app.job_events ORDER BY event_id")]
    assert kinds.count("task_retry") == 2 and kinds[-1] == "job_failed"
    assert "stage_completed" in kinds  # the warm-up stage: the last successful step


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_worker_finishes_its_task_and_exits(
    database_url: str, storage: Storage, tmp_path: Path, signum: int
) -> None:
    job_id = submit(database_url, storage, "phases_test", {"phases": 2, "seconds_per_phase": 0.5})
    worker = start_worker(database_url, tmp_path, grace=10.0)
    wait_for_checkpoint(database_url, "phase-1")
    worker.send_signal(signum)
    assert worker.wait(timeout=30) == 0
    assert wait_for_job(database_url, job_id, timeout=5)["status"] == "completed"
    (row,) = query(database_url, "SELECT stopped_at IS NOT NULL AS stopped FROM app.workers")
    assert row["stopped"]
