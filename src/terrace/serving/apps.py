"""The three serving APIs as apps to mount under one origin, with their database pools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from terrace.serving import features, stac, tiles
from terrace.serving.visibility import Gate
from terrace.storage import Storage


class ServingApps:
    """`/features` (tipg), `/stac` (stac-fastapi-pgstac) and `/tiles` (titiler-pgstac).

    Each library queries through its own pool kind (asyncpg for tipg and stac-fastapi, psycopg
    for titiler); mounted apps get no lifespan, so the host app opens them with `connected`.
    """

    def __init__(self, gate: Gate, storage: Storage) -> None:
        self.features = features.create_features_app(gate)
        self.stac = stac.create_stac_app(gate, "/stac")
        self.tiles = tiles.create_tiles_app(gate, storage, "/tiles")

    @property
    def mounts(self) -> dict[str, FastAPI]:
        return {"/features": self.features, "/stac": self.stac, "/tiles": self.tiles}

    @asynccontextmanager
    async def connected(self, database_url: str, pool_max_size: int) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for module, app in ((features, self.features), (stac, self.stac), (tiles, self.tiles)):
                await module.connect(app, database_url, pool_max_size)
                stack.push_async_callback(module.close, app)
            yield
