"""`terrace up`: the whole platform on its embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from terrace.cli.context import friendly_errors
from terrace.cli.embedded import EmbeddedOptions, run_embedded
from terrace.settings import (
    ApiSettings,
    AzureStorageSettings,
    DatabaseSettings,
    HomeSettings,
    PublicZoneSettings,
    StorageSettings,
    WorkerSettings,
)


@friendly_errors
def up(
    port: Annotated[
        int | None, typer.Option(envvar="TERRACE_PORT", show_envvar=True, help="API port [8000].")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(envvar="TERRACE_HOME", show_envvar=True, help="State folder [.terrace].")
    ] = None,
    public_port: Annotated[
        int | None,
        typer.Option(
            envvar="TERRACE_PUBLIC_PORT", show_envvar=True, help="Public-zone API port [the API port + 1]."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(envvar="TERRACE_WORKERS", show_envvar=True, help="Worker processes [2].")
    ] = None,
) -> None:
    """Start PostgreSQL (unless TERRACE_DATABASE_URL is set), the API, the public-zone API and
    workers; Ctrl-C stops all."""
    api = ApiSettings()
    database_url = DatabaseSettings().database_url
    public = PublicZoneSettings()
    api_port = port or api.port
    run_embedded(
        EmbeddedOptions(
            home=(home or HomeSettings().home).expanduser().resolve(),
            host=api.host,
            port=api_port,
            public_port=public_port or api_port + 1,
            workers=WorkerSettings().workers if workers is None else workers,
            database_url=database_url.get_secret_value() if database_url else None,
            storage_url=StorageSettings().storage_url,
            api_key=api.api_key.get_secret_value() if api.api_key else None,
            public_database_url=(
                public.public_database_url.get_secret_value() if public.public_database_url else None
            ),
            public_storage_url=public.public_storage_url,
            azure=AzureStorageSettings().account(),
        )
    )
