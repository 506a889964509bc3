"""`terrace public`: the public-zone API alone, reading the public target as its read-only role."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from terrace.cli.context import friendly_errors, public_storage_url, storage_at
from terrace.errors import SetupError
from terrace.public.target import PUBLIC_CONTAINER
from terrace.settings import ApiSettings, DatabaseSettings, PublicZoneSettings


@friendly_errors
def public(
    host: Annotated[
        str | None, typer.Option(envvar="TERRACE_HOST", show_envvar=True, help="Bind address [127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(envvar="TERRACE_PUBLIC_PORT", show_envvar=True, help="Port [the API port + 1]."),
    ] = None,
) -> None:
    """Run the public-zone API (/features, /stac, /tiles of what is cleared public; no credentials)."""
    # Imported here: the serving libraries take seconds to import, which client commands skip.
    from terrace.api.public import PublicAppConfig, create_public_app

    settings = ApiSettings()
    serving_url = PublicZoneSettings().public_serving_database_url
    if serving_url is None:
        raise SetupError(
            "The public-zone API reads the public target as its read-only role, whose URL is not set.",
            "Set TERRACE_PUBLIC_SERVING_DATABASE_URL (role terrace_public_reader), or run `terrace up`.",
        )
    config = PublicAppConfig(
        serving_url=serving_url.get_secret_value(),
        storage=storage_at(public_storage_url(), (PUBLIC_CONTAINER,)),
        body_max_bytes=settings.body_max_bytes,
        pool_max_size=DatabaseSettings().pool_max_size,
        tile_cache_mb=settings.tile_cache_mb,
    )
    uvicorn.run(
        create_public_app(config),
        host=host or settings.host,
        port=port or settings.port + 1,
        log_level="info",
        proxy_headers=settings.trusted_proxies is not None,
        forwarded_allow_ips=settings.trusted_proxies,
    )
