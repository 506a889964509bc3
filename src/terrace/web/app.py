"""The /interface app: session cookie, static files, pages; it shares the host app's state."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import State

from terrace.errors import NotFound, TerraceError
from terrace.web.pages import (
    analytics,
    assets,
    catalog,
    catalog_health,
    jobs,
    oidc,
    overview,
    review,
    schedules,
    services,
    submit,
)
from terrace.web.session import LoginRequired, SessionCookie
from terrace.web.templating import FOLDER, render

MOUNT = "/interface"


def create_interface(state: State, session_secret: str) -> FastAPI:
    """Pages read the pool, storage and CoreMachine from the host app's `state`."""
    interface = FastAPI(title="Terrace interface", docs_url=None, redoc_url=None, openapi_url=None)
    interface.state = state
    state.session_secret = session_secret  # also signs the pending sign-in through an OpenID provider
    interface.add_middleware(SessionCookie, secret_key=session_secret, name="terrace_session", path=MOUNT)
    interface.mount("/static", StaticFiles(directory=FOLDER / "static"), name="static")
    for module in (
        overview,
        oidc,
        jobs,
        submit,
        review,
        assets,
        catalog,
        services,
        catalog_health,
        schedules,
        analytics,
    ):
        interface.include_router(module.router)
    interface.add_exception_handler(LoginRequired, _login)
    interface.add_exception_handler(TerraceError, _error)
    interface.add_exception_handler(404, _not_found)
    return interface


async def _login(request: Request, _: Exception) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": f"{MOUNT}/login"})
    return RedirectResponse(f"{MOUNT}/login?next={request.url.path}", status_code=303)


async def _not_found(request: Request, _: Exception) -> Response:
    """A path of the interface that names no page or static file, answered as a page."""
    missing = NotFound(f"There is no page {request.url.path}.", "Use the menu to find what you look for.")
    return await _error(request, missing)


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TerraceError)
    return render(request, "error.html", status_code=exc.http_status, error=exc)
