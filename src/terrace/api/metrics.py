"""HTTP metrics of every request, by route template, and the `/metrics` route that reports them.

`/metrics` answers an admin credential or the bearer token TERRACE_METRICS_TOKEN (what a
Prometheus scrape job sends as `authorization: {credentials: ...}`); anyone else gets 401/403.
"""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrace.api.deps import current_principal
from terrace.auth import Role, require_role
from terrace.dependencies import OidcDep, Pool
from terrace.observability.exposition import exposition
from terrace.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

router = APIRouter(tags=["health"])
UNMATCHED = "unmatched"  # requests no route took (404s): one label, not one per path tried


def may_read_metrics(request: Request, pool: Pool, oidc: OidcDep) -> None:
    token: str | None = request.app.state.metrics_token
    offered = request.headers.get("authorization", "").partition(" ")[2].strip()
    if token and offered and secrets.compare_digest(offered.encode(), token.encode()):
        return
    require_role(current_principal(request, pool, oidc), Role.admin, "the metrics")


@router.get("/metrics", dependencies=[Depends(may_read_metrics)], response_class=Response)
async def metrics(pool: Pool) -> Response:
    """Prometheus metrics of the API and worker processes, and the queue read from the database."""
    return Response(await run_in_threadpool(exposition, pool), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """Counts each request and times it, labelled by the template of the route that answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            route = route_template(scope, status)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def route_template(scope: Scope, status: int) -> str:
    """The template of the route that answered, under the mounts it sits in (e.g.
    /features/collections/{collectionId}/items): routers leave the route and the mount's root path
    in the request's scope. A mount without routes of its own (static files) counts as one route."""
    route = scope.get("route")
    root = str(scope.get("root_path", ""))
    if not isinstance(route, BaseRoute) or (isinstance(route, Mount) and status == 404):
        return UNMATCHED
    return root + "/{path}" if isinstance(route, Mount) else root + str(getattr(route, "path", ""))
