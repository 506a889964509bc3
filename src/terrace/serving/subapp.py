"""The FastAPI app each serving library is mounted as: its own OpenAPI and docs, its errors."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from terrace import __version__


def serving_app(
    title: str,
    description: str,
    add_handlers: Any,
    status_codes: dict[Any, int],
    dependencies: list | None = None,
) -> FastAPI:
    """`add_handlers(app, status_codes)` registers the library's exception handlers (tipg, titiler).

    Only those of its errors that are not server errors: the library's 500 answers carry the
    exception's text (SQL, paths), and the host app answers those with a logged reference.
    """
    app = FastAPI(
        title=title,
        description=description,
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        dependencies=dependencies,
    )
    add_handlers(app, {exc: code for exc, code in status_codes.items() if code != 500})
    return app
