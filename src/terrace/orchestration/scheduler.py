"""Periodic work and cron schedules, run by the janitor's leader; last runs live in app.schedules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.orchestration.machine import CoreMachine


@dataclass(frozen=True)
class Periodic:
    """Run `action` every `every_seconds`, on one worker of the whole deployment."""

    name: str
    every_seconds: float
    action: Callable[[Connection], None]


@dataclass(frozen=True)
class CronJob:
    """Submit `job_type` with `parameters` on a cron schedule; a finished run is resubmitted."""

    name: str
    cron: str
    job_type: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Scheduler:
    periodic: tuple[Periodic, ...] = ()
    cron: tuple[CronJob, ...] = field(default=())

    def run_due(self, conn: Connection, machine: CoreMachine) -> list[str]:
        """Run whatever is due; returns the names that ran."""
        ran = []
        now = datetime.now(UTC)
        for item in self.periodic:
            with conn.transaction():
                last = self._last_run(conn, item.name)
                if last is None or now - last >= timedelta(seconds=item.every_seconds):
                    item.action(conn)
                    self._ran(conn, item.name, now)
                    ran.append(item.name)
        for job in self.cron:
            with conn.transaction():
                last = self._last_run(conn, job.name) or now - timedelta(days=1)
                due = croniter(job.cron, last).get_next(datetime)
                if due <= now:
                    self._submit(conn, machine, job)
                    self._ran(conn, job.name, now)
                    ran.append(job.name)
        return ran

    @staticmethod
    def _submit(conn: Connection, machine: CoreMachine, job: CronJob) -> None:
        job_id, created = machine.submit(conn, job.job_type, job.parameters, submitted_by=f"cron:{job.name}")
        if not created and machine.lock(conn, job_id)["status"] in ("completed", "failed", "cancelled"):
            machine.resubmit(conn, job_id)

    @staticmethod
    def _last_run(conn: Connection, name: str) -> datetime | None:
        row = conn.execute(queries("orchestration")["schedule_last_run"], {"name": name}).fetchone()
        return None if row is None else row["last_run_at"]

    @staticmethod
    def _ran(conn: Connection, name: str, at: datetime) -> None:
        conn.execute(queries("orchestration")["schedule_ran"], {"name": name, "at": at})
