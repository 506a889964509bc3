"""Admin API: the cron schedules that submit jobs (SPEC §12)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import Machine, Pool
from terrace.orchestration import schedules
from terrace.orchestration.schedules import NAME, ScheduleSpec
from terrace.platform.review import actor

router = APIRouter(prefix="/api/admin/schedules", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Role.admin))]
Name = Annotated[str, Path(pattern=NAME, description="The schedule's name: letters, digits, '_' or '-'.")]


@router.get("")
def list_schedules(pool: Pool, _: Admin) -> list[dict[str, Any]]:
    """Every schedule: job type, parameters, cron (UTC), enabled, last and next run."""
    with pool.connection() as conn:
        return schedules.list_schedules(conn)


@router.get("/{name}")
def get_schedule(name: Name, pool: Pool, _: Admin) -> dict[str, Any]:
    with pool.connection() as conn:
        return schedules.get_schedule(conn, name)


@router.put("/{name}")
def put_schedule(
    name: Name, body: ScheduleSpec, pool: Pool, machine: Machine, principal: Admin
) -> dict[str, Any]:
    """Create or replace a schedule; its cron, job type and parameters are checked (400 if wrong)."""
    with pool.connection() as conn, conn.transaction():
        return schedules.put_schedule(conn, name, body, machine.registry, actor(principal))


@router.delete("/{name}", status_code=204)
def delete_schedule(name: Name, pool: Pool, _: Admin) -> Response:
    """Remove a schedule. A default one comes back at the next `ensure`: disable it instead."""
    with pool.connection() as conn, conn.transaction():
        schedules.delete_schedule(conn, name)
    return Response(status_code=204)
