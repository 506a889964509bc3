"""Clearance (SPEC §14): where an approved release may go. Set at approval, changed later by a
reviewer, each change audited; a restricted release is never cleared public."""

from __future__ import annotations

from terrace.catalog.releases import Release, audit, lock_release
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput

CLEARANCES = ("ouo", "public")


def require_clearance(release: Release, clearance_state: str) -> None:
    """The clearance must be one a reviewer may give, and `public` never for a restricted release."""
    if clearance_state not in CLEARANCES:
        raise InvalidInput(
            f"clearance_state {clearance_state!r} is not allowed.", f"Use one of: {', '.join(CLEARANCES)}."
        )
    if clearance_state == "public" and release.access_level == "restricted":
        raise Conflict(
            f"Release {release.release_id} is restricted and cannot be cleared public.",
            "Clear it ouo, or submit a new version with another access_level.",
        )


def change_clearance(
    conn: Connection, ref: str, clearance_state: str, actor: str, notes: str | None = None
) -> Release:
    """Clear an approved release `ouo` or `public` (call inside a transaction); audited."""
    release = lock_release(conn, ref)
    require_clearance(release, clearance_state)
    if release.approval_state != "approved":
        raise Conflict(
            f"Release {release.release_id} is {release.approval_state}; only approved releases are cleared.",
            "Approve it with the clearance it needs, or submit a new version.",
        )
    conn.execute(
        queries("clearance")["set_clearance"],
        {"release_id": release.release_id, "clearance_state": clearance_state},
    )
    details = {"from": release.clearance_state, "to": clearance_state}
    audit(conn, release.release_id, "clearance", actor, notes, details)
    return lock_release(conn, release.release_id)
