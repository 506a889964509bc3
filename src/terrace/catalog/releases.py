"""Reading and locking releases, and the tables they own (app.release_tables is the only record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import NotFound


@dataclass(frozen=True)
class Release:
    """One row of `app.asset_releases` with its asset's identity, as the release queries return it."""

    release_id: str
    asset_id: str
    submission_key: str
    version_id: str | None
    suggested_version_id: str | None
    version_ordinal: int
    revision: int
    previous_release_id: str | None
    job_id: str | None
    title: str | None
    description: str | None
    access_level: str
    granted_roles: list[str]
    source: dict[str, Any]
    processing_options: dict[str, Any]
    outputs: dict[str, Any]
    warnings: list[dict[str, Any]]
    processing_status: str
    processing_started_at: datetime | None
    processing_completed_at: datetime | None
    last_error: dict[str, Any] | None
    approval_state: str
    reviewer: str | None
    reviewed_at: datetime | None
    approval_notes: str | None
    rejection_reason: str | None
    clearance_state: str
    is_served: bool
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: str | None
    unpublished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    dataset_id: str
    resource_id: str
    data_type: str
    platform_id: str

    @classmethod
    def of(cls, row: Any) -> Release:
        return cls(**row)


def find_release(conn: Connection, ref: str) -> Release:
    """The release named by a release_id, request_id or job_id."""
    row = conn.execute(queries("releases")["release_by_ref"], {"ref": ref}).fetchone()
    if row is None:
        raise no_release(ref)
    return Release.of(row)


def no_release(ref: str) -> NotFound:
    """The answer for a release that does not exist, or that the caller may not see."""
    return NotFound(
        f"No release, request or job {ref!r}.",
        "Use the release_id, request_id or job_id returned by POST /api/platform/submit.",
    )


def lock_release(conn: Connection, ref: str) -> Release:
    """The release, re-read after locking its asset: actions on one asset run one at a time."""
    release = find_release(conn, ref)
    conn.execute(queries("releases")["lock_asset"], {"asset_id": release.asset_id})
    return find_release(conn, release.release_id)


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


def timeline_event(
    conn: Connection,
    release: Release,
    kind: str,
    actor: str,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An event on the release's job, with who did it: the release's review, revocation,
    unpublishing and repairs read as part of its job's timeline."""
    if release.job_id is None:
        return
    conn.execute(
        queries("orchestration")["event"],
        {
            "job_id": release.job_id,
            "task_id": None,
            "stage": None,
            "kind": kind,
            "message": message,
            "duration_ms": None,
            "data": Jsonb({"release_id": release.release_id, "actor": actor, **(details or {})}),
        },
    )
