"""External service registry (SPEC §14): register after a probe, list, view, check, remove."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import Outbound, Pool
from terrace.outbound import Outbound as Client
from terrace.services import registry
from terrace.services.health import Check
from terrace.services.registry import Service, ServiceView

router = APIRouter(prefix="/api/services", tags=["services"])
Reader = Annotated[Principal, Depends(require(Role.reader))]
Submitter = Annotated[Principal, Depends(require(Role.submitter))]


class NewService(BaseModel):
    url: str = Field(max_length=2000, description="Landing page, capabilities, ArcGIS REST or COG URL.")
    name: str | None = Field(default=None, max_length=200)


@router.post("", status_code=201)
def register(body: NewService, pool: Pool, outbound: Outbound, principal: Submitter) -> ServiceView:
    """Probe the URL (public addresses only), detect the service's type and register it."""
    with Client(outbound) as client:
        return registry.register(pool, client, body.url, body.name, principal.actor)


@router.get("")
def list_services(pool: Pool, _: Reader) -> list[Service]:
    with pool.connection() as conn:
        return registry.list_services(conn)


@router.get("/{service_id}")
def service(service_id: str, pool: Pool, _: Reader) -> ServiceView:
    """The service, its capabilities, uptime over 7 and 30 days and its latest checks."""
    with pool.connection() as conn:
        return registry.view(conn, service_id)


@router.post("/{service_id}/check")
def check(service_id: str, pool: Pool, outbound: Outbound, _: Submitter) -> Check:
    """Check the service now; the result joins its history."""
    with Client(outbound) as client:
        return registry.check(pool, client, service_id)


@router.delete("/{service_id}", status_code=204)
def remove(service_id: str, pool: Pool, principal: Submitter) -> Response:
    """Unregister the service: admins, or the key that registered it."""
    with pool.connection() as conn:
        registry.remove(conn, service_id, principal)
    return Response(status_code=204)
