"""Schedules (admins): the cron schedules that submit jobs, with their last and next runs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from terrace.auth import Role, require_role
from terrace.dependencies import Pool
from terrace.orchestration.schedules import list_schedules
from terrace.web.session import User
from terrace.web.templating import render

router = APIRouter(prefix="/admin/schedules")


@router.get("")
def schedules(request: Request, pool: Pool, user: User) -> Response:
    require_role(user, Role.admin, "the schedules page")
    with pool.connection() as conn:
        rows = list_schedules(conn)
    return render(request, "schedules.html", user=user, schedules=rows)
