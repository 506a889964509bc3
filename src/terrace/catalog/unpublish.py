"""Unpublish: remove everything a release produced (tables, views, catalog rows, STAC item, blobs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from terrace.catalog import stac_items
from terrace.catalog.latest import refresh_latest
from terrace.catalog.relations import drop_relation
from terrace.catalog.releases import Release, audit, lock_release, release_tables, timeline_event
from terrace.catalog.states import apply_transition
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict, InvalidInput
from terrace.storage import Storage


@dataclass
class UnpublishPlan:
    release_id: str
    approval_state: str
    tables: list[str] = field(default_factory=list)
    stac_items: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(conn: Connection, release: Release) -> UnpublishPlan:
    """Exactly what unpublishing the release would remove."""
    outputs = release.outputs or {}
    return UnpublishPlan(
        release_id=release.release_id,
        approval_state=release.approval_state,
        tables=[f"{t['schema_name']}.{t['table_name']}" for t in release_tables(conn, release.release_id)],
        stac_items=stac_items.published_items(release),
        blobs=[f"{b['container']}/{b['path']}" for b in owned_blobs(outputs)],
    )


def owned_blobs(outputs: dict[str, Any]) -> list[dict[str, str]]:
    """The stored files a release's outputs name: a raster's COGs and thumbnails, a vector's
    repair report."""
    report = outputs.get("repair_report")
    return list(outputs.get("blobs", [])) + ([report] if report else [])


def unpublish(conn: Connection, ref: str, actor: str, force_approved: bool = False) -> UnpublishPlan:
    """Unpublish the release (call inside a transaction); its blobs are listed in the plan for
    `delete_blobs`, which runs after the commit since storage cannot roll back."""
    release = lock_release(conn, ref)
    if release.unpublished_at is not None:
        raise Conflict(f"Release {release.release_id} is already unpublished.", "Nothing to do.")
    if release.approval_state == "approved" and not force_approved:
        raise Conflict(
            f"Release {release.release_id} is approved and served.",
            "Revoke it first, or unpublish with force_approved=true (admin only).",
        )
    if release.approval_state == "approved":
        apply_transition(conn, release, "revoke", actor, "unpublished")
    conn.execute(queries("releases")["mark_unpublished"], {"release_id": release.release_id})
    removal = remove_outputs(conn, release)
    audit(conn, release.release_id, "unpublish", actor, None, removal.to_dict())
    timeline_event(conn, release, "release_unpublished", actor, None, removal.to_dict())
    return removal


def remove_outputs(conn: Connection, release: Release) -> UnpublishPlan:
    """Drop the release's tables and views, catalog rows and STAC item; repoint latest."""
    removal = plan(conn, release)
    refresh_latest(conn, release)
    for table in reversed(release_tables(conn, release.release_id)):  # views before their tables
        drop_relation(conn, table["schema_name"], table["table_name"])
    conn.execute(queries("releases")["delete_release_tables"], {"release_id": release.release_id})
    stac_items.withdraw(conn, release)
    conn.execute(queries("releases")["delete_cogs_of_release"], {"release_id": release.release_id})
    return removal


def delete_blobs(storage: Storage, removal: UnpublishPlan) -> None:
    for blob in removal.blobs:
        container, _, path = blob.partition("/")
        if not container or not path:
            raise InvalidInput(f"Malformed blob reference {blob!r}.", "Report this as a bug.")
        storage.delete(container, path)
