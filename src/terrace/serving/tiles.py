"""Raster tiles over pgSTAC items and collection mosaics (titiler-pgstac), and draft COG previews.

Every route resolves its item or collection afresh and checks it against the visibility rule,
bypassing titiler-pgstac's TTL caches where they could outlive a revocation. Only what pgSTAC
holds is tiled: no arbitrary URLs (SSRF), no ad-hoc registered searches. Reviewers preview the
COGs of a draft release they may see under `/drafts/releases/{release_id}/cogs/{index}`: the
host finds them among what that release's own job wrote, never by a caller's path.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast

import pystac
from fastapi import Depends, FastAPI, Path, Request
from psycopg.rows import dict_row
from starlette.concurrency import run_in_threadpool
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import MultiBaseTilerFactory, TilerFactory, TMSFactory
from titiler.mosaic.errors import MOSAIC_STATUS_CODES
from titiler.pgstac.backend import PGSTACBackend
from titiler.pgstac.db import close_db_connection, connect_to_db
from titiler.pgstac.dependencies import get_collection_id
from titiler.pgstac.errors import PGSTAC_STATUS_CODES
from titiler.pgstac.factory import MosaicTilerFactory
from titiler.pgstac.reader import PgSTACReader
from titiler.pgstac.settings import PostgresSettings

from terrace.auth import Principal, Role
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.serving import lifetimes
from terrace.serving.lifetimes import Lifetime
from terrace.serving.subapp import serving_app
from terrace.serving.visibility import ACCESS_PROPERTY, GRANTS_PROPERTY, Audience, Gate
from terrace.storage import Storage

ITEM_PREFIX = "/collections/{collection_id}/items/{item_id}"
COLLECTION_PREFIX = "/collections/{collection_id}"
DRAFT_PREFIX = "/releases/{release_id}/cogs/{index}"
ERRORS = {**DEFAULT_STATUS_CODES, **MOSAIC_STATUS_CODES, **PGSTAC_STATUS_CODES}

# (principal, release_id, index) -> (container, path) of a draft COG the principal may preview;
# raises NotFound for any other. It reads the catalog, so it may block: it runs in a thread.
DraftCogs = Callable[[Principal, str, int], tuple[str, str]]


class FreshBackend(PGSTACBackend):
    """The pgSTAC mosaic backend without its TTL cache of item lookups: a revoked item must not
    stay in a mosaic for minutes after pgSTAC dropped it."""

    def get_assets(self, geom: Any, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        return PGSTACBackend.get_assets.__wrapped__(self, geom, **kwargs)  # type: ignore[attr-defined]


def create_tiles_app(gate: Gate, storage: Storage, draft_cogs: DraftCogs | None, mount: str) -> FastAPI:
    """The API mounted at `mount` (its links carry that prefix); its psycopg pool is opened by `connect`.
    Without `draft_cogs` it has no reviewer previews."""
    storage.share_with_gdal()
    app = _api("Terrace raster tiles", "Tiles, previews, points and statistics of served rasters.")
    conforms: set[str] = set()
    factories: list[tuple[str, Any, str]] = [
        (ITEM_PREFIX, _item_tiler(gate, mount + ITEM_PREFIX), "STAC item"),
        (COLLECTION_PREFIX, _collection_tiler(gate, mount + COLLECTION_PREFIX), "STAC collection mosaic"),
        ("", TMSFactory(), "Tiling schemes"),
    ]
    for prefix, factory, tag in factories:
        app.include_router(factory.router, prefix=prefix, tags=[tag])
        conforms |= factory.conforms_to
    _add_conformance(app, sorted(conforms))
    if draft_cogs is not None:
        app.mount("/drafts", _drafts_app(gate, storage, draft_cogs, mount))
    return app


def _drafts_app(gate: Gate, storage: Storage, draft_cogs: DraftCogs, mount: str) -> FastAPI:
    async def reviewer(request: Request) -> None:
        await gate.require(request, Role.reviewer)
        lifetimes.mark(request, Lifetime.DRAFT)

    drafts = _api(
        "Terrace draft preview – raster",
        "Draft COGs awaiting review; every route needs the reviewer role.",
        dependencies=[Depends(reviewer)],
    )
    draft_tiler = TilerFactory(
        path_dependency=_draft_cog(gate, storage, draft_cogs),
        router_prefix=f"{mount}/drafts{DRAFT_PREFIX}",
        add_viewer=False,
    )
    drafts.include_router(draft_tiler.router, prefix=DRAFT_PREFIX, tags=["Draft COG"])
    return drafts


async def connect(app: FastAPI, database_url: str, max_size: int) -> None:
    """Open the psycopg pool titiler-pgstac reads through (search_path pgstac, public)."""
    settings = PostgresSettings.model_validate(
        {"database_url": database_url, "db_min_conn_size": 1, "db_max_conn_size": max_size}
    )
    await connect_to_db(app, settings=settings)


async def close(app: FastAPI) -> None:
    await close_db_connection(app)


def _api(title: str, description: str, dependencies: list | None = None) -> FastAPI:
    return serving_app(title, description, add_exception_handlers, ERRORS, dependencies)


def _item_tiler(gate: Gate, prefix: str) -> MultiBaseTilerFactory:
    async def item(
        request: Request,
        collection_id: Annotated[str, Path(description="STAC collection identifier")],
        item_id: Annotated[str, Path(description="STAC item identifier")],
    ) -> pystac.Item:
        audience = await gate.audience(request)
        found = await run_in_threadpool(_visible_item, request, collection_id, item_id, audience)
        lifetimes.mark(request, Lifetime.VERSION)
        return pystac.Item.from_dict(found)

    return MultiBaseTilerFactory(
        reader=PgSTACReader, path_dependency=item, router_prefix=prefix, add_viewer=False
    )


def _collection_tiler(gate: Gate, prefix: str) -> MosaicTilerFactory:
    async def search(
        request: Request,
        collection_id: Annotated[str, Path(description="STAC collection identifier")],
    ) -> str:
        audience = await gate.audience(request)
        return await run_in_threadpool(_visible_mosaic, request, collection_id, audience)

    return MosaicTilerFactory(
        path_dependency=cast(Any, search),  # typed as sync; FastAPI awaits it
        backend=FreshBackend,
        router_prefix=prefix,
        add_statistics=True,
        add_viewer=False,
    )


def _visible_item(request: Request, collection_id: str, item_id: str, audience: Audience) -> dict[str, Any]:
    row = _fetch(request, "item", {"collection_id": collection_id, "item_id": item_id})
    item = row["item"]
    if not (_sees(audience, row["collection"]) and item and _sees(audience, item["properties"])):
        raise NotFound(
            f"No STAC item {item_id!r} in collection {collection_id!r}.",
            "Search the items you may see at /stac/search; some need an API key.",
        )
    return item


def _visible_mosaic(request: Request, collection_id: str, audience: Audience) -> str:
    """The pgSTAC search id of the collection's items this audience may see."""
    row = _fetch(request, "collection", {"collection_id": collection_id})
    if not _sees(audience, row["collection"]):
        raise NotFound(
            f"No STAC collection {collection_id!r}.",
            "List the collections you may see at /stac/collections; some need an API key.",
        )
    # The rule is part of the registered search, so pgSTAC filters the items of every tile.
    return get_collection_id(
        request.app.state.dbpool,
        collection_id=collection_id,
        # Its cache keys on every argument, so all are passed.
        ids=None,
        bbox=None,
        datetime=None,
        query=None,
        sortby=None,
        filter_expr=json.dumps(audience.cql2()),
        filter_lang="cql2-json",
    )


