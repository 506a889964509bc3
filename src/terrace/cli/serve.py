"""`terrace api` and `terrace worker`: the two long-running processes."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
import uvicorn

from terrace.auth import Role
from terrace.auth.oidc import OidcConfig
from terrace.cli.context import app_url, friendly_errors, public_target, role_urls, storage
from terrace.errors import SetupError
from terrace.observability.logs import configure_logging
from terrace.orchestration.registry import JobRegistry
from terrace.orchestration.scheduler import Scheduler
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.platform.processing import JobDefaults
from terrace.services.health import scheduled_checks
from terrace.settings import (
    ApiSettings,
    DatabaseSettings,
    H3Settings,
    OidcSettings,
    OutboundSettings,
    ProcessingSettings,
    StorageSettings,
    WorkerSettings,
)


@friendly_errors
def api(
    host: Annotated[
        str | None, typer.Option(envvar="TERRACE_HOST", show_envvar=True, help="Bind address [127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None, typer.Option(envvar="TERRACE_PORT", show_envvar=True, help="Port [8000].")
    ] = None,
) -> None:
    """Run the HTTP API (Platform, Jobs, admin, serving, web UI) in this process."""
    configure_logging()
    # Imported here: the serving libraries take seconds to import, which client commands skip.
    from terrace.api.app import AppConfig, create_app

    settings = ApiSettings()
    db = DatabaseSettings()
    owner = db.database_url
    processing = ProcessingSettings()
    config = AppConfig(
        databases=role_urls(),
        owner_database_url=owner.get_secret_value() if owner else None,
        storage=storage(),
        registry=default_registry(processing.input_containers, public_target()),
        upload_max_bytes=StorageSettings().upload_max_bytes,
        body_max_bytes=settings.body_max_bytes,
        job_defaults=JobDefaults(
            raster_tile_threshold=processing.raster_tile_threshold,
            input_containers=processing.input_containers,
            zonal_chunk_size=processing.zonal_chunk_size,
        ),
        pool_min_size=db.pool_min_size,
        pool_max_size=db.pool_max_size,
        session_secret=settings.session_secret.get_secret_value() if settings.session_secret else None,
        oidc=oidc_config(OidcSettings()),
        outbound=OutboundSettings().policy(),
        rate_limits=settings.rate_limits,
        metrics_token=settings.metrics_token.get_secret_value() if settings.metrics_token else None,
        h3_max_cells=H3Settings().h3_max_cells,
        basemap_style=settings.basemap_style,
        tile_cache_mb=settings.tile_cache_mb,
    )
    uvicorn.run(
        create_app(config),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        log_config=None,
        proxy_headers=settings.trusted_proxies is not None,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def oidc_config(settings: OidcSettings) -> OidcConfig | None:
    """The OpenID provider the API trusts, or None when TERRACE_OIDC_ISSUER is unset."""
    if settings.oidc_issuer is None:
        return None
    if settings.oidc_audience is None:
        raise SetupError(
            "TERRACE_OIDC_ISSUER is set but TERRACE_OIDC_AUDIENCE is not: bearer tokens need an audience.",
            "Set TERRACE_OIDC_AUDIENCE to the `aud` the provider puts in tokens for this API.",
        )
    names = settings.oidc_role_map or {role.value: role.value for role in Role}
    unknown = sorted(set(names.values()) - {role.value for role in Role})
    if unknown:
        raise SetupError(
            f"TERRACE_OIDC_ROLE_MAP maps to unknown roles: {', '.join(unknown)}.",
            "Map the provider's role names to reader, submitter, reviewer or admin.",
        )
    secret = settings.oidc_client_secret
    return OidcConfig(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        roles_claim=settings.oidc_roles_claim,
        role_map={name: Role(role) for name, role in names.items()},
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        clock_skew=settings.oidc_clock_skew,
    )


@friendly_errors
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(envvar="TERRACE_WORKER_CONCURRENCY", show_envvar=True, help="Tasks run at once [2]."),
    ] = None,
) -> None:
    """Run a task worker until SIGTERM."""
    run_worker(default_registry(ProcessingSettings().input_containers, public_target()), concurrency)


def run_worker(registry: JobRegistry, concurrency: int | None = None) -> None:
    """A worker running the job types of `registry`, configured from TERRACE_*, until SIGTERM."""
    settings = WorkerSettings()
    config = WorkerConfig(
        concurrency=concurrency or settings.worker_concurrency,
        lease_seconds=settings.lease_seconds,
        grace_seconds=settings.grace_seconds,
        janitor_seconds=settings.janitor_seconds,
    )
    configure_logging()
    outbound = OutboundSettings()
    checks = scheduled_checks(outbound.policy(), outbound.service_check_seconds)
    task_worker = Worker(app_url(), registry, storage(), config, Scheduler(periodic=(checks,)))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: task_worker.stop())
    task_worker.run()
