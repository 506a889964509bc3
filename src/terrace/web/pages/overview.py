"""Sign in and out, the home page, and live platform health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from terrace.auth import Role
from terrace.dependencies import DatabaseUrl, Pool, StorageDep
from terrace.health import check_health, overall
from terrace.observability.exposition import headline_figures
from terrace.orchestration.status import list_jobs
from terrace.platform import resolve
from terrace.platform.visibility import Viewer
from terrace.web.pages import oidc
from terrace.web.session import User, checked_csrf, local_target, sign_in, sign_out
from terrace.web.templating import render

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/interface/") -> Response:
    return render(request, "login.html", next=local_target(next), oidc=oidc.offered(request))


@router.post("/login", dependencies=[Depends(checked_csrf)])
def login(
    request: Request, pool: Pool, key: Annotated[str, Form()], next: Annotated[str, Form()] = "/interface/"
) -> Response:
    if sign_in(request, pool, key) is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=local_target(next),
            failed=True,
            oidc=oidc.offered(request),
        )
    return RedirectResponse(local_target(next), status_code=303)


@router.post("/logout", dependencies=[Depends(checked_csrf)])
def logout(request: Request, pool: Pool) -> Response:
    sign_out(request, pool)
    return RedirectResponse("/interface/login", status_code=303)


@router.get("/")
def home(request: Request, pool: Pool, user: User) -> Response:
    viewer = Viewer.of(user)
    with pool.connection() as conn:
        waiting = resolve.approvals(conn, viewer, "pending_review", None, 20)
        published = resolve.approvals(conn, viewer, "approved", None, 10)
        running = list_jobs(conn, viewer.params, "running", None, 20)
        failed = list_jobs(conn, viewer.params, "failed", None, 10)
    return render(
        request, "home.html", user=user, waiting=waiting, published=published, running=running, failed=failed
    )


@router.get("/health")
def health_page(request: Request, user: User) -> Response:
    return render(request, "health.html", user=user)


@router.get("/health/live")
async def health_live(
    request: Request, pool: Pool, database_url: DatabaseUrl, storage: StorageDep, user: User
) -> Response:
    """Each component for admins; the overall status for everyone else."""
    report = await run_in_threadpool(check_health, pool, database_url, storage)
    if not user.has(Role.admin):
        return render(request, "partials/health.html", user=user, report=overall(report))
    figures = await run_in_threadpool(headline_figures, pool)
    return render(request, "partials/health.html", user=user, report=report, figures=figures)
