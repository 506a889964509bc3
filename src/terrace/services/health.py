"""Health checks: fetch a service's check URL under the outbound rules and record how it answered."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from psycopg.rows import class_row
from pydantic import BaseModel

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.orchestration.scheduler import Periodic
from terrace.outbound import Outbound, OutboundFailed, OutboundPolicy

log = logging.getLogger("terrace.services")
CHECK_BYTES = 64 * 1024  # enough to know the service answers; a check never downloads the whole body
SLOW_MS = 3000.0  # an answer slower than this is `degraded`
PARALLEL_CHECKS = 8


class Check(BaseModel):
    status: str  # up | degraded | down
    latency_ms: float | None
    http_status: int | None
    error: str | None
    checked_at: datetime | None = None


def probe_health(client: Outbound, url: str) -> Check:
    """How the service at `url` answers now: up, degraded (slow) or down (no answer, HTTP error)."""
    try:
        headers = {"Accept": "*/*", "Range": f"bytes=0-{CHECK_BYTES - 1}"}
        response = client.get(url, headers, head_bytes=CHECK_BYTES)
    except OutboundFailed as exc:
        return Check(status="down", latency_ms=None, http_status=None, error=exc.message)
    latency = round(response.elapsed_ms, 1)
    if response.status >= 400:
        failed = f"HTTP {response.status}"
        return Check(status="down", latency_ms=latency, http_status=response.status, error=failed)
    status = "degraded" if latency > SLOW_MS else "up"
    error = f"answered in {latency:g} ms (over {SLOW_MS:g} ms)" if status == "degraded" else None
    return Check(status=status, latency_ms=latency, http_status=response.status, error=error)


def record(conn: Connection, service_id: str, check: Check) -> Check:
    """Store `check` for the service; returns it with its time."""
    cursor = conn.cursor(row_factory=class_row(Check))
    params = {"service_id": service_id, **check.model_dump(exclude={"checked_at"})}
    row = cursor.execute(queries("services")["insert_check"], params).fetchone()
    assert row is not None
    return row


def check_all(conn: Connection, policy: OutboundPolicy) -> int:
    """Check every registered service once; returns how many were checked."""
    targets = conn.execute(queries("services")["check_targets"]).fetchall()
    # In parallel: one slow service must not hold the others (and the janitor) for its time-out.
    with Outbound(policy) as client, ThreadPoolExecutor(max_workers=PARALLEL_CHECKS) as threads:
        checks = list(threads.map(lambda target: probe_health(client, target["check_url"]), targets))
    for target, check in zip(targets, checks, strict=True):
        record(conn, target["service_id"], check)
        if check.status != "up":
            log.info("service %s is %s: %s", target["service_id"], check.status, check.error)
    return len(targets)


def scheduled_checks(policy: OutboundPolicy, every_seconds: float) -> Periodic:
    """The Periodic that checks every service every `every_seconds` (TERRACE_SERVICE_CHECK_SECONDS)."""

    def action(conn: Connection) -> None:
        check_all(conn, policy)

    return Periodic("service_checks", every_seconds, action)
