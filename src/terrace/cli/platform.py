"""`terrace submit|status|approve|reject|revoke|unpublish`: the Platform API from a terminal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from terrace.cli.client import call, make_client, upload
from terrace.cli.context import friendly_errors
from terrace.platform.sidecars import is_shapefile, sidecar_name

DONE = {"awaiting_approval", "completed", "failed", "cancelled"}


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@friendly_errors
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to publish.")],
    dataset: Annotated[str, typer.Option(help="dataset_id, e.g. floods.")],
    resource: Annotated[str, typer.Option(help="resource_id, e.g. jakarta.")],
    version: Annotated[str | None, typer.Option(help="Suggested version id.")] = None,
    access_level: Annotated[str, typer.Option(help="public, ouo or restricted.")] = "ouo",
    title: Annotated[str | None, typer.Option()] = None,
    grant: Annotated[
        list[str] | None, typer.Option(help="A role that may see it when restricted (repeatable).")
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option(help="Processing option KEY=VALUE (JSON value).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until processing ends.")] = True,
) -> None:
    """Upload FILE to bronze (a .shp with its sidecar files), submit it, and follow processing
    to awaiting approval."""
    folder = f"{dataset}/{resource}"
    path = f"{folder}/{file.name}"
    body = {
        "dataset_id": dataset,
        "resource_id": resource,
        "version_id": version,
        "file_name": path,
        "access_level": access_level,
        "title": title,
        "granted_roles": grant or [],
        "processing_options": _options(option or []),
    }
    with make_client() as client:
        upload(client, file, "bronze", path)
        for sidecar, name in _sidecars(file):
            upload(client, sidecar, "bronze", f"{folder}/{name}")
        submitted = call(client, "POST", "/api/platform/submit", json=body)
        typer.echo(
            f"request_id: {submitted['request_id']}\nrelease_id: {submitted['release_id']}\n"
            f"job_id:     {submitted['job_id']}"
        )
        if wait:
            status = follow(client, submitted["request_id"])
            summary(status)
            if status["job"]["status"] == "failed":
                raise typer.Exit(1)


def _sidecars(file: Path) -> list[tuple[Path, str]]:
    """The sidecar files beside a .shp, each with the name it takes beside it in bronze."""
    if not is_shapefile(file.name):
        return []
    found = ((other, sidecar_name(file.name, other.name)) for other in sorted(file.parent.iterdir()))
    return [(other, name) for other, name in found if name is not None and other.is_file()]


def summary(status: dict[str, Any]) -> None:
    """What a submitter needs after processing: outcome, outputs, warnings, next step."""
    release, job = status["release"], status["job"]
    typer.echo(f"status:     {job['status']}")
    outputs = status["outputs"]
    if isinstance(outputs, dict):  # a raster release: its COGs and STAC items
        for cog in outputs["cogs"]:
            typer.echo(f"output:     silver/{cog['path']}  {cog['size_bytes'] / 1e6:.1f} MB")
        typer.echo(f"stac:       {outputs['stac_collection']}: {', '.join(outputs['stac_items'])}")
    else:
        for output in outputs:
            typer.echo(
                f"output:     {output['schema_name']}.{output['table_name']}  {output['geometry_type']}  "
                f"{output['feature_count']} features"
            )
    for warning in status["warnings"]:
        count = f" ({warning['count']})" if "count" in warning else ""
        typer.echo(f"warning:    {warning['code']}{count}: {warning['message']}")
    if status["error"]:
        typer.echo(
            f"error:      {status['error']['message']}\nfix:        {status['error'].get('remediation', '')}"
        )
    elif job["status"] == "awaiting_approval":
        typer.echo(
            f"next:       terrace approve {release['release_id']} [--version v{release['version_ordinal']}]"
        )


def _release(release: dict[str, Any]) -> None:
    """A reviewed release: its state and version, and where its tables are now."""
    version = release["version_id"] or "(draft)"
    typer.echo(
        f"{release['dataset_id']}/{release['resource_id']} {version}: {release['approval_state']}"
        f"{', served' if release['is_served'] else ''}"
    )
    for service in release["services"]:
        if "table_name" in service:
            typer.echo(f"  {service['table_name']}: {service['items']}")
        else:
            typer.echo(f"  {service['stac_item']}\n  tiles: {service['tiles']}")


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def follow(client: Any, request_id: str) -> dict[str, Any]:
    """The submission's status once its job ends, with a live progress bar until then."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        bar = progress.add_task("queued", total=100)
        while True:
            status = call(client, "GET", f"/api/platform/status/{request_id}")
            job = status["job"]
            stage = f"stage {job['stage']}/{job['stage_count']}" if job.get("stage") else ""
            progress.update(bar, completed=job.get("percent") or 0, description=f"{job['status']} {stage}")
            if job["status"] in DONE:
                return status
            time.sleep(1)


@friendly_errors
def status(ref: Annotated[str, typer.Argument(help="request_id, job_id or release_id.")]) -> None:
    """Show a submission: job progress, release, outputs, approval, warnings, error."""
    with make_client() as client:
        _print(call(client, "GET", f"/api/platform/status/{ref}"))


@friendly_errors
def approve(
    ref: Annotated[str, typer.Argument(help="release_id or request_id.")],
    version: Annotated[str | None, typer.Option(help="Version id; default v<ordinal>.")] = None,
    clearance: Annotated[str, typer.Option(help="ouo or public.")] = "ouo",
    notes: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Approve a release: assign its version and serve it."""
    body = {"release_id": ref, "version_id": version, "clearance_state": clearance, "notes": notes}
    with make_client() as client:
        _release(call(client, "POST", "/api/platform/approve", json=body))


@friendly_errors
def clearance(
    ref: Annotated[str, typer.Argument(help="release_id or request_id of an approved release.")],
    state: Annotated[str, typer.Argument(help="ouo or public.")],
    notes: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Clear an approved release ouo or public; the public zone exports or withdraws it."""
    body = {"release_id": ref, "clearance_state": state, "notes": notes}
    with make_client() as client:
        release = call(client, "POST", "/api/platform/clearance", json=body)
    export = release.get("public_export") or {}
    typer.echo(
        f"{release['dataset_id']}/{release['resource_id']} {release['version_id']}: cleared "
        f"{release['clearance_state']}" + (f"; public zone: {export['state']}" if export else "")
    )


@friendly_errors
def reject(ref: Annotated[str, typer.Argument()], reason: Annotated[str, typer.Option()]) -> None:
    """Reject a release awaiting review."""
    with make_client() as client:
        _release(call(client, "POST", "/api/platform/reject", json={"release_id": ref, "reason": reason}))


@friendly_errors
def revoke(ref: Annotated[str, typer.Argument()], reason: Annotated[str, typer.Option()]) -> None:
    """Stop serving an approved release; latest falls back to the previous one."""
    with make_client() as client:
        _release(call(client, "POST", "/api/platform/revoke", json={"release_id": ref, "reason": reason}))


@friendly_errors
def unpublish(
    ref: Annotated[str, typer.Argument(help="release_id, request_id or job_id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete; without it, only list.")] = False,
    force_approved: Annotated[bool, typer.Option(help="Allow an approved release (admin).")] = False,
) -> None:
    """List (default) or delete everything a release produced."""
    body = {"release_id": ref, "dry_run": not yes, "force_approved": force_approved}
    with make_client() as client:
        _print(call(client, "POST", "/api/platform/unpublish", json=body))
