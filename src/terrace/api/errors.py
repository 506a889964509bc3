"""The one table from exceptions to HTTP responses, registered on the app and the serving apps.

What the server did not expect (a database error, a bug) answers 500 with a reference that is
also in the server log beside the traceback; the error's own text, which may hold SQL, table
names or paths, stays in the log.
"""

from __future__ import annotations

import logging

import asyncpg
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrace import errors

logger = logging.getLogger(__name__)


def _body(code: str, message: str, remediation: str) -> dict[str, str]:
    return {"code": code, "message": message, "remediation": remediation}


async def terrace_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.TerraceError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.Unauthenticated) else None
    return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()]
    return JSONResponse(
        _body(
            "INVALID_INPUT",
            "Invalid request: " + "; ".join(problems),
            "Correct the named fields and send the request again.",
        ),
        status_code=400,
    )


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return _referenced(request, exc, 503, "UNAVAILABLE", "The database is not available.", "Retry shortly")


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    return _referenced(
        request, exc, 500, "INTERNAL_ERROR", "The server failed to answer this request.", "Retry later"
    )


def _referenced(
    request: Request, exc: Exception, status: int, code: str, message: str, retry: str
) -> JSONResponse:
    """An error whose details stay in the log, under the reference the caller is given."""
    reference = _logged(request, exc)
    body = _body(code, message, f"{retry}; if it persists, give an operator the reference {reference}.")
    return JSONResponse({**body, "reference": reference}, status_code=status)


def _logged(request: Request, exc: Exception) -> str:
    reference = errors.new_reference()
    logger.exception("%s %s failed (reference %s)", request.method, request.url.path, reference, exc_info=exc)
    return reference


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        _body(f"HTTP_{exc.status_code}", str(exc.detail), "Check the URL and method against /docs."),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    install_serving_error_handlers(app)


def install_serving_error_handlers(app: FastAPI) -> None:
    """Terrace's errors and every server error; a serving library keeps its own client errors."""
    app.add_exception_handler(errors.TerraceError, terrace_error)
    app.add_exception_handler(psycopg.OperationalError, database_unavailable)
    for server_side in (asyncpg.PostgresError, psycopg.Error, ResponseValidationError):
        app.add_exception_handler(server_side, server_error)
    app.add_middleware(AnswerServerErrors)


class AnswerServerErrors:
    """Answers any other exception with `server_error`, as a handler would.

    A handler registered for `Exception` runs in Starlette's outermost middleware, which re-raises
    after answering, and the server then drops the connection under the client's next request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started or scope["type"] != "http":
                raise
            response = await server_error(Request(scope), exc)
            await response(scope, receive, send)
