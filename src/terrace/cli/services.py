"""`terrace services list|add|show|check|remove`: the external service registry, over its API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from terrace.cli.client import call, make_client
from terrace.cli.context import friendly_errors

app = typer.Typer(help="External services: register, health-check, list.", no_args_is_help=True)


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f} %"


def _line(service: dict[str, Any]) -> str:
    latency = "–" if service["latency_ms"] is None else f"{service['latency_ms']:.0f} ms"
    return (
        f"{service['service_id']}  {service['status'] or 'unchecked':<9} {service['service_type']:<20} "
        f"{service['capabilities']['layer_count']:>4} layers  {latency:>8}  "
        f"7d {_percent(service['uptime_7d'])}  {service['name']}"
    )


@app.command("list")
@friendly_errors
def list_() -> None:
    """Registered services with their latest status, latency and uptime over 7 days."""
    with make_client() as client:
        for service in call(client, "GET", "/api/services"):
            typer.echo(_line(service))


@app.command()
@friendly_errors
def add(
    url: str, name: Annotated[str | None, typer.Option(help="Default: the service's title.")] = None
) -> None:
    """Probe URL, detect the service's type and register it."""
    with make_client() as client:
        service = call(client, "POST", "/api/services", json={"url": url, "name": name})
    typer.echo(_line(service))
    typer.echo(f"next: terrace services show {service['service_id']}")


@app.command()
@friendly_errors
def show(service_id: str) -> None:
    """A service: capabilities, uptime over 7 and 30 days, and its latest checks."""
    with make_client() as client:
        typer.echo(json.dumps(call(client, "GET", f"/api/services/{service_id}"), indent=2))


@app.command()
@friendly_errors
def check(service_id: str) -> None:
    """Check a service now."""
    with make_client() as client:
        result = call(client, "POST", f"/api/services/{service_id}/check")
    latency = "–" if result["latency_ms"] is None else f"{result['latency_ms']:.0f} ms"
    typer.echo(f"{result['status']}  HTTP {result['http_status'] or '–'}  {latency}  {result['error'] or ''}")


@app.command()
@friendly_errors
def remove(service_id: str) -> None:
    """Unregister a service (its registrant or an admin)."""
    with make_client() as client:
        call(client, "DELETE", f"/api/services/{service_id}")
    typer.echo(f"removed {service_id}")
