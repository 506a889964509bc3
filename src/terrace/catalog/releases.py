"""Reading and locking releases, and the tables they own (app.release_tables is the only record)."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound

Release = dict[str, Any]


def find_release(conn: Connection, ref: str) -> Release:
    """The release named by a release_id, request_id or job_id."""
    row = conn.execute(queries("releases")["release_by_ref"], {"ref": ref}).fetchone()
    if row is None:
        raise no_release(ref)
    return dict(row)


def no_release(ref: str) -> NotFound:
    """The answer for a release that does not exist, or that the caller may not see."""
    return NotFound(
        f"No release, request or job {ref!r}.",
        "Use the release_id, request_id or job_id returned by POST /api/platform/submit.",
    )


def lock_release(conn: Connection, ref: str) -> Release:
    """The release, re-read after locking its asset: actions on one asset run one at a time."""
    release = find_release(conn, ref)
    conn.execute(queries("releases")["lock_asset"], {"asset_id": release["asset_id"]})
    return find_release(conn, release["release_id"])


def release_tables(conn: Connection, release_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(queries("releases")["release_tables"], {"release_id": release_id})]


def audit(
    conn: Connection,
    release_id: str,
    action: str,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        queries("releases")["audit"],
        {
            "release_id": release_id,
            "action": action,
            "actor": actor,
            "reason": reason,
            "details": Jsonb(details or {}),
        },
    )
