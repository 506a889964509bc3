"""What the commands share: settings read from the environment, and clear exits on errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from terrace.cli.kept import ROLE_PASSWORDS_FILE, role_passwords
from terrace.db.cluster import LocalCluster
from terrace.db.roles import RoleUrls, login_urls
from terrace.errors import SetupError, TerraceError
from terrace.public.target import PublicTarget
from terrace.settings import (
    AzureStorageSettings,
    DatabaseSettings,
    HomeSettings,
    PublicZoneSettings,
    StorageSettings,
)
from terrace.storage import Storage
from terrace.storage.store import DEFAULT_CONTAINERS

P = ParamSpec("P")
R = TypeVar("R")


def database_url() -> str:
    """The owner's connection: TERRACE_DATABASE_URL, or the embedded cluster while `terrace up` runs it."""
    configured = DatabaseSettings().database_url
    if configured is not None:
        return configured.get_secret_value()
    return _running_cluster().url()


def role_urls() -> RoleUrls:
    """The roles' connections: TERRACE_{APP,SERVING,PREVIEW}_DATABASE_URL, or those of `terrace up`."""
    settings = DatabaseSettings()
    configured = (settings.app_database_url, settings.serving_database_url, settings.preview_database_url)
    if all(url is not None for url in configured):
        return RoleUrls(*(url.get_secret_value() for url in configured if url is not None))
    if any(url is not None for url in configured) or settings.database_url is not None:
        raise SetupError(
            "The API and workers connect as Terrace's own database roles, and not all of their URLs are set.",
            "Set TERRACE_APP_DATABASE_URL, TERRACE_SERVING_DATABASE_URL and TERRACE_PREVIEW_DATABASE_URL; "
            "`terrace db logins` (as the owner) enables the roles and prints them.",
        )
    home = HomeSettings().resolved()
    cluster = _running_cluster()
    if not (home / ROLE_PASSWORDS_FILE).exists():
        raise SetupError(
            "The embedded cluster runs, but its roles have no logins yet.",
            "Start Terrace with `terrace up`, which enables them.",
        )
    return login_urls(cluster.url(), role_passwords(home))


def app_url() -> str:
    """The application role's connection alone: all a worker needs."""
    configured = DatabaseSettings().app_database_url
    return configured.get_secret_value() if configured is not None else role_urls().app


def _running_cluster() -> LocalCluster:
    cluster = LocalCluster(HomeSettings().resolved())
    if cluster.initialized() and cluster.running():
        return cluster
    raise SetupError(
        "No database: TERRACE_DATABASE_URL is unset and the embedded cluster is not running.",
        "Start Terrace with `terrace up`, or set TERRACE_DATABASE_URL.",
    )


def storage() -> Storage:
    url = StorageSettings().storage_url
    return storage_at(url) if url else Storage.local(HomeSettings().resolved() / "storage")


def storage_at(url: str, containers: tuple[str, ...] = DEFAULT_CONTAINERS) -> Storage:
    """Storage at `url`, an az:// one in the account of the AZURE_STORAGE_* settings."""
    return Storage(url, containers, azure=AzureStorageSettings().account())


def public_target() -> PublicTarget | None:
    """The public zone the workers export to: TERRACE_PUBLIC_DATABASE_URL, else none."""
    settings = PublicZoneSettings()
    if settings.public_database_url is None:
        return None
    azure = AzureStorageSettings().account()
    return PublicTarget.of(settings.public_database_url.get_secret_value(), public_storage_url(), azure)


def public_storage_url() -> str:
    """TERRACE_PUBLIC_STORAGE_URL, or the main storage (its `public` container beside bronze and silver)."""
    return PublicZoneSettings().public_storage_url or storage().root_url


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print a Terrace error as message + remedy and exit 2, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TerraceError as exc:
            typer.secho(f"error: {exc.message}", fg="red", err=True)
            if exc.remediation:
                typer.echo(f"  fix: {exc.remediation}", err=True)
            raise typer.Exit(2) from exc

    return wrapper
