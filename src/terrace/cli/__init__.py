"""The `terrace` command line: thin commands, each calling one library function."""

from __future__ import annotations

import typer

from terrace.cli import catalog, db, export, h3, jobs, keys, platform, public, serve, services, up, zonal

app = typer.Typer(
    help="Terrace: raw geodata in; reviewed, versioned, standards-based APIs out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("up")(up.up)
app.command("api")(serve.api)
app.command("worker")(serve.worker)
app.command("public")(public.public)
app.command("zonal")(zonal.zonal)
for command in (
    platform.submit,
    platform.status,
    platform.approve,
    platform.reject,
    platform.revoke,
    platform.clearance,
    platform.unpublish,
):
    app.command()(command)
app.command("export")(export.export)
app.add_typer(jobs.app, name="jobs")
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(catalog.app, name="catalog")
app.add_typer(services.app, name="services")
app.add_typer(h3.app, name="h3")


def main() -> None:
    app()
