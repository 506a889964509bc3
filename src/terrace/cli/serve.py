"""`terrace api` and `terrace worker`: the two long-running processes."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
import uvicorn

from terrace.cli.context import database_url, friendly_errors, storage
from terrace.orchestration.worker import Worker, WorkerConfig
from terrace.pipelines import default_registry
from terrace.platform.processing import JobDefaults
from terrace.settings import (
    ApiSettings,
    DatabaseSettings,
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
    # Imported here: the serving libraries take seconds to import, which client commands skip.
    from terrace.api.app import AppConfig, create_app

    settings = ApiSettings()
    db = DatabaseSettings()
    config = AppConfig(
        database_url=database_url(),
        storage=storage(),
        upload_max_bytes=StorageSettings().upload_max_bytes,
        body_max_bytes=settings.body_max_bytes,
        job_defaults=JobDefaults(raster_tile_threshold=ProcessingSettings().raster_tile_threshold),
        pool_min_size=db.pool_min_size,
        pool_max_size=db.pool_max_size,
        session_secret=settings.session_secret.get_secret_value() if settings.session_secret else None,
    )
    uvicorn.run(
        create_app(config),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        proxy_headers=False,
    )


@friendly_errors
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(envvar="TERRACE_WORKER_CONCURRENCY", show_envvar=True, help="Tasks run at once [2]."),
    ] = None,
) -> None:
    """Run a task worker until SIGTERM."""
    settings = WorkerSettings()
    config = WorkerConfig(
        concurrency=concurrency or settings.worker_concurrency,
        lease_seconds=settings.lease_seconds,
        grace_seconds=settings.grace_seconds,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    task_worker = Worker(database_url(), default_registry(), storage(), config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: task_worker.stop())
    task_worker.run()
