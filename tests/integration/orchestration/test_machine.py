"""CoreMachine's submit, plan, complete and fail logic against the real SQL functions."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from terrace.errors import InvalidInput, NotFound
from terrace.orchestration.demo import with_demos
from terrace.orchestration.machine import CoreMachine, job_id_for
from terrace.pipelines import default_registry
from terrace.storage import Storage


@pytest.fixture
def machine(storage: Storage) -> CoreMachine:
    return CoreMachine(with_demos(default_registry()), storage)


@pytest.fixture
def conn(database_url: str):
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def submit(conn: psycopg.Connection, machine: CoreMachine, job_type: str, params: dict) -> tuple[str, bool]:
    with conn.transaction():
        return machine.submit(conn, job_type, params)


def claim(conn: psycopg.Connection, worker: str, limit: int) -> list[dict]:
    return conn.execute("SELECT * FROM app.claim_tasks(%s, %s, 30)", (worker, limit)).fetchall()


def complete(
    conn: psycopg.Connection, machine: CoreMachine, worker: str, tasks: list[dict], result: dict
) -> list:
    with conn.transaction():
        rows = conn.execute(
            "SELECT * FROM app.complete_tasks(%s, %s, %s, %s)",
            (
                worker,
                [t["task_id"] for t in tasks],
                [t["attempt"] for t in tasks],
                [Jsonb(result)] * len(tasks),
            ),
        ).fetchall()
        for row in rows:
            if row["stage_finished"]:
                machine.advance(conn, row["job_id"], row["stage"])
        return rows


def test_job_id_ignores_private_keys_and_key_order() -> None:
    assert job_id_for("x", {"a": 1, "b": 2, "_note": "n"}) == job_id_for("x", {"b": 2, "a": 1})
    assert job_id_for("x", {"a": 1}) != job_id_for("y", {"a": 1})


def test_submit_is_idempotent_and_plans_stage_one(conn: psycopg.Connection, machine: CoreMachine) -> None:
    job_id, created = submit(conn, machine, "hello_world", {"n": 3})
    again, created_again = submit(conn, machine, "hello_world", {"n": 3, "_trace": "x"})
    assert created and not created_again and again == job_id
    tasks = conn.execute(
        "SELECT stage, task_index, status::text FROM app.tasks ORDER BY task_index"
    ).fetchall()
    assert tasks == [{"stage": 1, "task_index": i, "status": "queued"} for i in range(3)]


def test_bad_parameters_name_the_field(conn: psycopg.Connection, machine: CoreMachine) -> None:
    with pytest.raises(InvalidInput, match="n: Input should be greater than or equal to 1"):
        submit(conn, machine, "hello_world", {"n": 0})
    with pytest.raises(NotFound, match="Unknown job type 'nope'") as unknown:
        submit(conn, machine, "nope", {})
    assert "hello_world" in unknown.value.remediation


def test_stages_advance_and_finalize(conn: psycopg.Connection, machine: CoreMachine) -> None:
    job_id, _ = submit(conn, machine, "hello_world", {"n": 2})
    first = claim(conn, "w1", 10)
    assert len(first) == 2
    complete(conn, machine, "w1", first, {"greeting": "hi"})
    second = claim(conn, "w1", 10)
    assert [t["stage"] for t in second] == [2, 2]
    complete(conn, machine, "w1", second, {"reply": "yo"})
    job = conn.execute("SELECT status::text, result FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
    assert job == {"status": "completed", "result": {"greetings": 2, "replies": 2}}
    kinds = [r["kind"] for r in conn.execute("SELECT kind FROM app.job_events ORDER BY event_id")]
    assert kinds[:3] == ["job_created", "stage_started", "task_queued"]
    assert kinds.count("stage_completed") == 2 and kinds[-1] == "job_completed"


def test_a_completion_by_a_worker_without_the_lease_is_ignored(
    conn: psycopg.Connection, machine: CoreMachine
) -> None:
    submit(conn, machine, "hello_world", {"n": 1})
    tasks = claim(conn, "w1", 1)
    assert [r["fenced"] for r in complete(conn, machine, "intruder", tasks, {})] == [True]
    assert conn.execute("SELECT status::text FROM app.tasks").fetchone()["status"] == "running"


def test_live_workers_share_few_ready_tasks(conn: psycopg.Connection, machine: CoreMachine) -> None:
    for worker in ("w1", "w2"):
        conn.execute(
            "INSERT INTO app.workers (worker_id, hostname, pid, concurrency) VALUES (%s, 'h', 1, 4)",
            (worker,),
        )
    submit(conn, machine, "hello_world", {"n": 3})
    assert [len(claim(conn, w, 4)) for w in ("w1", "w2", "w1")] == [2, 1, 0]
    submit(conn, machine, "hello_world", {"n": 12})
    assert [len(claim(conn, w, 4)) for w in ("w1", "w2")] == [4, 4]


def test_concurrent_completions_advance_the_stage_exactly_once(
    database_url: str, conn: psycopg.Connection, machine: CoreMachine
) -> None:
    job_id, _ = submit(conn, machine, "hello_world", {"n": 40})
    claimed = {f"w{n}": claim(conn, f"w{n}", 5) for n in range(8)}
    barrier = threading.Barrier(8)
    finished: list[bool] = []

    def finish(worker: str, tasks: list[dict]) -> None:
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            finished.extend(
                r["stage_finished"] for r in complete(own, machine, worker, tasks, {"greeting": worker})
            )

    threads = [threading.Thread(target=finish, args=item) for item in claimed.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(finished) == [False] * 39 + [True]
    stage_two = conn.execute("SELECT count(*) AS n FROM app.tasks WHERE job_id = %s AND stage = 2", (job_id,))
    assert stage_two.fetchone()["n"] == 40


def test_failures_retry_with_backoff_then_fail_the_job(
    conn: psycopg.Connection, machine: CoreMachine
) -> None:
    job_id, _ = submit(conn, machine, "fail_test", {"always": True})
    complete(conn, machine, "w", claim(conn, "w", 1), {"ok": True})  # the warm-up stage
    for attempt in (1, 2, 3):
        conn.execute("UPDATE app.tasks SET run_after = now() WHERE status = 'queued'")
        (task,) = claim(conn, "w", 1)
        assert task["attempt"] == attempt
        verdict = conn.execute(
            "SELECT app.fail_task(%s, 'w', %s, %s, NULL) AS v",
            (task["task_id"], attempt, Jsonb({"message": f"boom {attempt}"})),
        ).fetchone()["v"]
        assert verdict == ("failed" if attempt == 3 else "retry")
    job = conn.execute("SELECT status::text, error FROM app.jobs WHERE job_id = %s", (job_id,)).fetchone()
    assert job["status"] == "failed" and job["error"]["message"] == "boom 3" and job["error"]["attempts"] == 3
    delays = [
        r["data"]["retry_in_seconds"]
        for r in conn.execute("SELECT data FROM app.job_events WHERE kind = 'task_retry' ORDER BY event_id")
    ]
    assert delays == [0.2, 0.4]


def test_a_user_error_fails_at_once(conn: psycopg.Connection, machine: CoreMachine) -> None:
    job_id, _ = submit(conn, machine, "fail_test", {"always": True})
    (task,) = claim(conn, "w", 1)
    verdict = conn.execute(
        "SELECT app.fail_task(%s, 'w', 1, %s, 1) AS v", (task["task_id"], Jsonb({"message": "bad file"}))
    ).fetchone()["v"]
    assert verdict == "failed"


def test_an_error_allows_at_most_its_own_attempts(conn: psycopg.Connection, machine: CoreMachine) -> None:
    submit(conn, machine, "fail_test", {"always": True})
    verdicts = []
    for _ in range(2):
        conn.execute("UPDATE app.tasks SET run_after = now() WHERE status = 'queued'")
        (task,) = claim(conn, "w", 1)
        verdicts.append(
            conn.execute(
                "SELECT app.fail_task(%s, 'w', %s, %s, 2) AS v",
                (task["task_id"], task["attempt"], Jsonb({"message": "bug"})),
            ).fetchone()["v"]
        )
    assert verdicts == ["retry", "failed"]  # the job type would allow 3


def test_resubmit_and_cancel(conn: psycopg.Connection, machine: CoreMachine) -> None:
    job_id, _ = submit(conn, machine, "hello_world", {"n": 2})
    with conn.transaction():
        assert machine.cancel(conn, job_id)
    statuses = {r["status"] for r in conn.execute("SELECT status::text FROM app.tasks")}
    assert statuses == {"cancelled"}
    with conn.transaction():
        machine.resubmit(conn, job_id)
    job = conn.execute("SELECT status::text, stage FROM app.jobs").fetchone()
    assert job == {"status": "queued", "stage": 1}
    assert {r["status"] for r in conn.execute("SELECT status::text FROM app.tasks")} == {"queued"}
