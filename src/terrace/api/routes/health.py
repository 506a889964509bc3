"""Probes: liveness, readiness and the per-component health report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from terrace.api.deps import Pool, StorageDep
from terrace.health import check_health

router = APIRouter(tags=["health"])


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
    except Exception as exc:  # readiness reports, it does not raise
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/api/health")
def health(request: Request, pool: Pool, storage: StorageDep) -> JSONResponse:
    """Database and extensions, schema drift, storage round trip, workers seen, queue depth."""
    report: dict[str, Any] = check_health(pool, request.app.state.database_url, storage)
    return JSONResponse(report, status_code=503 if report["status"] == "error" else 200)
