"""The janitor: one leader at a time (an advisory lock) requeues lost tasks, fails stuck jobs,
retries failed completion hooks and runs the scheduler."""

from __future__ import annotations

import logging
import threading

import psycopg

from terrace.db.pool import Connection, connect
from terrace.db.queries import queries
from terrace.orchestration.failures import Failure
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.scheduler import Scheduler

log = logging.getLogger("terrace.janitor")
LEADER_LOCK = 0x7E77ACE  # advisory lock key held by the janitor leader for its whole life

LEASE_EXPIRED = Failure(
    {
        "code": "LEASE_EXPIRED",
        "category": "worker_lost",
        "user_fixable": False,
        "message": "The worker running this task stopped renewing its lease (crashed, killed or cut off).",
        "remediation": "Retried automatically on another worker.",
    },
    max_attempts=None,
)


class Janitor:
    def __init__(
        self,
        database_url: str,
        machine: CoreMachine,
        scheduler: Scheduler,
        interval: float,
        *,
        keepalive_seconds: float | None = None,
    ) -> None:
        self.database_url = database_url
        self.keepalive_seconds = keepalive_seconds
        self.machine = machine
        self.scheduler = scheduler
        self.interval = interval
        self.q = queries("orchestration")

    def run(self, stopped: threading.Event) -> None:
        """Try to lead every interval; while leading, sweep every interval. Until `stopped`."""
        conn: Connection | None = None
        while not stopped.wait(self.interval):
            try:
                if conn is None or conn.closed:
                    conn = connect(
                        self.database_url, autocommit=True, keepalive_seconds=self.keepalive_seconds
                    )
                lead = conn.execute(self.q["try_lead"], {"key": LEADER_LOCK}).fetchone()
                if lead and lead["leading"]:
                    self.sweep(conn)
            except psycopg.OperationalError as exc:
                log.warning("janitor lost its connection: %s", exc)
                conn = None
        if conn is not None:
            conn.close()

    def sweep(self, conn: Connection) -> None:
        self.requeue_expired(conn)
        self.fail_timed_out(conn)
        self.retry_hooks(conn)
        self.scheduler.run_due(conn, self.machine)

    def requeue_expired(self, conn: Connection) -> int:
        requeued = 0
        for task in conn.execute(self.q["expired_leases"]).fetchall():
            lease = (task["lease_owner"], task["attempt"])
            with conn.transaction():
                if conn.execute(self.q["take_expired"], task).fetchone() is None:
                    continue
                self.machine.fail_task(
                    conn, task["job_id"], task["task_id"], task["stage"], lease, LEASE_EXPIRED
                )
                requeued += 1
        return requeued

    def fail_timed_out(self, conn: Connection) -> None:
        for job in conn.execute(self.q["timed_out_jobs"]).fetchall():
            error = {
                "code": "JOB_TIMEOUT",
                "category": "timeout",
                "user_fixable": False,
                "message": f"The job ran longer than its timeout of {job['timeout_seconds']} s.",
                "remediation": "Resubmit it; if it keeps timing out, raise the job type's timeout.",
            }
            with conn.transaction():
                self.machine.lock(conn, job["job_id"])
                self.machine.fail_job(conn, job["job_id"], error)

    def retry_hooks(self, conn: Connection) -> None:
        for job in conn.execute(self.q["pending_hooks"]).fetchall():
            with conn.transaction():
                self.machine.run_hook(conn, dict(job))
