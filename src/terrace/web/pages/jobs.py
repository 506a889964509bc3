"""Jobs: a filterable list, and a job's stages, progress and execution timeline (live)."""

from __future__ import annotations

from datetime import UTC, datetime
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
    registry = machine.registry
    known = status["job_type"] in registry.names()
    names = [stage.name for stage in registry.get(status["job_type"]).stages] if known else []
    return {
        "job": status,
        "stages": stages(status, names),
        "figures": figures(status, datetime.now(UTC)),
        "timeline": timeline(events),
        "running": status["status"] in ("queued", "running"),
    }


def stages(job: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """Every stage of the job, those not planned yet with no tasks, so the bars show what is ahead."""
    planned = {row["stage"]: row for row in job["stages"]}
    ahead = {"total": 0, "completed": 0, "running": 0, "failed": 0, "progress": 0.0}
    count = max(job["stage_count"] or 0, len(names), max(planned, default=0))
    return [
        planned.get(n) or {"stage": n, "name": names[n - 1] if n <= len(names) else None, **ahead}
        for n in range(1, count + 1)
    ]


def figures(job: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Tasks done of those planned, seconds since the job started, and tasks done per second."""
    done = sum(row["completed"] for row in job["stages"])
    start = job["started_at"] or job["created_at"]
    elapsed = max(((job["finished_at"] or now) - start).total_seconds(), 0.0)
    return {
        "done": done,
        "total": sum(row["total"] for row in job["stages"]),
        "elapsed": elapsed,
        "rate": done / elapsed if job["started_at"] and elapsed >= 1 else None,
    }


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
