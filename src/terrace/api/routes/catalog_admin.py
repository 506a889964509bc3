"""Admin API of catalog consistency (SPEC §12): run a check, read the latest report, repair."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.consistency.findings import Kind
from terrace.consistency.operations import CheckRequest, RepairRequest, read_report, start_check, start_repair
from terrace.consistency.report import DEFAULT_LIMIT, Report
from terrace.dependencies import Machine, Pool

router = APIRouter(prefix="/api/admin/catalog", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Role.admin))]


@router.post("/check", status_code=202)
def check(
    pool: Pool, machine: Machine, principal: Admin, body: Annotated[CheckRequest | None, Body()] = None
) -> dict[str, Any]:
    """Start a `check_catalog` job; its report becomes the latest when it completes."""
    job_id = start_check(pool, machine, principal, body or CheckRequest())
    return {
        "job_id": job_id,
        "links": {"status": f"/api/jobs/{job_id}", "report": "/api/admin/catalog/report"},
    }


@router.get("/report")
def report(
    pool: Pool,
    _: Admin,
    kind: Annotated[list[Kind] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = DEFAULT_LIMIT,
) -> Report:
    """The latest report: when, counts by kind, and its findings (of `kind`, at most `limit`)."""
    return read_report(pool, list(kind) if kind else None, limit)


@router.post("/repair", status_code=202)
def repair(
    pool: Pool, machine: Machine, principal: Admin, body: Annotated[RepairRequest | None, Body()] = None
) -> dict[str, Any]:
    """Start a `repair_catalog` job (a dry run unless `dry_run` is false); its result lists the actions."""
    job_id = start_repair(pool, machine, principal, body or RepairRequest())
    return {"job_id": job_id, "links": {"status": f"/api/jobs/{job_id}"}}
