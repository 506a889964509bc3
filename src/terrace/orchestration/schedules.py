"""Cron schedules that submit jobs, kept in app.schedules: checked, listed, set, removed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput, NotFound
from terrace.orchestration.machine import validate
from terrace.orchestration.registry import JobRegistry

NAME = r"^[a-z0-9][a-z0-9_-]{0,99}$"


class ScheduleSpec(BaseModel):
    """What an operator sets: submit `job_type` with `parameters` at the times `cron` names (UTC)."""

    model_config = ConfigDict(extra="forbid")

    job_type: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    cron: str = Field(min_length=1, description="Five-field cron expression, in UTC, e.g. '0 2 * * *'.")
    enabled: bool = True


class DefaultSchedule(ScheduleSpec):
    """A schedule an installation starts with (`terrace.pipelines.DEFAULT_SCHEDULES`)."""

    name: str = Field(pattern=NAME)


def next_run(cron: str, after: datetime) -> datetime:
    """The first time `cron` names after `after`, in UTC."""
    return croniter(cron, after.astimezone(UTC)).get_next(datetime)


def check(spec: ScheduleSpec, registry: JobRegistry) -> None:
    """A schedule must name a valid cron, a registered job type and parameters that job accepts."""
    if not croniter.is_valid(spec.cron) or len(spec.cron.split()) != 5:
        raise InvalidInput(
            f"cron {spec.cron!r} is not a valid cron expression.",
            "Use five fields (minute hour day-of-month month day-of-week, UTC), e.g. '0 2 * * *'.",
        )
    if spec.job_type not in registry.names():
        raise InvalidInput(
            f"Unknown job type {spec.job_type!r}.", f"Use one of: {', '.join(registry.names())}."
        )
    validate(registry.get(spec.job_type), spec.parameters)


def list_schedules(conn: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(queries("schedules")["list"])]


def get_schedule(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(queries("schedules")["get"], {"name": name}).fetchone()
    if row is None:
        raise NotFound(f"No schedule {name!r}.", "List the schedules with GET /api/admin/schedules.")
    return dict(row)


def put_schedule(
    conn: Connection, name: str, spec: ScheduleSpec, registry: JobRegistry, actor: str
) -> dict[str, Any]:
    """Create or replace the schedule `name`; it next runs at the first time its cron names."""
    check(spec, registry)
    row = conn.execute(
        queries("schedules")["put"],
        {
            "name": name,
            "job_type": spec.job_type,
            "parameters": Jsonb(spec.parameters),
            "cron": spec.cron,
            "enabled": spec.enabled,
            "next_run_at": next_run(spec.cron, datetime.now(UTC)),
            "actor": actor,
        },
    ).fetchone()
    if row is None:
        raise Conflict(
            f"{name!r} is the name of one of the scheduler's built-in periodic actions.",
            "Choose another name for the schedule.",
        )
    return get_schedule(conn, name)


def delete_schedule(conn: Connection, name: str) -> None:
    if conn.execute(queries("schedules")["delete"], {"name": name}).fetchone() is None:
        raise NotFound(f"No schedule {name!r}.", "List the schedules with GET /api/admin/schedules.")


def ensure_defaults(
    conn: Connection, defaults: Iterable[DefaultSchedule], registry: JobRegistry
) -> list[str]:
    """Add the default schedules whose job type this installation runs and that are missing (an
    operator disables a default rather than deleting it: `ensure` would add it again)."""
    added = []
    for default in defaults:
        if default.job_type not in registry.names():
            continue
        check(default, registry)
        params = {
            "name": default.name,
            "job_type": default.job_type,
            "parameters": Jsonb(default.parameters),
            "cron": default.cron,
            "next_run_at": next_run(default.cron, datetime.now(UTC)),
        }
        if conn.execute(queries("schedules")["add_default"], params).fetchone() is not None:
            added.append(f"added schedule {default.name}")
    return added
