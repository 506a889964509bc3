"""H3 grids: create one (its row and the `h3_grid` job that fills it, in one transaction), list,
show and delete them, and read a grid's resolutions for the analyses that use it.

A grid made from a release is seen only by those who may see that release (its cells draw the
release's outline); a grid of a bbox by every reader.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from terrace.analytics import areas
from terrace.analytics.areas import AreaRequest
from terrace.analytics.h3cells import MAX_RESOLUTION
from terrace.auth import Principal
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput, NotFound
from terrace.orchestration.machine import CoreMachine
from terrace.platform.visibility import Viewer

NAME = r"^[a-z][a-z0-9_]{0,62}$"
H3_GRID = "h3_grid"
DEFAULT_MAX_CELLS = 10_000_000


class GridRequest(BaseModel):
    """A grid to create: its name, resolutions and area."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        pattern=NAME, description="1-63 lowercase letters, digits or '_', starting with a letter."
    )
    resolutions: list[int] = Field(min_length=1, max_length=MAX_RESOLUTION + 1)
    area: AreaRequest

    @field_validator("resolutions")
    @classmethod
    def _resolutions(cls, resolutions: list[int]) -> list[int]:
        if any(not 0 <= r <= MAX_RESOLUTION for r in resolutions):
            raise ValueError(f"each resolution must be an H3 resolution from 0 to {MAX_RESOLUTION}")
        if len(set(resolutions)) != len(resolutions):
            raise ValueError("resolutions must not repeat")
        return sorted(resolutions)


def create(
    conn: Connection, machine: CoreMachine, request: GridRequest, principal: Principal, max_cells: int
) -> dict[str, Any]:
    """Record the grid and submit its job, in the caller's transaction; the grid as listed."""
    area = areas.resolve_area(conn, Viewer.of(principal), request.area)
    estimate = areas.estimated_cells(areas.square_metres(conn, area), request.resolutions)
    if estimate > max_cells:
        raise InvalidInput(
            f"Grid {request.name!r} would have about {estimate:,} cells, "
            f"more than the limit of {max_cells:,}.",
            "Choose coarser resolutions or a smaller area, or have the operator raise TERRACE_H3_MAX_CELLS.",
        )
    stored = area.model_dump(mode="json", exclude_none=True)
    inserted = conn.execute(
        queries("grids")["insert_grid"],
        {
            "name": request.name,
            "resolutions": request.resolutions,
            "area": Jsonb(stored),
            "created_by": principal.actor,
        },
    ).fetchone()
    if inserted is None:
        raise Conflict(
            f"A grid named {request.name!r} exists already.",
            "Choose another name, or delete the grid first (DELETE /api/analytics/h3/grids/{name}, admins).",
        )
    parameters = {
        "grid": request.name,
        "resolutions": request.resolutions,
        "area": stored,
        "release_id": area.release_id,  # the job is seen with the release, as the grid is
    }
    job_id, _ = machine.submit(conn, H3_GRID, parameters, submitted_by=principal.actor)
    conn.execute(queries("grids")["set_job"], {"name": request.name, "job_id": job_id})
    return {
        "job_id": job_id,
        "grid": get(conn, Viewer.of(principal), request.name),
        "estimated_cells": estimate,
    }


def list_grids(conn: Connection, viewer: Viewer) -> list[dict[str, Any]]:
    """The grids this viewer may see, with their status and cells by resolution once ready."""
    return [dict(row) for row in conn.execute(queries("grids")["grids"], {"name": None, **viewer.params})]


def get(conn: Connection, viewer: Viewer, name: str) -> dict[str, Any]:
    row = conn.execute(queries("grids")["grids"], {"name": name, **viewer.params}).fetchone()
    if row is None:
        raise no_grid(name)
    return dict(row)


def delete(conn: Connection, machine: CoreMachine, name: str) -> None:
    """Delete the grid and its cells; a job still building it is cancelled."""
    row = conn.execute(queries("grids")["delete_grid"], {"name": name}).fetchone()
    if row is None:
        raise no_grid(name)
    if row["status"] == "building" and row["job_id"] is not None:
        machine.cancel(conn, row["job_id"])


def grid_resolutions(conn: Connection, name: str) -> tuple[int, ...]:
    """The resolutions of grid `name`, ascending."""
    row = conn.execute(queries("grids")["resolutions"], {"name": name}).fetchone()
    if row is None:
        raise no_grid(name)
    return tuple(row["resolutions"])


def no_grid(name: str) -> NotFound:
    return NotFound(f"No H3 grid {name!r}.", "List grids with GET /api/analytics/h3/grids (terrace h3 list).")
