"""`terrace h3 grid|list`: H3 grids over the Analytics API, with the build's progress."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors
from terrace.errors import InvalidInput

app = typer.Typer(help="H3 grids: create and list.", no_args_is_help=True)
GRIDS = "/api/analytics/h3/grids"
DONE = {"completed", "failed", "cancelled"}


@app.command()
@friendly_errors
def grid(
    name: Annotated[str, typer.Argument(help="The grid's name, e.g. java_r8.")],
    resolution: Annotated[list[int], typer.Option(help="An H3 resolution, 0-15 (repeatable).")],
    bbox: Annotated[
        str | None, typer.Option(help="minx,miny,maxx,maxy in degrees (minx > maxx crosses ±180°).")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="dataset_id of a served polygon release.")] = None,
    resource: Annotated[str | None, typer.Option(help="Its resource_id.")] = None,
    version: Annotated[str | None, typer.Option(help="Its version [latest served].")] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until the grid is built.")] = True,
) -> None:
    """Create grid NAME over a bbox or a served polygon release, and follow its job."""
    body = {"name": name, "resolutions": resolution, "area": _area(bbox, dataset, resource, version)}
    with make_client() as client:
        created = call(client, "POST", GRIDS, json=body)
        typer.echo(f"job_id:     {created['job_id']}\nestimated:  {created['estimated_cells']:,} cells")
        if not wait:
            return
        job = _follow(client, created["job_id"])
        if job["status"] != "completed":
            error = job["error"] or {}
            typer.echo(f"{job['status']}: {error.get('message', '')}\nfix: {error.get('remediation', '')}")
            raise typer.Exit(1)
        built = call(client, "GET", f"{GRIDS}/{name}")
    typer.echo(_line(built))


@app.command("list")
@friendly_errors
def list_() -> None:
    """Grids with their status and cells by resolution."""
    with make_client() as client:
        for found in call(client, "GET", GRIDS):
            typer.echo(_line(found))


def _area(bbox: str | None, dataset: str | None, resource: str | None, version: str | None) -> dict[str, Any]:
    if bbox is not None and dataset is None and resource is None:
        try:
            return {"bbox": [float(v) for v in bbox.split(",")]}
        except ValueError:
            raise InvalidInput(
                f"--bbox {bbox!r} is not four numbers.", "Give --bbox minx,miny,maxx,maxy."
            ) from None
    if bbox is None and dataset and resource:
        return {"dataset_id": dataset, "resource_id": resource, "version_id": version}
    raise InvalidInput(
        "The grid needs one area.", "Give --bbox minx,miny,maxx,maxy, or --dataset and --resource."
    )


def _line(found: dict[str, Any]) -> str:
    counts = found["cell_counts"] or {}
    cells = "  ".join(f"r{r}: {counts[str(r)]:,}" for r in found["resolutions"] if str(r) in counts)
    return f"{found['name']:<24} {found['status']:<9} {cells or '-'}"


def _follow(client: httpx.Client, job_id: str) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        bar = progress.add_task("queued", total=100)
        while True:
            job = call(client, "GET", f"/api/jobs/{job_id}")
            stage = f"stage {job['stage']}/{job['stage_count']}" if job.get("stage") else ""
            progress.update(bar, completed=job["percent"], description=f"{job['status']} {stage}")
            if job["status"] in DONE:
                return job
            time.sleep(0.5)
