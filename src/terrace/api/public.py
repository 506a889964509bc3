"""The public-zone API: the same serving APIs, configured for the public target.

It mounts `/features`, `/stac` and `/tiles` only, reading the public target through its read-only
role and the public container. There are no credentials (a bearer token is ignored: everyone is
anonymous), no reviewer previews, and no Platform, Jobs, admin or web UI routes; the security
headers, filter guard, error rendering and body limit are those of the main API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from terrace import __version__
from terrace.api.body_limit import BodyLimit, Limit
from terrace.api.errors import install_error_handlers
from terrace.api.headers import SecurityHeaders
from terrace.api.serving import mount
from terrace.auth import Principal
from terrace.serving.apps import ServingApps
from terrace.serving.visibility import Gate
from terrace.storage import Storage
from terrace.web.app import MOUNT
from terrace.web.templating import FOLDER


@dataclass(frozen=True)
class PublicAppConfig:
    serving_url: str  # the public target as its read-only role
    storage: Storage  # holding the `public` container
    body_max_bytes: int = 1024**2
    pool_max_size: int = 10
    tile_cache_mb: int = 64


def create_public_app(config: PublicAppConfig) -> FastAPI:
    serving = ServingApps(Gate(_anonymous), config.storage, None, config.tile_cache_mb)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serving.connected(config.serving_url, None, config.pool_max_size):
            yield

    app = FastAPI(
        title="Terrace public zone",
        version=__version__,
        description="Releases cleared for the public: OGC API – Features, STAC API and raster tiles.",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    mount(app, serving)
    # The serving APIs' /docs pages load the vendored Swagger UI from here; no page of the web UI is served.
    app.mount(f"{MOUNT}/static", StaticFiles(directory=FOLDER / "static"))
    app.add_middleware(
        BodyLimit,
        limit=Limit(config.body_max_bytes, "TERRACE_BODY_MAX_BYTES"),
        uploads=(),
        upload_limit=Limit(config.body_max_bytes, "TERRACE_BODY_MAX_BYTES"),
    )
    app.add_middleware(SecurityHeaders)
    return app


def _anonymous(request: Request) -> Principal | None:
    """Every caller of the public zone: credentials open nothing more here."""
    return None
