"""Cron schedules kept in the database: each due one fires exactly once however many schedulers
tick at once; a disabled one never; defaults are added only for registered job types."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.rows import dict_row

from terrace.orchestration.demo import HELLO_WORLD, with_demos
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.registry import JobRegistry
from terrace.orchestration.scheduler import Periodic, Scheduler
from terrace.orchestration.schedules import DefaultSchedule, ScheduleSpec, ensure_defaults, put_schedule
from terrace.pipelines import default_registry
from terrace.storage import Storage


@pytest.fixture
def machine(storage: Storage) -> CoreMachine:
    return CoreMachine(with_demos(default_registry()), storage)


def connect(database_url: str) -> psycopg.Connection:
    return psycopg.connect(database_url, autocommit=True, row_factory=dict_row)


def make_due(conn: psycopg.Connection, machine: CoreMachine, name: str, n: int, enabled: bool = True) -> None:
    spec = ScheduleSpec(job_type="hello_world", parameters={"n": n}, cron="0 3 * * *", enabled=enabled)
    with conn.transaction():
        put_schedule(conn, name, spec, machine.registry, "test")
        conn.execute(
            "UPDATE app.schedules SET next_run_at = now() - interval '1 minute' WHERE name = %s", [name]
        )


def scheduled_jobs(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT submitted_by FROM app.jobs WHERE submitted_by LIKE 'schedule:%' ORDER BY 1")
    return [row["submitted_by"] for row in rows]


def test_two_schedulers_racing_fire_each_due_schedule_once(database_url: str, machine: CoreMachine) -> None:
    names = [f"every-night-{i:02d}" for i in range(12)]
    with connect(database_url) as conn:
        for i, name in enumerate(names):
            make_due(conn, machine, name, i + 1)

    start = threading.Barrier(2)
    ran: list[list[str]] = [[], []]

    def tick(slot: int) -> None:
        with connect(database_url) as own:
            start.wait()
            ran[slot] = Scheduler().run_due(own, machine)

    threads = [threading.Thread(target=tick, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(ran[0] + ran[1]) == names
    with connect(database_url) as conn:
        assert scheduled_jobs(conn) == [f"schedule:{name}" for name in names]
        created = conn.execute(
            "SELECT count(*) AS n FROM app.job_events WHERE kind = 'job_created'"
        ).fetchone()
        assert created["n"] == len(names)
        late = conn.execute("SELECT count(*) AS n FROM app.schedules WHERE next_run_at <= now()").fetchone()
        assert late["n"] == 0
        # Nothing is due any more: another tick fires nothing.
        assert Scheduler().run_due(conn, machine) == []


def test_a_disabled_schedule_does_not_fire(database_url: str, machine: CoreMachine) -> None:
    with connect(database_url) as conn:
        make_due(conn, machine, "paused", 2, enabled=False)
        make_due(conn, machine, "active", 3)
        assert Scheduler().run_due(conn, machine) == ["active"]
        assert scheduled_jobs(conn) == ["schedule:active"]


def test_a_finished_run_is_resubmitted_when_the_schedule_fires_again(
    database_url: str, machine: CoreMachine
) -> None:
    with connect(database_url) as conn:
        make_due(conn, machine, "again", 4)
        Scheduler().run_due(conn, machine)
        conn.execute("UPDATE app.jobs SET status = 'completed'")
        conn.execute("UPDATE app.schedules SET next_run_at = now() - interval '1 second'")
        assert Scheduler().run_due(conn, machine) == ["again"]
        job = conn.execute("SELECT status::text AS status FROM app.jobs").fetchone()
        assert job["status"] == "queued"
        kinds = [r["kind"] for r in conn.execute("SELECT kind FROM app.job_events WHERE kind LIKE 'job_%'")]
        assert kinds == ["job_created", "job_resubmitted"]


def test_a_schedule_whose_job_cannot_be_submitted_records_why_and_waits_for_its_next_time(
    database_url: str, machine: CoreMachine
) -> None:
    with connect(database_url) as conn:
        make_due(conn, machine, "broken", 5)
        conn.execute("UPDATE app.schedules SET parameters = '{\"n\": -1}'")
        assert Scheduler().run_due(conn, machine) == ["broken"]
        row = conn.execute(
            "SELECT last_error, last_job_id, next_run_at > now() AS later FROM app.schedules"
        ).fetchone()
        assert "Invalid parameters for hello_world" in row["last_error"]
        assert row["last_job_id"] is None and row["later"]
        assert scheduled_jobs(conn) == []


def test_default_schedules_are_added_only_for_registered_job_types(database_url: str) -> None:
    nightly = DefaultSchedule(
        name="nightly-hello", job_type="hello_world", parameters={"n": 1}, cron="0 2 * * *"
    )
    without = JobRegistry()
    with_hello = JobRegistry()
    with_hello.register(HELLO_WORLD)
    with connect(database_url) as conn:
        assert ensure_defaults(conn, [nightly], without) == []
        assert ensure_defaults(conn, [nightly], with_hello) == ["added schedule nightly-hello"]
        assert ensure_defaults(conn, [nightly], with_hello) == []
        row = conn.execute(
            "SELECT job_type, cron, enabled, next_run_at > now() AS later FROM app.schedules"
        ).fetchone()
        assert row == {"job_type": "hello_world", "cron": "0 2 * * *", "enabled": True, "later": True}


def test_a_cron_broken_by_hand_stops_its_schedule_and_not_the_scheduler(
    database_url: str, machine: CoreMachine
) -> None:
    with connect(database_url) as conn:
        make_due(conn, machine, "mangled", 6)
        make_due(conn, machine, "fine", 7)
        conn.execute("UPDATE app.schedules SET cron = 'whenever' WHERE name = 'mangled'")
        assert sorted(Scheduler().run_due(conn, machine)) == ["fine", "mangled"]
        row = conn.execute(
            "SELECT last_error, next_run_at FROM app.schedules WHERE name = 'mangled'"
        ).fetchone()
        assert "'whenever' is not valid" in row["last_error"] and row["next_run_at"] is None
        assert scheduled_jobs(conn) == ["schedule:fine"]


def test_racing_schedulers_run_a_periodic_action_once_per_interval(
    database_url: str, machine: CoreMachine
) -> None:
    calls: list[int] = []
    scheduler = Scheduler(periodic=(Periodic("sweep-thing", 3600, lambda conn: calls.append(1)),))
    start = threading.Barrier(2)

    def tick() -> None:
        with connect(database_url) as own:
            start.wait()
            scheduler.run_due(own, machine)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert calls == [1]
    with connect(database_url) as conn:
        assert scheduler.run_due(conn, machine) == []
        assert Scheduler().run_due(conn, machine) == []  # a periodic row is not a cron schedule
