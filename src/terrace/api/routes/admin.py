"""Admin API: schema ensure, rebuild and drift."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.db.database import database_drift, ensure_database, rebuild_database
from terrace.errors import InvalidInput, Unavailable
from terrace.pipelines import ensure_default_schedules

router = APIRouter(prefix="/api/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require(Role.admin))]


@router.post("/db/ensure")
def ensure(request: Request, _: Admin) -> dict[str, Any]:
    """Create whatever the models define and the database lacks; never drops anything."""
    url = _owner_url(request)
    return {
        "actions": ensure_database(url) + ensure_default_schedules(url, request.app.state.machine.registry)
    }


@router.post("/db/rebuild")
def rebuild(request: Request, _: Admin, confirm: Annotated[str, Query()] = "") -> dict[str, Any]:
    """Drop and recreate the `app` and `pgstac` schemas (all jobs, releases, STAC items)."""
    if confirm != "yes":
        raise InvalidInput(
            "Rebuild deletes every job, release and STAC item; it needs explicit confirmation.",
            "Repeat the request with ?confirm=yes if that is what you want.",
        )
    url = _owner_url(request)
    return {
        "actions": rebuild_database(url) + ensure_default_schedules(url, request.app.state.machine.registry)
    }


@router.get("/db/drift")
def drift(request: Request, _: Admin) -> dict[str, Any]:
    """Differences between the live database and the models."""
    differences = database_drift(request.app.state.database_url)
    return {"in_sync": not differences, "differences": [d.__dict__ for d in differences]}


def _owner_url(request: Request) -> str:
    """Schema changes need the owner's role, which an API process holds only when given it."""
    url: str | None = request.app.state.owner_database_url
    if url is None:
        raise Unavailable(
            "This API process connects as the application role, which may not change the schema.",
            "Run `terrace db ensure` (or `rebuild`) as the owner on the server, or give the API "
            "process the owner's URL in TERRACE_DATABASE_URL.",
        )
    return url
