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
    """`add_handlers(app, status_codes)` registers the library's exception handlers (tipg, titiler)."""
    app = FastAPI(
        title=title,
        description=description,
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        dependencies=dependencies,
    )
    add_handlers(app, status_codes)
    return app
