"""Catalog health (admins): the latest consistency report, findings by kind, and buttons that run
a check, preview a repair (dry run) or repair; each run's progress and outcome refresh live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from terrace.auth import Principal, Role, require_role
from terrace.consistency.operations import CheckRequest, RepairRequest, read_report, start_check, start_repair
from terrace.dependencies import Machine, Pool
from terrace.errors import NotFound
from terrace.orchestration.status import job_status
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/admin/catalog")
Admin = Annotated[Principal, Depends(needs(Role.admin))]
FINISHED = ("completed", "failed", "cancelled")


@router.get("")
def page(request: Request, pool: Pool, user: User) -> Response:
    require_role(user, Role.admin, "catalog health")
    try:
        report = read_report(pool)
    except NotFound:
        report = None
    return render(request, "catalog_health.html", user=user, report=report)


@router.post("/check")
def check(request: Request, pool: Pool, machine: Machine, user: Admin) -> Response:
    job_id = start_check(pool, machine, user, CheckRequest())
    return _run(request, pool, machine, user, job_id)


@router.post("/repair")
def repair(
    request: Request, pool: Pool, machine: Machine, user: Admin, apply: Annotated[bool, Form()] = False
) -> Response:
    job_id = start_repair(pool, machine, user, RepairRequest(dry_run=not apply))
    return _run(request, pool, machine, user, job_id)


@router.get("/runs/{job_id}")
def run(request: Request, job_id: str, pool: Pool, machine: Machine, user: User) -> Response:
    """A check's or repair's progress, then its outcome (a repair's action list)."""
    require_role(user, Role.admin, "catalog health")
    return _run(request, pool, machine, user, job_id)


def _run(request: Request, pool: Pool, machine: Machine, user: Principal, job_id: str) -> Response:
    with pool.connection() as conn:
        job = job_status(conn, machine.registry, machine.storage, job_id)
    if job["job_type"] not in ("check_catalog", "repair_catalog"):
        raise NotFound(f"No catalog run {job_id!r}.", "Start one from the Catalog health page.")
    return render(
        request, "partials/catalog_run.html", user=user, job=job, finished=job["status"] in FINISHED
    )
