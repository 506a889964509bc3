"""Lease fencing: a worker whose lease expired and whose task was taken over commits nothing.

Its completion, failure, heartbeat, checkpoint and the fenced writes of its handler are each
discarded (and the discarded outcome logged as `task_fenced`); the attempt holding the task now
decides its result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from terrace.db.pool import Pool, open_pool
from terrace.db.queries import queries
from terrace.errors import LeaseLost
from terrace.orchestration.context import TaskRun
from terrace.orchestration.definitions import Contract, JobType, NoInput, Stage, TaskContext
from terrace.orchestration.demo import with_demos
from terrace.orchestration.failures import Failure
from terrace.orchestration.janitor import Janitor
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.scheduler import Scheduler
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.workers import wait_for_job

RELEASE = threading.Event()  # lets the stale worker's handler return


class Waited(Contract):
    attempt: int


class Attempts(Contract):
    attempts: list[int]


def waits(ctx: TaskContext[NoInput, NoInput]) -> Waited:
    if ctx.attempt == 1:
        RELEASE.wait(30)
    return Waited(attempt=ctx.attempt)


WAITS = JobType(
    name="waits_test",
    parameters=NoInput,
    stages=(Stage("wait", waits, lambda _, __: [NoInput()], NoInput, Waited),),
    finalize=lambda _, results: Attempts(attempts=[r.attempt for r in results]),
)


@pytest.fixture
def machine(storage: Storage) -> CoreMachine:
    registry = with_demos(default_registry())
    registry.register(WAITS)
    return CoreMachine(registry, storage)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


@pytest.fixture
def pool(database_url: str) -> Iterator[Pool]:
    opened = open_pool(database_url, max_size=2)
    yield opened
    opened.close()


def submit(conn: psycopg.Connection, machine: CoreMachine, job_type: str, params: dict) -> str:
    with conn.transaction():
        return machine.submit(conn, job_type, params)[0]


def claim(conn: psycopg.Connection, worker: str) -> dict:
    (task,) = conn.execute("SELECT * FROM app.claim_tasks(%s, 1, 30)", (worker,)).fetchall()
    return task


def expire_and_requeue(conn: psycopg.Connection, machine: CoreMachine) -> int:
    """The lease runs out and the janitor requeues the task at once (no backoff wait)."""
    conn.execute(
        "UPDATE app.tasks SET lease_expires_at = now() - interval '1 second' WHERE status = 'running'"
    )
    requeued = Janitor("", machine, Scheduler(), 1).requeue_expired(conn)
    conn.execute("UPDATE app.tasks SET run_after = now() WHERE status = 'queued'")
    return requeued


def complete(conn: psycopg.Connection, machine: CoreMachine, worker: str, task: dict, attempt: int) -> dict:
    with conn.transaction():
        (row,) = conn.execute(
            "SELECT * FROM app.complete_tasks(%s, %s, %s, %s)",
            (worker, [task["task_id"]], [attempt], [Jsonb({"greeting": f"from {worker}"})]),
        ).fetchall()
        if row["stage_finished"]:
            machine.advance(conn, row["job_id"], row["stage"])
        return row


def events(conn: psycopg.Connection, kind: str) -> list[dict]:
    return conn.execute("SELECT * FROM app.job_events WHERE kind = %s ORDER BY event_id", (kind,)).fetchall()


def test_the_stale_attempt_of_a_worker_that_claimed_its_task_again_is_fenced(
    conn: psycopg.Connection, machine: CoreMachine
) -> None:
    """Attempt 1 lost its lease; the same worker claimed the task again as attempt 2. The worker
    id alone would let attempt 1's completion through: the attempt number fences it."""
    submit(conn, machine, "hello_world", {"n": 1})
    first = claim(conn, "w1")
    assert expire_and_requeue(conn, machine) == 1
    second = claim(conn, "w1")
    assert (first["attempt"], second["attempt"]) == (1, 2)

    stale = complete(conn, machine, "w1", first, 1)
    assert stale["fenced"] and not stale["stage_finished"]
    task = conn.execute("SELECT status::text, attempt, result FROM app.tasks").fetchone()
    assert task == {"status": "running", "attempt": 2, "result": None}
    (fenced,) = events(conn, "task_fenced")
    assert fenced["data"] == {"worker": "w1", "attempt": 1, "current_attempt": 2}

    done = complete(conn, machine, "w1", second, 2)
    assert not done["fenced"] and done["stage_finished"]
    repeat = conn.execute(  # as when the answer to the first was lost with the connection
        "SELECT * FROM app.complete_tasks('w1', %s, '{2}', %s)", ([second["task_id"]], [Jsonb({})])
    ).fetchall()
    assert repeat == []
    assert conn.execute("SELECT count(*) AS n FROM app.tasks WHERE stage = 2").fetchone()["n"] == 1
    assert len(events(conn, "task_fenced")) == 1


