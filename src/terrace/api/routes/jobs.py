"""Jobs API: submit, status, list, events, tasks, resubmit, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import PlainTextResponse

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import Machine, Pool, StorageDep
from terrace.errors import NotFound
from terrace.orchestration import status as views
from terrace.platform.visibility import Viewer, require_job

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
Reader = Annotated[Principal, Depends(require(Role.reader))]
Admin = Annotated[Principal, Depends(require(Role.admin))]


@router.post("/submit/{job_type}", status_code=202)
def submit(
    job_type: str,
    pool: Pool,
    jobs: Machine,
    principal: Admin,
    response: Response,
    parameters: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Submit a job (admins only); the same job type and parameters return the existing job (200).

    Processing jobs write a release's outputs: submitters go through POST /api/platform/submit,
    which creates the release they belong to."""
    with pool.connection() as conn, conn.transaction():
        job_id, created = jobs.submit(conn, job_type, parameters, submitted_by=principal.actor)
    if not created:
        response.status_code = 200
    return {"job_id": job_id, "created": created, "links": {"status": f"/api/jobs/{job_id}"}}


@router.get("")
def list_jobs(
    pool: Pool,
    principal: Reader,
    status: str | None = None,
    job_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        return views.list_jobs(conn, Viewer.of(principal).params, status, job_type, limit, offset)


@router.get("/{job_id}")
def job(job_id: str, pool: Pool, jobs: Machine, principal: Reader) -> dict[str, Any]:
    with pool.connection() as conn:
        require_job(conn, Viewer.of(principal), job_id)
        return views.job_status(conn, jobs.registry, jobs.storage, job_id)


@router.get("/{job_id}/events")
def events(
    job_id: str, pool: Pool, principal: Reader, after: Annotated[int, Query(ge=0)] = 0
) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        require_job(conn, Viewer.of(principal), job_id)
        return views.job_events(conn, job_id, after, operator=principal.has(Role.admin))


@router.get("/{job_id}/tasks")
def tasks(
    job_id: str,
    pool: Pool,
    storage: StorageDep,
    principal: Reader,
    stage: int | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    with pool.connection() as conn:
        require_job(conn, Viewer.of(principal), job_id)
        return views.job_tasks(conn, storage, job_id, stage, status, limit, offset)


@router.post("/{job_id}/resubmit", status_code=202)
def resubmit(job_id: str, pool: Pool, jobs: Machine, _: Admin) -> dict[str, Any]:
    """Reset the job and run it again from its first stage."""
    with pool.connection() as conn, conn.transaction():
        jobs.resubmit(conn, job_id)
    return {"job_id": job_id, "resubmitted": True}


@router.post("/{job_id}/cancel")
def cancel(job_id: str, pool: Pool, jobs: Machine, _: Admin) -> dict[str, Any]:
    with pool.connection() as conn, conn.transaction():
        return {"job_id": job_id, "cancelled": jobs.cancel(conn, job_id)}


@router.get("/{job_id}/repair-report.csv", response_class=PlainTextResponse)
def repair_report(
    job_id: str, pool: Pool, jobs: Machine, storage: StorageDep, principal: Reader
) -> PlainTextResponse:
    """Which source rows were dropped or repaired, and why (vector jobs)."""
    with pool.connection() as conn:
        require_job(conn, Viewer.of(principal), job_id)
        result = views.job_status(conn, jobs.registry, storage, job_id)["result"] or {}
    report = (result.get("outputs") or {}).get("repair_report")
    if not report:
        raise NotFound(
            f"Job {job_id} has no repair report.",
            "Only vector jobs that dropped or repaired features have one; see the job's warnings.",
        )
    return PlainTextResponse(
        storage.get(report["container"], report["path"]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{job_id[:12]}-repairs.csv"'},
    )
