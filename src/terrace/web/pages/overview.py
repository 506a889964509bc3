"""Sign in and out, the home page, and live platform health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from terrace.health import check_health
from terrace.orchestration.status import list_jobs
from terrace.platform import resolve
from terrace.web.session import User, checked_csrf, sign_in, sign_out
from terrace.web.templating import render

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/interface/") -> Response:
    return render(request, "login.html", next=_local(next))


@router.post("/login", dependencies=[Depends(checked_csrf)])
def login(
    request: Request, key: Annotated[str, Form()], next: Annotated[str, Form()] = "/interface/"
) -> Response:
    if sign_in(request, key) is None:
        return render(request, "login.html", status_code=401, next=_local(next), failed=True)
    return RedirectResponse(_local(next), status_code=303)


@router.post("/logout", dependencies=[Depends(checked_csrf)])
def logout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/interface/login", status_code=303)


@router.get("/")
def home(request: Request, user: User) -> Response:
    with request.app.state.pool.connection() as conn:
        waiting = resolve.approvals(conn, "pending_review", None, 20)
        published = resolve.approvals(conn, "approved", None, 10)
        running = list_jobs(conn, "running", None, 20)
        failed = list_jobs(conn, "failed", None, 10)
    return render(
        request, "home.html", user=user, waiting=waiting, published=published, running=running, failed=failed
    )


@router.get("/health")
def health_page(request: Request, user: User) -> Response:
    return render(request, "health.html", user=user)


@router.get("/health/live")
async def health_live(request: Request, user: User) -> Response:
    state = request.app.state
    report = await run_in_threadpool(check_health, state.pool, state.database_url, state.storage)
    return render(request, "partials/health.html", user=user, report=report)


def _local(target: str) -> str:
    """Only paths inside the interface: a login link must not redirect to another site."""
    return target if target.startswith("/interface/") and "//" not in target else "/interface/"
