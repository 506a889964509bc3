"""The three serving APIs as apps to mount under one origin, with their database pools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from terrace.serving import features, stac, tiles
from terrace.serving.tile_cache import TileCache
from terrace.serving.visibility import Gate
from terrace.storage import Storage


class ServingApps:
    """`/features` (tipg), `/stac` (stac-fastapi-pgstac) and `/tiles` (titiler-pgstac).

    Each library queries through its own pool kind (asyncpg for tipg and stac-fastapi, psycopg
    for titiler), connected as the read-only serving role; mounted apps get no lifespan, so the
    host app opens them with `connected`. Without `draft_cogs` there are no reviewer previews
    (the public zone's configuration). Vector tiles of approved versions are kept in
    `tile_cache_mb` of memory.
    """

    def __init__(
        self, gate: Gate, storage: Storage, draft_cogs: tiles.DraftCogs | None, tile_cache_mb: int
    ) -> None:
        self.features = features.create_features_app(
            gate, TileCache(tile_cache_mb), drafts=draft_cogs is not None
        )
        self.stac = stac.create_stac_app(gate, storage, "/stac")
        self.tiles = tiles.create_tiles_app(gate, storage, draft_cogs, "/tiles")

    @property
    def mounts(self) -> dict[str, FastAPI]:
        return {"/features": self.features, "/stac": self.stac, "/tiles": self.tiles}

    @asynccontextmanager
    async def connected(
        self, serving_url: str, preview_url: str | None, pool_max_size: int
    ) -> AsyncIterator[None]:
        """Served data through the serving role; the reviewers' draft features through the preview role."""
        async with AsyncExitStack() as stack:
            await features.connect(self.features, serving_url, preview_url, pool_max_size)
            stack.push_async_callback(features.close, self.features)
            for module, app in ((stac, self.stac), (tiles, self.tiles)):
                await module.connect(app, serving_url, pool_max_size)
                stack.push_async_callback(module.close, app)
            yield
