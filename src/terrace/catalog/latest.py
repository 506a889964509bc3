"""The "latest" alias of an asset: views that follow its highest approved, served release.

"Latest" is derived, never stored: after every approval, revocation or unpublish the aliases
are dropped and rebuilt from the release table.
"""

from __future__ import annotations

from psycopg import sql

from terrace.catalog.identity import latest_alias_base
from terrace.catalog.relations import drop_relation, grant_serving
from terrace.catalog.releases import Release, release_tables
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries


def refresh_latest(conn: Connection, release: Release) -> str | None:
    """Point the asset's latest aliases at its latest served release; returns that version."""
    q = queries("releases")
    for row in conn.execute(q["latest_aliases"], {"asset_id": release.asset_id}).fetchall():
        drop_relation(conn, SERVED_SCHEMA, row["table_name"])
    latest = conn.execute(q["latest_served"], {"asset_id": release.asset_id}).fetchone()
    if latest is None:
        return None
    base = latest_alias_base(release.dataset_id, release.resource_id)
    for table in release_tables(conn, latest["release_id"]):
        alias = base + table["table_suffix"]
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(SERVED_SCHEMA, alias), sql.Identifier(SERVED_SCHEMA, table["table_name"])
            )
        )
        grant_serving(conn, alias)
        conn.execute(
            q["add_latest_alias_row"],
            {"alias": alias, "asset_id": release.asset_id, "source": table["table_name"]},
        )
    return str(latest["version_id"])
