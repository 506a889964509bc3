"""`terrace jobs list|show|events|logs`: CoreMachine jobs from a terminal, over the Jobs API (and,
for `logs`, from the JSON log files the processes of `terrace up` write under its home)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors
from terrace.observability.logs import job_lines
from terrace.settings import HomeSettings

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


@app.command()
@friendly_errors
def logs(
    job_id: str,
    folder: Annotated[
        Path | None, typer.Option("--logs", help="Folder of JSON log files [<home>/logs].")
    ] = None,
) -> None:
    """The worker log lines of one job (each names its job, task and request id), oldest first."""
    for line in job_lines(folder or HomeSettings().resolved() / "logs", job_id):
        task = "task " + str(line.get("task_id") or "").removeprefix(f"{job_id}:")
        typer.echo(
            f"{line.get('timestamp', '')}  {line.get('level', ''):<7} {task:<24} {line.get('event', '')}"
            f"  request_id={line.get('request_id')}"
        )
