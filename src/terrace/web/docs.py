"""The Swagger UI page of every API, from the vendored Swagger UI and a static start script.

FastAPI's own pages load Swagger UI from a CDN and start it with an inline script, which neither
works offline nor passes the Content-Security-Policy; ReDoc is not offered.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.routing import Route

from terrace.web.templating import templates

PATH = "/docs"
# The route's name as FastAPI gives it: libraries link to their docs through it (tipg's landing page).
NAME = "swagger_ui_html"


def install_docs(app: FastAPI) -> None:
    """Serve `app`'s docs at /docs with Terrace's page, in place of the pages FastAPI registered."""
    fastapi_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes[:] = [
        route for route in app.router.routes if not (isinstance(route, Route) and route.path in fastapi_pages)
    ]
    app.docs_url = PATH
    app.redoc_url = None

    async def docs(request: Request) -> HTMLResponse:
        openapi = request.scope.get("root_path", "").rstrip("/") + (app.openapi_url or "")
        return templates.TemplateResponse(request, "docs.html", {"title": app.title, "openapi_url": openapi})

    app.add_route(PATH, docs, include_in_schema=False, name=NAME)
