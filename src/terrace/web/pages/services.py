"""External services: the registry's list with status lights, a service's health history, registering."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from terrace.auth import Principal, Role
from terrace.dependencies import Outbound, Pool
from terrace.errors import TerraceError
from terrace.outbound import Outbound as Client
from terrace.services import registry
from terrace.services.health import Check
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/services")
Submitter = Annotated[Principal, Depends(needs(Role.submitter))]
SPARK_WIDTH, SPARK_HEIGHT = 240, 40


@router.get("")
def services(request: Request, pool: Pool, user: User) -> Response:
    with pool.connection() as conn:
        rows = registry.list_services(conn)
    return render(request, "services.html", user=user, services=rows)


@router.get("/{service_id}")
def service(request: Request, service_id: str, pool: Pool, user: User) -> Response:
    with pool.connection() as conn:
        found = registry.view(conn, service_id)
    may_remove = user.has(Role.admin) or user.actor == found.registered_by
    spark = sparkline(found.checks)
    return render(request, "service.html", user=user, service=found, spark=spark, may_remove=may_remove)


@router.post("")
def register(
    request: Request,
    pool: Pool,
    outbound: Outbound,
    user: Submitter,
    url: Annotated[str, Form(max_length=2000)],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        with Client(outbound) as client:
            found = registry.register(pool, client, url, name or None, user.actor)
    except TerraceError as exc:
        back = "/interface/services"
        return render(request, "error.html", status_code=exc.http_status, user=user, error=exc, back=back)
    return RedirectResponse(f"/interface/services/{found.service_id}", status_code=303)


@router.post("/{service_id}/check")
def check(service_id: str, pool: Pool, outbound: Outbound, _: Submitter) -> Response:
    with Client(outbound) as client:
        registry.check(pool, client, service_id)
    return RedirectResponse(f"/interface/services/{service_id}", status_code=303)


@router.post("/{service_id}/remove")
def remove(service_id: str, pool: Pool, user: Submitter) -> Response:
    with pool.connection() as conn:
        registry.remove(conn, service_id, user)
    return RedirectResponse("/interface/services", status_code=303)


def sparkline(checks: list[Check]) -> dict[str, object]:
    """Points of the latency polyline (oldest left; failed checks leave gaps as marks at the base)."""
    latencies = [c.latency_ms for c in checks if c.latency_ms is not None and c.status != "down"]
    top = max(latencies, default=0.0) or 1.0
    step = SPARK_WIDTH / max(len(checks) - 1, 1)
    points, downs = [], []
    for i, c in enumerate(checks):
        x = round(i * step, 1)
        if c.status == "down" or c.latency_ms is None:
            downs.append(x)
        else:
            points.append(f"{x},{round(SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * c.latency_ms / top, 1)}")
    size = {"width": SPARK_WIDTH, "height": SPARK_HEIGHT}
    return {"points": " ".join(points), "downs": downs, "top": top, **size}
