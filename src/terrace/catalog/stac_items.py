"""A raster release's STAC items: cached on the release while draft, in pgSTAC while approved."""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from terrace.catalog.releases import Release
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.stac import pgstac

PUBLISHED = "stac_published"


def publish(conn: Connection, release: Release, version: str, approver: str) -> None:
    """Put the release's cached collection and items into pgSTAC, in the approval's transaction."""
    stac = (release.outputs or {}).get("stac")
    if not stac:
        return
    published = pgstac.publish(
        conn,
        stac["collection"],
        stac["items"],
        version=version,
        approver=approver,
        approved_at=datetime.now(UTC),
        access_level=release.access_level,
        granted_roles=release.granted_roles,
        must_exist=bool((release.processing_options or {}).get("collection_must_exist")),
    )
    conn.execute(
        queries("releases")["set_output"],
        {"release_id": release.release_id, "key": PUBLISHED, "value": Jsonb(published)},
    )


def withdraw(conn: Connection, release: Release) -> None:
    """Take the release's items out of pgSTAC (revoke, unpublish); the draft cache stays."""
    published = (release.outputs or {}).get(PUBLISHED)
    if not published:
        return
    pgstac.withdraw(conn, published)
    conn.execute(queries("releases")["drop_output"], {"release_id": release.release_id, "key": PUBLISHED})


def published_items(release: Release) -> list[str]:
    """`collection/item` of every item the release has in pgSTAC."""
    published = (release.outputs or {}).get(PUBLISHED) or {}
    return [f"{published['collection_id']}/{item}" for item in published.get("item_ids", [])]
