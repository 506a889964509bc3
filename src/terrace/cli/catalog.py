"""`terrace catalog check|report|repair`: catalog consistency from a terminal, over the admin API."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors
from terrace.consistency.findings import KINDS

app = typer.Typer(help="Catalog consistency: check, report, repair (admin).", no_args_is_help=True)
FINISHED = {"completed", "failed", "cancelled"}


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    while (job := call(client, "GET", f"/api/jobs/{job_id}"))["status"] not in FINISHED:
        time.sleep(0.5)
    if job["status"] != "completed":
        typer.secho(f"job {job_id} {job['status']}: {(job.get('error') or {}).get('message', '')}", fg="red")
        raise typer.Exit(1)
    return job


def _show(report: dict[str, Any]) -> None:
    typer.echo(f"checked at {report['checked_at']} by job {report['job_id']}: {report['total']} finding(s)")
    for kind, count in sorted(report["counts"].items()):
        typer.echo(f"  {kind:<26} {count}")
    for f in report["findings"]:
        release = f" (release {f['release_id']})" if f["release_id"] else ""
        typer.echo(f"{f['kind']:<26} {f['object']}{release}\n    {f['detail']}\n    repair: {f['repair']}")


@app.command()
@friendly_errors
def check(
    grace_seconds: Annotated[int, typer.Option(help="Objects younger than this are never orphans.")] = 3600,
) -> None:
    """Run a consistency check, wait for it, and show its report."""
    with make_client() as client:
        started = call(client, "POST", "/api/admin/catalog/check", json={"grace_seconds": grace_seconds})
        _wait(client, started["job_id"])
        _show(call(client, "GET", "/api/admin/catalog/report"))


@app.command()
@friendly_errors
def report(
    kind: Annotated[
        list[str] | None, typer.Option(help=f"Only this kind (repeatable): {', '.join(KINDS)}.")
    ] = None,
) -> None:
    """The latest check's report."""
    with make_client() as client:
        _show(call(client, "GET", "/api/admin/catalog/report", params={"kind": kind or []}))


@app.command()
@friendly_errors
def repair(
    apply: Annotated[
        bool, typer.Option("--apply", help="Take the actions (default: only list them).")
    ] = False,
    kind: Annotated[list[str] | None, typer.Option(help="Only findings of this kind (repeatable).")] = None,
    force_recreate: Annotated[bool, typer.Option(help="Rebuild the STAC of every served release.")] = False,
) -> None:
    """Repair what the latest report found: a dry run listing the actions, unless --apply."""
    body = {"dry_run": not apply, "kinds": kind or None, "force_recreate": force_recreate}
    with make_client() as client:
        started = call(client, "POST", "/api/admin/catalog/repair", json=body)
        result = _wait(client, started["job_id"])["result"]
    for action in result["actions"]:
        detail = f"  ({action['detail']})" if action["detail"] else ""
        typer.echo(f"{action['outcome']:<8} {action['action']:<22} {action['object']}{detail}")
    typer.echo(
        f"{len(result['actions'])} action(s){'' if apply else ' planned; run with --apply to take them'}"
    )
