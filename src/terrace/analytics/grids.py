"""H3 grids as zones: the resolutions a grid holds (the contract the grid bootstrap fulfils)."""

from __future__ import annotations

from psycopg import sql

from terrace.db.pool import Connection
from terrace.errors import NotFound

_RESOLUTIONS = sql.SQL("SELECT resolutions FROM h3.grids WHERE name = %(name)s")


def grid_resolutions(conn: Connection, name: str) -> tuple[int, ...]:
    """The resolutions of grid `name`; NotFound when there is no such grid."""
    row = conn.execute(_RESOLUTIONS, {"name": name}).fetchone()
    if row is None:
        raise NotFound(
            f"No H3 grid {name!r}.", "List the grids with GET /api/analytics/h3/grids, or create one."
        )
    return tuple(row["resolutions"])
