"""What the commands share: settings read from the environment, and clear exits on errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from terrace.db.cluster import LocalCluster
from terrace.errors import SetupError, TerraceError
from terrace.settings import DatabaseSettings, HomeSettings, StorageSettings
from terrace.storage import Storage

P = ParamSpec("P")
R = TypeVar("R")


def database_url() -> str:
    """TERRACE_DATABASE_URL, or the embedded cluster while `terrace up` runs it."""
    configured = DatabaseSettings().database_url
    if configured is not None:
        return configured.get_secret_value()
    cluster = LocalCluster(HomeSettings().resolved())
    if cluster.initialized() and cluster.running():
        return cluster.url()
    raise SetupError(
        "No database: TERRACE_DATABASE_URL is unset and the embedded cluster is not running.",
        "Start Terrace with `terrace up`, or set TERRACE_DATABASE_URL.",
    )


def storage() -> Storage:
    url = StorageSettings().storage_url
    return Storage(url) if url else Storage.local(HomeSettings().resolved() / "storage")


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
