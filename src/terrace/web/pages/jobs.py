"""Jobs: a filterable list, and a job's stages, progress and execution timeline (live)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from terrace.auth import Principal, Role
from terrace.db import pool as db
from terrace.dependencies import Machine, Pool
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.status import job_events, job_status, list_jobs
from terrace.platform.visibility import Viewer, require_job
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/jobs")
STATUSES = ("queued", "running", "awaiting_approval", "completed", "failed", "cancelled")
Admin = Annotated[Principal, Depends(needs(Role.admin))]


@router.get("")
def jobs(
    request: Request, pool: Pool, user: User, status: str | None = None, job_type: str | None = None
) -> Response:
    with pool.connection() as conn:
        rows = list_jobs(conn, Viewer.of(user).params, status or None, job_type or None, 100)
    return render(
        request, "jobs.html", user=user, jobs=rows, statuses=STATUSES, status=status, job_type=job_type
    )


@router.get("/{job_id}")
def job(request: Request, job_id: str, pool: Pool, machine: Machine, user: User) -> Response:
    return render(request, "job.html", user=user, **_detail(pool, machine, user, job_id))


@router.get("/{job_id}/live")
def job_live(request: Request, job_id: str, pool: Pool, machine: Machine, user: User) -> Response:
    """The part of the job page that refreshes while the job runs."""
    return render(request, "partials/job_live.html", user=user, **_detail(pool, machine, user, job_id))


@router.post("/{job_id}/resubmit")
def resubmit(job_id: str, pool: Pool, machine: Machine, _: Admin) -> Response:
    with pool.connection() as conn, conn.transaction():
        machine.resubmit(conn, job_id)
    return RedirectResponse(f"/interface/jobs/{job_id}", status_code=303)


@router.post("/{job_id}/cancel")
def cancel(job_id: str, pool: Pool, machine: Machine, _: Admin) -> Response:
    with pool.connection() as conn, conn.transaction():
        machine.cancel(conn, job_id)
    return RedirectResponse(f"/interface/jobs/{job_id}", status_code=303)


def _detail(pool: db.Pool, machine: CoreMachine, user: Principal, job_id: str) -> dict[str, Any]:
    with pool.connection() as conn:
        require_job(conn, Viewer.of(user), job_id)
        status = job_status(conn, machine.registry, machine.storage, job_id)
        events = job_events(conn, job_id, operator=user.has(Role.admin))
    return {"job": status, "timeline": timeline(events), "running": status["status"] in ("queued", "running")}


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events with the time since the previous one and since the first, for the execution timeline."""
    if not events:
        return []
    start: datetime = events[0]["created_at"]
    rows, previous = [], start
    for event in events:
        rows.append(
            {
                **event,
                "offset": (event["created_at"] - start).total_seconds(),
                "took": (event["created_at"] - previous).total_seconds(),
            }
        )
        previous = event["created_at"]
    return rows
