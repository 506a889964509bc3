"""Served tables as tipg collections, looked up in `geo.table_catalog` on every request.

tipg reads its catalog once at startup; Terrace asks the catalog instead, per request and
filtered by the visibility rule, so an approval shows up and a revocation disappears on the
very next request, in every API process. What tipg learns by introspecting a table (columns,
key, geometry, extent) is kept per relation oid and catalog row version: a recreated table or
"latest" view has a new oid, so the cache never describes a relation that no longer exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
from cachetools import LRUCache
from tipg.collections import Collection, pg_get_collection_index
from tipg.settings import DatabaseSettings

from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.queries import queries
from terrace.serving.lifetimes import Lifetime
from terrace.serving.tile_cache import TileCache, VersionCollection
from terrace.serving.visibility import Audience

# The identity key vector ingest gives every table; "latest" views have no primary key of their
# own, and tipg needs a key to serve single features.
IDENTITY_COLUMN = "objectid"

IDENTIFIER_BYTES = 63  # PostgreSQL's longest name: a longer collection id names no table

Row: TypeAlias = asyncpg.Record


class TableCatalog:
    """The collections of one schema (`geo` served, `geo_draft` for reviewer previews); with
    `tiles`, served versions keep their vector tiles there."""

    def __init__(self, schema: str, tiles: TileCache | None = None, cache_size: int = 1024) -> None:
        self.schema = schema
        self.tiles = tiles
        self._described: LRUCache[tuple[int, Any], Collection] = LRUCache(maxsize=cache_size)

    async def get(
        self, conn: asyncpg.Connection, name: str, audience: Audience
    ) -> tuple[Collection, Lifetime] | None:
        """The table `name` if it is in the catalog and the audience may see it, with how long
        its answers stay true: a served version never changes, a `_latest` alias or a draft may."""
        if "\x00" in name or len(name.encode()) > IDENTIFIER_BYTES:
            return None  # no table is so named, and the database would refuse the query
        row = await conn.fetchrow(
            queries("serving")["visible_table"],
            self.schema,
            name,
            list(audience.levels),
            list(audience.roles),
        )
        if row is None:
            return None
        found = await self.describe(conn, [row])
        if not found:
            return None
        if self.schema != SERVED_SCHEMA:
            return found[0], Lifetime.DRAFT
        return found[0], Lifetime.CURRENT if row["is_alias"] else Lifetime.VERSION

    async def listing(
        self, conn: asyncpg.Connection, audience: Audience, bbox: Sequence[float] | None
    ) -> list[Row]:
        """Catalog rows of every table the audience may see, by name, optionally within a bbox."""
        rows = await conn.fetch(
            queries("serving")["visible_tables"],
            self.schema,
            list(audience.levels),
            list(audience.roles),
            list(bbox[:4]) if bbox else None,
        )
        return list(rows)

    async def describe(self, conn: asyncpg.Connection, rows: Sequence[Row]) -> list[Collection]:
        """tipg collections for catalog rows, introspecting only tables not seen before."""
        described = {_key(row): self._described[_key(row)] for row in rows if _key(row) in self._described}
        missing = [row for row in rows if _key(row) not in described]
        if missing:
            settings = DatabaseSettings(
                schemas=[self.schema],
                tables=[f"{self.schema}.{row['table_name']}" for row in missing],
                only_spatial_tables=False,
            )
            found = {c.table: c for c in await pg_get_collection_index(conn, settings=settings)}
            for row in missing:
                if row["table_name"] in found:
                    described[_key(row)] = self._as_served(found[row["table_name"]], row)
            self._described.update(
                {_key(row): described[_key(row)] for row in missing if _key(row) in described}
            )
        # A table dropped between the catalog query and its introspection is left out.
        return [described[_key(row)] for row in rows if _key(row) in described]

    def _as_served(self, collection: Collection, row: Row) -> Collection:
        """Served under its stable table name (no schema prefix), titled from the catalog; a
        served version (not an alias) with its tiles cached."""
        identity = collection.id_column or next(
            (column for column in collection.properties if column.name == IDENTITY_COLUMN), None
        )
        update = {
            "id": row["table_name"],
            "title": row["title"] or row["table_name"],
            "description": row["description"],
            "id_column": identity,
        }
        if self.tiles is None or row["is_alias"]:
            return collection.model_copy(update=update)
        fields = {**dict(collection), **update}
        return VersionCollection.model_construct(**fields, tiles=self.tiles, version_key=_key(row))


def _key(row: Row) -> tuple[int, Any]:
    return row["relation"], row["updated_at"]
