"""Probes: liveness, readiness and the per-component health report (in detail for admins)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from terrace.api.deps import current_principal
from terrace.auth import Principal, Role
from terrace.dependencies import Pool, StorageDep
from terrace.health import check_health, overall

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(pool: Pool) -> JSONResponse:
    """The process can serve: its database answers."""
    try:
        with pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception:  # readiness reports, it does not raise; the cause goes to the log
        log.exception("readiness check failed")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/api/health")
def health(
    request: Request,
    pool: Pool,
    storage: StorageDep,
    principal: Annotated[Principal | None, Depends(current_principal)],
) -> JSONResponse:
    """Overall status; admins also get each component: database and extensions, schema drift,
    storage round trip, workers seen, queue depth."""
    report: dict[str, Any] = check_health(pool, request.app.state.database_url, storage)
    shown = report if principal is not None and principal.has(Role.admin) else overall(report)
    return JSONResponse(shown, status_code=503 if report["status"] == "error" else 200)
