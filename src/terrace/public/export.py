"""Export a release to the public target and withdraw it again: tables, blobs and STAC items.

Each runs on the target in one transaction holding its asset's advisory lock, so exports and
withdrawals of one asset (which share its `_latest` view) never interleave, and the export re-reads
the release under that lock: an export of a release that is no longer cleared exports nothing.
Both replace what the target holds of the release, so running either twice is the same as once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import obstore
from psycopg import sql
from psycopg.types.json import Jsonb

from terrace.catalog.identity import latest_alias_base
from terrace.catalog.releases import Release, find_release, release_tables
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.public import stac
from terrace.public.tables import copy_relation, drop_relation
from terrace.public.target import PUBLIC_CONTAINER, PublicTarget
from terrace.storage import Storage

EXPORT_OUTPUT = "public_export"  # the release's outputs key recording the export's state
CATALOG_FIELDS = (
    "title",
    "description",
    "bbox",
    "feature_count",
    "geometry_type",
    "srid",
    "table_group",
    "stac_item_id",
    "stac_collection_id",
    "keywords",
)


@dataclass
class Holding:
    """What the target holds of one release."""

    tables: list[str] = field(default_factory=list)
    stac_items: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)


def exportable(release: Release) -> bool:
    """Approved, served, cleared `public`, and not restricted: the releases the public zone shows."""
    return (
        release.approval_state == "approved"
        and release.is_served
        and release.unpublished_at is None
        and release.clearance_state == "public"
        and release.access_level != "restricted"
    )


def export(
    source: Connection, target: Connection, storage: Storage, public: PublicTarget, release_id: str
) -> Holding | None:
    """Replace the release's copy on the target (call inside a target transaction); None when the
    release is not exportable, after removing any copy."""
    release = _locked(source, target, release_id)
    previous = _remove(target, public, release)
    if not exportable(release):
        _delete_blobs(public.storage, previous.blobs)
        return None
    held = Holding()
    for table in release_tables(source, release_id):
        if table["schema_name"] != SERVED_SCHEMA:
            continue
        copy_relation(source, target, table["table_name"])
        _copy_catalog_row(source, target, release, table)
        held.tables.append(table["table_name"])
    refresh_latest(target, release)
    published = stac.read_published(source, release)
    if published is not None:
        blobs: set[str] = set()
        collection = stac.for_public(published[0], storage, public, blobs)
        items = [stac.for_public(item, storage, public, blobs) for item in published[1]]
        for path in sorted(blobs):
            _copy_blob(storage, public.storage, path)
        held.blobs = sorted(blobs)
        held.stac_items = stac.load(target, collection, items, release_id)
    _delete_blobs(public.storage, set(previous.blobs) - set(held.blobs))
    return held


def withdraw(source: Connection, target: Connection, public: PublicTarget, release_id: str) -> Holding | None:
    """Remove the release's tables, items and blobs from the target (inside a target transaction);
    None, removing nothing, when the release has been cleared public again meanwhile."""
    release = _locked(source, target, release_id)
    if exportable(release):
        return None
    removed = _remove(target, public, release)
    _delete_blobs(public.storage, removed.blobs)
    return removed


def _locked(source: Connection, target: Connection, release_id: str) -> Release:
    """The release as it is once its asset's lock on the target is held."""
    target.execute(queries("public")["lock_asset"], {"asset_id": find_release(source, release_id).asset_id})
    return find_release(source, release_id)


def _remove(target: Connection, public: PublicTarget, release: Release) -> Holding:
    """Drop the release's relations and items on the target; its blobs are listed, not deleted."""
    q = queries("public")
    removed = Holding()
    for row in target.execute(q["exported_tables"], {"release_id": release.release_id}).fetchall():
        drop_relation(target, row["table_name"])
        target.execute(q["delete_catalog_row"], {"table_name": row["table_name"]})
        if not row["is_alias"]:
            removed.tables.append(row["table_name"])
    refresh_latest(target, release)
    removed.stac_items, removed.blobs = stac.remove(target, public, release.release_id)
    return removed


def refresh_latest(target: Connection, release: Release) -> None:
    """Point the asset's latest aliases on the target at its highest exported release."""
    q = queries("public")
    for row in target.execute(q["latest_aliases"], {"asset_id": release.asset_id}).fetchall():
        drop_relation(target, row["table_name"])
        target.execute(q["delete_catalog_row"], {"table_name": row["table_name"]})
    base = latest_alias_base(release.dataset_id, release.resource_id)
    for table in target.execute(q["latest_exported"], {"asset_id": release.asset_id}).fetchall():
        alias = base + (table["table_suffix"] or "")
        target.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(SERVED_SCHEMA, alias), sql.Identifier(SERVED_SCHEMA, table["table_name"])
            )
        )
        target.execute(
            q["add_latest_alias_row"],
            {"alias": alias, "asset_id": release.asset_id, "source": table["table_name"]},
        )


def _copy_catalog_row(
    source: Connection, target: Connection, release: Release, table: dict[str, Any]
) -> None:
    q = queries("public")
    row = source.execute(q["catalog_row"], {"table_name": table["table_name"]}).fetchone() or {}
    marker = {
        "release_id": release.release_id,
        "asset_id": release.asset_id,
        "version_ordinal": release.version_ordinal,
        "table_suffix": table["table_suffix"] or "",
    }
    target.execute(
        q["insert_catalog_row"],
        {
            "table_name": table["table_name"],
            **{name: row.get(name) for name in CATALOG_FIELDS},
            "srid": row.get("srid") or 4326,
            "feature_count": row.get("feature_count") or 0,
            "keywords": row.get("keywords") or [],
            "properties": Jsonb({**(row.get("properties") or {}), "public_export": marker}),
        },
    )


def _copy_blob(source: Storage, target: Storage, path: str) -> None:
    """Stream one object from silver into the public container (replacing it), chunk by chunk."""

    async def copy() -> None:
        found = await obstore.get_async(source.store(stac.OUTPUT_CONTAINER), path)
        await obstore.put_async(target.store(PUBLIC_CONTAINER), path, found.stream())

    asyncio.run(copy())


def _delete_blobs(storage: Storage, paths: Iterable[str]) -> None:
    for path in paths:
        if storage.exists(PUBLIC_CONTAINER, path):
            storage.delete(PUBLIC_CONTAINER, path)
