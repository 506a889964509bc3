"""Vector tiles of approved versions, kept in memory once made.

A served version (`{table}_v{n}`) never changes after approval, so its tile at z/x/y is the same
bytes for every caller who may see it. The visibility rule still runs on every request (the
collection lookup comes first), so a revoked or hidden version is refused as before; the cache
only saves the tile query. Entries are keyed by the table's relation oid and catalog row version:
a dropped and recreated table is a new key. `_latest` aliases, drafts and requests with any
filter or option are never cached.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from cachetools import LRUCache
from morecantile import Tile, TileMatrixSet
from pydantic import ConfigDict, Field
from tipg.collections import PgCollection

from terrace.observability.metrics import TILE_CACHE_REQUESTS

Key = tuple[Any, ...]


class TileCache:
    """Tile bytes by key, least recently used first out, at most `megabytes` in all."""

    def __init__(self, megabytes: int) -> None:
        self._tiles: LRUCache[Key, bytes] = LRUCache(maxsize=max(1, megabytes * 2**20), getsizeof=len)
        self.enabled = megabytes > 0

    def get(self, key: Key) -> bytes | None:
        return self._tiles.get(key)

    def put(self, key: Key, tile: bytes) -> None:
        if self.enabled and len(tile) <= self._tiles.maxsize:
            self._tiles[key] = tile


class VersionCollection(PgCollection):
    """A served version's tipg collection, whose unfiltered tiles come from the cache."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tiles: TileCache = Field(exclude=True)
    version_key: Key = Field(exclude=True)

    async def get_tile(
        self, conn: asyncpg.Connection, *, tms: TileMatrixSet, tile: Tile, **options: Any
    ) -> bytes:
        if not self.tiles.enabled or any(value for value in options.values()):
            return await super().get_tile(conn, tms=tms, tile=tile, **options)
        key = (*self.version_key, tms.id, tile.z, tile.x, tile.y)
        found = self.tiles.get(key)
        TILE_CACHE_REQUESTS.labels("hit" if found is not None else "miss").inc()
        if found is None:
            found = await super().get_tile(conn, tms=tms, tile=tile, **options)
            self.tiles.put(key, found)
        return found
