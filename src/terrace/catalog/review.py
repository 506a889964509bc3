"""Approve, reject and revoke: each one transaction, all or nothing, recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from terrace.catalog import stac_items
from terrace.catalog.clearance import require_clearance
from terrace.catalog.identity import normalize_version, served_table_base
from terrace.catalog.latest import refresh_latest
from terrace.catalog.relations import move_relation
from terrace.catalog.releases import Release, lock_release, release_tables
from terrace.catalog.states import apply_transition
from terrace.db.models.catalog import DRAFT_SCHEMA, SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput


def approve(
    conn: Connection,
    ref: str,
    actor: str,
    version_id: str | None = None,
    clearance_state: str = "ouo",
    notes: str | None = None,
) -> Release:
    """Assign the version, move the release's tables to the served schema, repoint latest."""
    release = lock_release(conn, ref)
    require_clearance(release, clearance_state)
    version = normalize_version(version_id) if version_id else f"v{release.version_ordinal}"
    q = queries("releases")
    taken = conn.execute(
        q["version_taken"],
        {"asset_id": release.asset_id, "version_id": version, "release_id": release.release_id},
    ).fetchone()
    if taken is not None:
        raise Conflict(
            f"Version {version} of this asset already exists (release {taken['release_id']}).",
            "Approve with another version_id.",
        )
    apply_transition(
        conn, release, "approve", actor, notes, version_id=version, clearance_state=clearance_state
    )
    base = served_table_base(release.dataset_id, release.resource_id, version)
    _move_tables(conn, release, SERVED_SCHEMA, lambda table: base + table["table_suffix"])
    conn.execute(q["grant_release_tables"], {"release_id": release.release_id})
    # Published before latest is repointed, so that the alias's catalog row names the item too.
    stac_items.publish(conn, release, version, actor)
    refresh_latest(conn, release)
    return lock_release(conn, release.release_id)


def reject(conn: Connection, ref: str, actor: str, reason: str) -> Release:
    _require_reason(reason, "reject")
    release = lock_release(conn, ref)
    apply_transition(conn, release, "reject", actor, reason)
    return lock_release(conn, release.release_id)


def revoke(conn: Connection, ref: str, actor: str, reason: str) -> Release:
    """Unserve an approved release; "latest" falls back to the previous served release."""
    _require_reason(reason, "revoke")
    release = lock_release(conn, ref)
    apply_transition(conn, release, "revoke", actor, reason)
    refresh_latest(conn, release)
    _move_tables(conn, release, DRAFT_SCHEMA, lambda table: table["table_name"])
    stac_items.withdraw(conn, release)
    return lock_release(conn, release.release_id)


def _move_tables(conn: Connection, release: Release, schema_to: str, name_for: Any) -> None:
    # Tables before views: a view moves after the table it reads from.
    for table in release_tables(conn, release.release_id):
        name_to = name_for(table)
        move_relation(conn, table["schema_name"], table["table_name"], schema_to, name_to)
        conn.execute(
            queries("releases")["rename_release_table"],
            {
                "release_id": release.release_id,
                "name_from": table["table_name"],
                "schema_to": schema_to,
                "name_to": name_to,
            },
        )


def _require_reason(reason: str, action: str) -> None:
    if not reason or not reason.strip():
        raise InvalidInput(f"A reason is required to {action} a release.", "Send a non-empty `reason`.")
