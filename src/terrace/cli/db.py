"""`terrace db ensure|rebuild|drift`."""

from __future__ import annotations

from typing import Annotated

import typer

from terrace.cli.context import database_url, friendly_errors, public_target
from terrace.cli.kept import public_reader_password, role_passwords
from terrace.db.database import database_drift, ensure_database, rebuild_database
from terrace.db.roles import enable_logins
from terrace.pipelines import default_registry, ensure_default_schedules
from terrace.public.database import enable_reader_login, ensure_public_database
from terrace.settings import HomeSettings

app = typer.Typer(help="Schema management: the database follows the Python models.", no_args_is_help=True)


@app.command()
@friendly_errors
def ensure() -> None:
    """Create what is missing (extensions, pgSTAC, tables, columns, indexes, functions), in the
    public target too when TERRACE_PUBLIC_DATABASE_URL is set."""
    url = database_url()
    actions = ensure_database(url) + ensure_default_schedules(url, default_registry())
    public = public_target()
    if public is not None:
        actions += [f"public target: {action}" for action in ensure_public_database(public.database_url)]
    typer.echo("\n".join(actions) if actions else "Schema is up to date; nothing to do.")


@app.command()
@friendly_errors
def rebuild(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: drops every job, release and STAC item.")
    ] = False,
) -> None:
    """Drop and recreate the app and pgstac schemas together; geo is never touched."""
    if not yes:
        typer.echo("Rebuild drops all jobs, releases and STAC items. Repeat with --yes to do it.", err=True)
        raise typer.Exit(1)
    url = database_url()
    typer.echo("\n".join(rebuild_database(url) + ensure_default_schedules(url, default_registry())))


@app.command()
@friendly_errors
def drift() -> None:
    """List differences between the live database and the models; exit code 1 if any."""
    differences = database_drift(database_url())
    for difference in differences:
        typer.echo(str(difference))
    if differences:
        raise typer.Exit(1)
    typer.echo("No drift: the database matches the models.")


@app.command()
@friendly_errors
def logins() -> None:
    """Let Terrace's roles log in (passwords kept in <home>/db-roles.json) and print their URLs."""
    urls = enable_logins(database_url(), role_passwords(HomeSettings().resolved()))
    typer.echo(f"export TERRACE_APP_DATABASE_URL='{urls.app}'")
    typer.echo(f"export TERRACE_SERVING_DATABASE_URL='{urls.serving}'")
    typer.echo(f"export TERRACE_PREVIEW_DATABASE_URL='{urls.preview}'")
    public = public_target()
    if public is not None:
        reader = enable_reader_login(public.database_url, public_reader_password(HomeSettings().resolved()))
        typer.echo(f"export TERRACE_PUBLIC_SERVING_DATABASE_URL='{reader}'")