def _fetch(request: Request, query: str, params: dict[str, Any]) -> dict[str, Any]:
    with request.app.state.dbpool.connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(queries("tiles")[query], params).fetchone()
    assert row is not None
    return row


def _sees(audience: Audience, fields: dict[str, Any] | None) -> bool:
    return fields is not None and audience.sees(fields.get(ACCESS_PROPERTY), fields.get(GRANTS_PROPERTY))


def _draft_cog(gate: Gate, storage: Storage, draft_cogs: DraftCogs) -> Callable[..., Awaitable[str]]:
    async def cog(
        request: Request,
        release_id: Annotated[str, Path(description="The draft release.")],
        index: Annotated[int, Path(ge=0, description="Which of its COGs, in the order of its outputs.")],
    ) -> str:
        principal = await gate.require(request, Role.reviewer)
        container, path = await run_in_threadpool(draft_cogs, principal, release_id, index)
        if not await run_in_threadpool(storage.exists, container, path):
            raise NotFound(
                f"Draft COG {index} of release {release_id!r} is missing from storage.",
                "Resubmit the release; a consistency check lists what is missing.",
            )
        return storage.gdal_path(container, path)

    return cog


def _add_conformance(app: FastAPI, conforms: list[str]) -> None:
    @app.get("/conformance", tags=["OGC Common"])
    def conformance() -> dict[str, list[str]]:
        """The OGC conformance classes these tile endpoints implement."""
        return {"conformsTo": conforms}

    @app.get("/", tags=["OGC Common"])
    def landing(request: Request) -> dict[str, Any]:
        """Where to start: the API description and conformance."""
        return {
            "title": app.title,
            "links": [
                {"rel": "service-desc", "href": str(request.url_for("openapi"))},
                {"rel": "service-doc", "href": str(request.url_for("swagger_ui_html"))},
                {"rel": "conformance", "href": str(request.url_for("conformance"))},
            ],
        }
