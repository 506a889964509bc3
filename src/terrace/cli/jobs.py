"""`terrace jobs list|show|events`: CoreMachine jobs from a terminal, over the Jobs API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors

app = typer.Typer(help="CoreMachine jobs.", no_args_is_help=True)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@app.command("list")
@friendly_errors
def list_(
    status: Annotated[str | None, typer.Option()] = None,
    job_type: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 20,
) -> None:
    """Recent jobs, newest first."""
    params = {
        k: v for k, v in {"status": status, "job_type": job_type, "limit": limit}.items() if v is not None
    }
    with make_client() as client:
        for job in call(client, "GET", "/api/jobs", params=params):
            typer.echo(
                f"{job['job_id'][:16]}  {job['job_type']:<24} {job['status']:<18} "
                f"stage {job['stage']}/{job['stage_count']}  {job['created_at']}"
            )


@app.command()
@friendly_errors
def show(job_id: str) -> None:
    """A job's status: stages, task counts, progress, result, error."""
    with make_client() as client:
        _print(call(client, "GET", f"/api/jobs/{job_id}"))


@app.command()
@friendly_errors
def events(job_id: str) -> None:
    """A job's timeline of events."""
    with make_client() as client:
        for event in call(client, "GET", f"/api/jobs/{job_id}/events"):
            duration = f" ({event['duration_ms']} ms)" if event["duration_ms"] is not None else ""
            where = f"stage {event['stage']}" if event["stage"] else ""
            typer.echo(
                f"{event['created_at']}  {event['kind']:<16} {where:<8} {event['message'] or ''}{duration}"
            )