def test_the_stale_failure_heartbeat_and_checkpoint_change_nothing(
    database_url: str, conn: psycopg.Connection, machine: CoreMachine, storage: Storage, pool: Pool
) -> None:
    job_id = submit(conn, machine, "hello_world", {"n": 1})
    first = claim(conn, "w1")
    expire_and_requeue(conn, machine)
    claim(conn, "w2")
    late = Failure({"code": "INTERNAL_ERROR", "message": "late"}, max_attempts=None)
    with conn.transaction():
        assert machine.fail_task(conn, job_id, first["task_id"], 1, ("w1", 1), late) == "lost"
    heartbeat = {"worker_id": "w1", "ids": [first["task_id"]], "attempts": [1], "lease": 3600}
    assert conn.execute(queries("orchestration")["extend_leases"], heartbeat).fetchall() == []
    stale = TaskRun(
        job_id=job_id,
        task_id=first["task_id"],
        job_type="hello_world",
        stage=1,
        attempt=1,
        params=NoInput(),
        task=NoInput(),
        database_url=database_url,
        storage=storage,
        pool=pool,
        worker_id="w1",
    )
    with pytest.raises(LeaseLost):
        stale.checkpoint("phase-1")
    task = conn.execute(
        "SELECT status::text, attempt, lease_owner, checkpoints, error ->> 'code' AS error FROM app.tasks"
    ).fetchone()
    assert task == {
        "status": "running",
        "attempt": 2,
        "lease_owner": "w2",
        "checkpoints": {},
        "error": "LEASE_EXPIRED",
    }
    assert [e["data"]["attempt"] for e in events(conn, "task_fenced")] == [1]


def test_a_fenced_write_of_a_stale_attempt_rolls_back_and_a_holding_one_delays_the_requeue(
    database_url: str, conn: psycopg.Connection, machine: CoreMachine, storage: Storage, pool: Pool
) -> None:
    job_id = submit(conn, machine, "hello_world", {"n": 1})
    first = claim(conn, "w1")
    run = TaskRun(
        job_id=job_id,
        task_id=first["task_id"],
        job_type="hello_world",
        stage=1,
        attempt=1,
        params=NoInput(),
        task=NoInput(),
        database_url=database_url,
        storage=storage,
        pool=pool,
        worker_id="w1",
    )
    conn.execute("CREATE TABLE geo_draft.fenced (n integer)")
    with run.connect() as handler:  # attempt 1 holds its task while it commits
        handler.execute("INSERT INTO geo_draft.fenced VALUES (1)")
        run.fence(handler)
        assert expire_and_requeue(conn, machine) == 0  # the janitor waits for that commit
    assert expire_and_requeue(conn, machine) == 1
    claim(conn, "w2")
    with pytest.raises(LeaseLost), run.adbc() as stale:  # attempt 1 again, now taken over
        with stale.cursor() as cursor:
            cursor.execute("INSERT INTO geo_draft.fenced VALUES (2)")
        run.fence(stale)
        stale.commit()
    assert [r["n"] for r in conn.execute("SELECT n FROM geo_draft.fenced")] == [1]


def test_a_worker_cut_off_past_its_lease_cannot_commit_over_the_retry(
    database_url: str, conn: psycopg.Connection, machine: CoreMachine, storage: Storage
) -> None:
    """A real worker runs attempt 1; its lease runs out and attempt 2 completes elsewhere; then
    attempt 1 returns and reports: its completion is discarded and logged."""
    RELEASE.clear()
    config = WorkerConfig(concurrency=1, lease_seconds=30, poll_seconds=0.2, janitor_seconds=60)
    stale = Worker(database_url, machine.registry, storage, config)
    thread = threading.Thread(target=stale.run, daemon=True)
    thread.start()
    try:
        job_id = submit(conn, machine, WAITS.name, {})
        deadline = time.monotonic() + 20
        while conn.execute("SELECT 1 FROM app.tasks WHERE status = 'running'").fetchone() is None:
            assert time.monotonic() < deadline, "the worker did not claim the task"
            time.sleep(0.05)
        assert expire_and_requeue(conn, machine) == 1
        retry = claim(conn, "elsewhere")
        with conn.transaction():
            (row,) = conn.execute(
                "SELECT * FROM app.complete_tasks('elsewhere', %s, %s, %s)",
                ([retry["task_id"]], [retry["attempt"]], [Jsonb({"attempt": retry["attempt"]})]),
            ).fetchall()
            machine.advance(conn, row["job_id"], row["stage"])
        RELEASE.set()
        deadline = time.monotonic() + 20
        while not events(conn, "task_fenced"):
            assert time.monotonic() < deadline, "the stale worker never reported"
            time.sleep(0.05)
    finally:
        RELEASE.set()
        stale.stop()
        thread.join(timeout=30)
    job = wait_for_job(database_url, job_id, timeout=5)
    assert job["status"] == "completed" and job["result"] == {"attempts": [2]}
    (fenced,) = events(conn, "task_fenced")
    assert fenced["data"] == {"worker": stale.worker_id, "attempt": 1, "current_attempt": 2}
    assert len(events(conn, "task_completed")) == 1
