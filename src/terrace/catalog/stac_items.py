"""A release's STAC items in pgSTAC while it is approved: a raster's, cached on the release while
draft; a vector's, one per served table, made at approval from the table and its catalog row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog.releases import Release
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict
from terrace.stac import pgstac
from terrace.stac.items import build_collection
from terrace.stac.tables import TABLE_PROPERTY, ServedTable, build_table_item

PUBLISHED = "stac_published"


def publish(conn: Connection, release: Release, version: str, approver: str) -> None:
    """Put the release's collection and items into pgSTAC, in the approval's transaction (its
    tables already served); publishing again replaces the items."""
    stac = (
        vector_stac(conn, release, version) if release.data_type == "vector" else release.outputs.get("stac")
    )
    if not stac:
        return
    published = pgstac.publish(
        conn,
        stac["collection"],
        stac["items"],
        version=version,
        approver=approver,
        approved_at=release.reviewed_at or datetime.now(UTC),
        access_level=release.access_level,
        granted_roles=release.granted_roles,
        must_exist=bool((release.processing_options or {}).get("collection_must_exist")),
    )
    # Published again (a repair): the collection is still the one this release created, if it did.
    previous = release.outputs.get(PUBLISHED) or {}
    published["created_collection"] = published["created_collection"] or previous.get(
        "created_collection", False
    )
    conn.execute(
        queries("releases")["set_output"],
        {"release_id": release.release_id, "key": PUBLISHED, "value": Jsonb(published)},
    )
    for item, served_id in zip(stac["items"], published["item_ids"], strict=True):
        if TABLE_PROPERTY in item["properties"]:
            conn.execute(
                queries("stac")["set_table_item"],
                {
                    "collection_id": published["collection_id"],
                    "item_id": served_id,
                    "name": item["properties"][TABLE_PROPERTY],
                },
            )


def withdraw(conn: Connection, release: Release) -> None:
    """Take the release's items out of pgSTAC (revoke, unpublish); the draft cache stays."""
    published = (release.outputs or {}).get(PUBLISHED)
    if not published:
        return
    pgstac.withdraw(conn, published)
    conn.execute(
        queries("stac")["clear_table_items"],
        {"collection_id": published["collection_id"], "item_ids": published["item_ids"]},
    )
    conn.execute(queries("releases")["drop_output"], {"release_id": release.release_id, "key": PUBLISHED})


def published_items(release: Release) -> list[str]:
    """`collection/item` of every item the release has in pgSTAC."""
    published = (release.outputs or {}).get(PUBLISHED) or {}
    return [f"{published['collection_id']}/{item}" for item in published.get("item_ids", [])]


def vector_stac(conn: Connection, release: Release, version: str) -> dict[str, Any]:
    """The collection (the dataset's) and the items of a vector release's served tables."""
    q = queries("stac")
    collection_id = release.dataset_id
    items = []
    for row in conn.execute(q["served_tables"], {"release_id": release.release_id}).fetchall():
        if row["bbox"] is None:
            raise Conflict(
                f"Served table {row['table_name']} has no extent in geo.table_catalog.",
                "Run the catalog consistency check; resubmit the release with overwrite to rebuild it.",
            )
        columns = conn.execute(q["table_columns"], {"schema": SERVED_SCHEMA, "name": row["table_name"]})
        table = ServedTable(
            dataset_id=release.dataset_id,
            resource_id=release.resource_id,
            version=version,
            part=row["table_suffix"].lstrip("_"),
            table_name=row["table_name"],
            title=row["title"],
            description=row["description"],
            bbox=row["bbox"],
            feature_count=row["feature_count"],
            geometry_type=row["geometry_type"],
            geometry_column=row["geometry_column"],
            columns=[(c["name"], c["type"]) for c in columns.fetchall()],
            created_at=release.created_at,
        )
        items.append(build_table_item(table, collection_id))
    collection = build_collection(
        collection_id, items, title=release.dataset_id, description=f"Releases of dataset {collection_id}."
    )
    return {"collection": collection.to_dict(), "items": [i.to_dict() for i in items]}
