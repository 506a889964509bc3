"""Analytics API (SPEC §13): H3 grids."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from terrace.analytics import grids
from terrace.analytics.grids import NAME, GridRequest
from terrace.api.deps import require
from terrace.auth import Principal, Role
from terrace.dependencies import Machine, Pool
from terrace.platform.visibility import Viewer

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
Reader = Annotated[Principal, Depends(require(Role.reader))]
Submitter = Annotated[Principal, Depends(require(Role.submitter))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
Name = Annotated[str, Path(pattern=NAME, description="The grid's name.")]


def get_max_cells(request: Request) -> int:
    return request.app.state.h3_max_cells


MaxCells = Annotated[int, Depends(get_max_cells)]


@router.post("/h3/grids", status_code=202)
def create_grid(
    body: GridRequest, pool: Pool, machine: Machine, principal: Submitter, max_cells: MaxCells
) -> dict[str, Any]:
    """Create a grid: its cells are written by an `h3_grid` job (follow it at /api/jobs/{job_id}).
    400 when the area would hold more than TERRACE_H3_MAX_CELLS cells; 409 when the name is taken."""
    with pool.connection() as conn, conn.transaction():
        return grids.create(conn, machine, body, principal, max_cells)


@router.get("/h3/grids")
def list_grids(pool: Pool, principal: Reader) -> list[dict[str, Any]]:
    """Grids with their status and, once ready, their cells by resolution."""
    with pool.connection() as conn:
        return grids.list_grids(conn, Viewer.of(principal))


@router.get("/h3/grids/{name}")
def get_grid(name: Name, pool: Pool, principal: Reader) -> dict[str, Any]:
    with pool.connection() as conn:
        return grids.get(conn, Viewer.of(principal), name)


@router.delete("/h3/grids/{name}", status_code=204)
def delete_grid(name: Name, pool: Pool, machine: Machine, _: Admin) -> Response:
    """Delete a grid and its cells; a job still building it is cancelled."""
    with pool.connection() as conn, conn.transaction():
        grids.delete(conn, machine, name)
    return Response(status_code=204)
