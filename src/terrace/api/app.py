"""The app factory: one FastAPI app holding every Terrace API, with lifespan-managed pools."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from terrace import __version__
from terrace.analytics.grids import DEFAULT_MAX_CELLS
from terrace.api.body_limit import BodyLimit, Limit, Upload
from terrace.api.errors import install_error_handlers
from terrace.api.headers import SecurityHeaders, content_security_policy
from terrace.api.metrics import HttpMetrics
from terrace.api.metrics import router as metrics_router
from terrace.api.rate_limits import RateLimits, parse_limits
from terrace.api.request_ids import RequestIds
from terrace.api.routes import (
    admin,
    analytics,
    catalog_admin,
    health,
    jobs,
    keys,
    platform,
    schedules,
    services,
    storage,
    zonal,
)
from terrace.api.serving import mount_serving
from terrace.auth.oidc import Oidc, OidcConfig
from terrace.db.pool import open_pool
from terrace.db.rate_counters import PostgresCounters
from terrace.db.roles import RoleUrls
from terrace.orchestration.machine import CoreMachine
from terrace.orchestration.registry import JobRegistry
from terrace.outbound import OutboundPolicy
from terrace.pipelines import default_registry
from terrace.platform.processing import JobDefaults
from terrace.storage import Storage
from terrace.web import basemap
from terrace.web.app import MOUNT, create_interface
from terrace.web.docs import install_docs

# Routes that stream files to storage: the upload limit applies to them, not the body limit.
UPLOADS = (Upload("PUT", "/api/storage/"), Upload("POST", f"{MOUNT}/submit/check"))


@dataclass(frozen=True)
class AppConfig:
    databases: RoleUrls
    storage: Storage
    registry: JobRegistry = field(default_factory=default_registry)
    upload_max_bytes: int = 5 * 1024**3
    body_max_bytes: int = 1024**2
    job_defaults: JobDefaults = field(default_factory=JobDefaults)
    pool_min_size: int = 1
    pool_max_size: int = 10
    # Signs the web UI's session cookies; unset: a random one, and sessions end with the process.
    session_secret: str | None = None
    # The owner's connection, for the admin API's schema ensure and rebuild; unset: they refuse.
    owner_database_url: str | None = None
    # Where requests to user-given URLs (the service registry) may go (SPEC §9).
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    # The organisation's OpenID provider; unset: API keys only.
    oidc: OidcConfig | None = None
    # Route group -> limit per caller, e.g. {"writes": "60/minute"}; a group left out is unlimited.
    rate_limits: Mapping[str, str] = field(default_factory=dict)
    # Bearer token that may read /metrics besides admin credentials.
    metrics_token: str | None = None
    # Most cells one H3 grid may have (SPEC §13).
    h3_max_cells: int = DEFAULT_MAX_CELLS
    # An external MapLibre style under the UI's maps; unset: the offline Natural Earth basemap.
    basemap_style: str | None = None
    # Memory for vector tiles of approved versions, per process; 0: none.
    tile_cache_mb: int = 64


def create_app(config: AppConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = open_pool(
            config.databases.app,
            min_size=config.pool_min_size,
            max_size=config.pool_max_size,
            name="terrace-api",
        )
        try:
            databases = config.databases
            async with serving.connected(databases.serving, databases.preview, config.pool_max_size):
                yield
        finally:
            app.state.pool.close()

    app = FastAPI(
        title="Terrace",
        version=__version__,
        description="Geospatial data publishing: submit, review, version and serve geodata.",
        lifespan=lifespan,
    )
    app.state.database_url = config.databases.app
    app.state.serving_database_url = config.databases.serving
    app.state.owner_database_url = config.owner_database_url
    app.state.storage = config.storage
    app.state.upload_max_bytes = config.upload_max_bytes
    app.state.job_defaults = config.job_defaults
    app.state.machine = CoreMachine(config.registry, config.storage)
    app.state.outbound = config.outbound
    app.state.oidc = Oidc(config.oidc) if config.oidc else None
    app.state.metrics_token = config.metrics_token
    app.state.h3_max_cells = config.h3_max_cells
    app.state.basemap_style = basemap.style_url(config.basemap_style)
    install_error_handlers(app)
    for module in (health, admin, catalog_admin, keys, schedules, storage, jobs, platform, services, zonal):
        app.include_router(module.router)
    app.include_router(analytics.router)
    app.include_router(metrics_router)
    serving = mount_serving(app, config.storage, config.tile_cache_mb)
    app.state.features = serving.features  # the interface's maps draw served tables through it
    app.mount(MOUNT, create_interface(app.state, config.session_secret or secrets.token_urlsafe(32)))
    install_docs(app)
    app.add_middleware(
        BodyLimit,
        limit=Limit(config.body_max_bytes, "TERRACE_BODY_MAX_BYTES"),
        uploads=UPLOADS,
        upload_limit=Limit(config.upload_max_bytes, "TERRACE_UPLOAD_MAX_BYTES"),
    )
    app.add_middleware(
        RateLimits,
        limits=parse_limits(config.rate_limits),
        storage=PostgresCounters(lambda: app.state.pool),
    )
    app.add_middleware(HttpMetrics)
    policy = content_security_policy(basemap.style_origins(config.basemap_style))
    app.add_middleware(SecurityHeaders, policy=policy)
    app.add_middleware(RequestIds)
    return app
