"""Periodic work and cron schedules, run by the janitor's leader on every tick.

Each run is claimed in the database (`app.schedules`), so that however many schedulers tick at
once, a due schedule fires exactly once: the cron schedules operators keep there, read afresh on
every tick, and the periodic actions the installation passes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import TerraceError
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.schedules import next_run

log = logging.getLogger("terrace.scheduler")
FINISHED = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Periodic:
    """Run `action` every `every_seconds`, on one worker of the whole deployment."""

    name: str
    every_seconds: float
    action: Callable[[Connection], None]


@dataclass(frozen=True)
class Scheduler:
    periodic: tuple[Periodic, ...] = ()

    def run_due(self, conn: Connection, machine: CoreMachine) -> list[str]:
        """Run whatever is due; returns the names that ran. `conn` is in autocommit mode."""
        q = queries("schedules")
        ran = []
        for item in self.periodic:
            with conn.transaction():
                params = {"name": item.name, "every": item.every_seconds}
                if conn.execute(q["claim_periodic"], params).fetchone() is not None:
                    item.action(conn)
                    ran.append(item.name)
        while True:
            with conn.transaction():
                due = conn.execute(q["claim_due"]).fetchone()
                if due is None:
                    return ran
                conn.execute(q["ran"], self._fire(conn, machine, dict(due)))
            ran.append(due["name"])

    def _fire(self, conn: Connection, machine: CoreMachine, due: dict[str, Any]) -> dict[str, Any]:
        """Submit a claimed schedule's job; returns what `ran` records: next run, job, or why none."""
        try:
            upcoming = next_run(due["cron"], due["claimed_at"])
        except ValueError:  # a cron changed by hand in the table: the schedule stops
            invalid = f"cron {due['cron']!r} is not valid: set the schedule again."
            return {"name": due["name"], "next_run_at": None, "job_id": None, "error": invalid}
        job_id, error = self._submit(conn, machine, due)
        return {"name": due["name"], "next_run_at": upcoming, "job_id": job_id, "error": error}

    @staticmethod
    def _submit(conn: Connection, machine: CoreMachine, due: dict[str, Any]) -> tuple[str | None, str | None]:
        """Submit the schedule's job (a finished earlier run is resubmitted); a job that can no
        longer be submitted (its type gone, its parameters refused) is recorded on the schedule."""
        try:
            with conn.transaction():
                job_id, created = machine.submit(
                    conn, due["job_type"], due["parameters"], submitted_by=f"schedule:{due['name']}"
                )
                if not created and machine.lock(conn, job_id)["status"] in FINISHED:
                    machine.resubmit(conn, job_id)
        except TerraceError as exc:
            log.warning("schedule %s could not submit its job: %s", due["name"], exc.message)
            return None, f"{exc.message} {exc.remediation}"
        return job_id, None
