"""Registered services: add after a successful probe, list, view with history, check, remove."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from terrace.auth import Principal, Role
from terrace.db.pool import Connection, Pool
from terrace.db.queries import queries
from terrace.errors import Conflict, Forbidden, NotFound
from terrace.outbound import Outbound, parse_url
from terrace.services.capabilities import Capabilities
from terrace.services.detect import probe
from terrace.services.health import Check, probe_health, record

HISTORY = 100  # checks shown with a service (its latency history)


class Service(BaseModel):
    service_id: str
    name: str
    url: str
    service_type: str
    check_url: str
    capabilities: Capabilities
    registered_by: str
    created_at: datetime
    status: str | None  # of the latest check; None before the first
    latency_ms: float | None
    http_status: int | None
    error: str | None
    checked_at: datetime | None
    uptime_7d: float | None  # share of 'up' checks; None without checks in the period
    uptime_30d: float | None


class ServiceView(Service):
    checks: list[Check]


def register(pool: Pool, client: Outbound, url: str, name: str | None, registered_by: str) -> ServiceView:
    """Probe `url`, and register the service it is with its capabilities and a first check.

    No connection is held while the remote service is probed."""
    url = str(parse_url(url))
    with pool.connection() as conn:
        existing = conn.execute(queries("services")["service_by_url"], {"url": url}).fetchone()
    if existing:
        raise _duplicate(url, existing["service_id"])
    found = probe(client, url)
    first = probe_health(client, found.check_url)
    params = {
        "service_id": uuid.uuid4().hex,
        "url": url,
        "name": name or found.capabilities.title or httpx.URL(url).host,
        "service_type": found.service_type,
        "check_url": found.check_url,
        "capabilities": Jsonb(found.capabilities.model_dump()),
        "registered_by": registered_by,
    }
    with pool.connection() as conn:
        row = conn.execute(queries("services")["insert_service"], params).fetchone()
        if row is None:
            raise _duplicate(url, None)
        record(conn, row["service_id"], first)
        return view(conn, row["service_id"])


def list_services(conn: Connection) -> list[Service]:
    cursor = conn.cursor(row_factory=class_row(Service))
    return cursor.execute(queries("services")["services"], {"service_id": None}).fetchall()


def view(conn: Connection, service_id: str) -> ServiceView:
    """The service with its uptime and its latest checks (oldest first)."""
    q = queries("services")
    cursor = conn.cursor(row_factory=class_row(Service))
    service = cursor.execute(q["services"], {"service_id": service_id}).fetchone()
    if service is None:
        raise NotFound(f"No service {service_id!r} is registered.", "List services with GET /api/services.")
    checks = conn.cursor(row_factory=class_row(Check)).execute(
        q["recent_checks"], {"service_id": service_id, "limit": HISTORY}
    )
    return ServiceView(**service.model_dump(), checks=checks.fetchall())


def check(pool: Pool, client: Outbound, service_id: str) -> Check:
    """Check the service now and record the result."""
    with pool.connection() as conn:
        url = view(conn, service_id).check_url
    result = probe_health(client, url)
    with pool.connection() as conn:
        return record(conn, service_id, result)


def remove(conn: Connection, service_id: str, principal: Principal) -> None:
    """Unregister the service (with its checks): admins, or the key that registered it."""
    q = queries("services")
    row = conn.execute(q["registered_by"], {"service_id": service_id}).fetchone()
    if row is None:
        raise NotFound(f"No service {service_id!r} is registered.", "List services with GET /api/services.")
    if row["registered_by"] != principal.actor and not principal.has(Role.admin):
        raise Forbidden(
            "Only the key that registered a service, or an admin, may remove it.",
            "Ask an admin or the service's registrant to remove it.",
        )
    conn.execute(q["delete_service"], {"service_id": service_id})


def _duplicate(url: str, service_id: str | None) -> Conflict:
    return Conflict(
        f"{url[:200]} is already registered" + (f" as service {service_id}." if service_id else "."),
        "Check it with POST /api/services/{id}/check instead of registering it again.",
    )
