"""OGC API – Features and vector tiles over served tables: tipg, fed by the catalog per request.

Collections are the served tables of `geo` under their stable names (a release's versioned name
and its "latest" view). Reviewers preview drafts of `geo_draft` under `/drafts`, a separate API
that needs the reviewer role on every route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, cast

import tipg.factory
from cql2 import Expr
from fastapi import Depends, FastAPI, Path, Query, Request
from morecantile import Tile
from morecantile import tms as matrix_sets
from tipg.collections import Collection, CollectionList
from tipg.database import close_db_connection, connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from tipg.factory import Endpoints
from tipg.settings import PostgresSettings

from terrace.auth import Role
from terrace.db.models.catalog import DRAFT_SCHEMA, SERVED_SCHEMA
from terrace.errors import NotFound
from terrace.serving import filters, lifetimes, parameters
from terrace.serving.lifetimes import Lifetime
from terrace.serving.mounted import MountRoot, escaped_templates
from terrace.serving.subapp import serving_app
from terrace.serving.tables import TableCatalog
from terrace.serving.tile_cache import TileCache
from terrace.serving.visibility import Audience, Gate

AudienceOf = Callable[[Request], Awaitable[Audience]]
WEB_MERCATOR = matrix_sets.get("WebMercatorQuad")


def create_features_app(gate: Gate, tiles: TileCache, drafts: bool = True) -> FastAPI:
    """The API to mount (its links carry the mount point), with the reviewers' `/drafts` unless
    `drafts` is off, served versions' tiles kept in `tiles`; its pools are opened by `connect`."""
    app = _api("Terrace OGC API – Features", "Served vector releases as features and vector tiles.")
    app.state.tables = TableCatalog(SERVED_SCHEMA, tiles)
    _add_endpoints(app, app.state.tables, gate.audience, "Terrace OGC API – Features")
    app.state.drafts = _drafts_app(gate) if drafts else None
    if app.state.drafts is not None:
        app.mount("/drafts", app.state.drafts)
    return app


def _drafts_app(gate: Gate) -> FastAPI:

    async def reviewer(request: Request) -> None:
        await gate.require(request, Role.reviewer)
        lifetimes.mark(request, Lifetime.DRAFT)

    drafts = _api(
        "Terrace draft preview – Features",
        "Vector drafts awaiting review; every route needs the reviewer role.",
        dependencies=[Depends(reviewer)],
    )
    # Reviewers preview the drafts whose access level they may see, by the serving rule.
    _add_endpoints(drafts, TableCatalog(DRAFT_SCHEMA), gate.audience, "Terrace draft preview")
    return drafts


async def connect(app: FastAPI, serving_url: str, preview_url: str | None, max_size: int) -> None:
    """Open the asyncpg pools tipg queries with (its connections carry tipg's helper functions):
    served tables as the serving role, drafts (if the app has them) as the preview role."""
    pools = [(app, serving_url, SERVED_SCHEMA)]
    if app.state.drafts is not None:
        if preview_url is None:
            raise ValueError("the draft previews need the preview role's URL")
        pools.append((app.state.drafts, preview_url, DRAFT_SCHEMA))
    for target, url, schema in pools:
        settings = PostgresSettings.model_validate(
            {"database_url": url, "db_min_conn_size": 1, "db_max_conn_size": max_size}
        )
        await connect_to_db(target, schemas=[schema], settings=settings)


async def vector_tile(app: FastAPI, name: str, audience: Audience, tile: Tile) -> bytes | None:
    """The Web Mercator vector tile of served table `name`, as `/features` serves it, for a caller
    the host has identified otherwise (the interface's signed-in user); None when that audience
    may not see the table or the tile is outside the matrix set."""
    if not WEB_MERCATOR.is_valid(tile):
        return None
    async with app.state.pool.acquire() as conn:
        found = await app.state.tables.get(conn, name, audience)
        if found is None:
            return None
        mvt: bytes = await found[0].get_tile(conn, tms=WEB_MERCATOR, tile=tile)
        return mvt


async def close(app: FastAPI) -> None:
    if app.state.drafts is not None:
        await close_db_connection(app.state.drafts)
    await close_db_connection(app)


def _api(title: str, description: str, dependencies: list | None = None) -> FastAPI:
    return serving_app(title, description, add_exception_handlers, DEFAULT_STATUS_CODES, dependencies)


def _add_endpoints(app: FastAPI, catalog: TableCatalog, audience_of: AudienceOf, title: str) -> None:
    collection = _collection_dependency(catalog, audience_of)
    # Every route taking `filter` (items, tiles) reads it through tipg's `filter_query`.
    readers = {
        "filter_query": _filter_dependency(collection),
        "properties_query": _properties_dependency(collection),
        "bbox_query": _bbox,
        "datetime_query": _datetime,
    }
    with _defined_with(readers):
        endpoints = Endpoints(
            title=title,
            templates=escaped_templates("tipg"),
            # tipg types its dependencies as plain functions; FastAPI awaits coroutine ones alike.
            collection_dependency=cast(Any, collection),
            collections_dependency=cast(Any, _collections_dependency(catalog, audience_of)),
        )
    app.include_router(endpoints.router)
    app.add_middleware(MountRoot)


@contextmanager
def _defined_with(readers: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """tipg's routes defined with Terrace's parameter readers in place of its own.

    `Endpoints` takes only the collection dependencies; its routes take the others from names in
    `tipg.factory` as they are defined. FastAPI's `dependency_overrides` would swap them too, but
    an app with overrides has every dependency of every request analysed anew, which took ~40% of
    a vector tile's time; so they are swapped once, while the routes are defined.
    """
    theirs = {name: getattr(tipg.factory, name) for name in readers}
    for name, reader in readers.items():
        setattr(tipg.factory, name, reader)
    try:
        yield
    finally:
        for name, reader in theirs.items():
            setattr(tipg.factory, name, reader)


def _collection_dependency(catalog: TableCatalog, audience_of: AudienceOf) -> Callable[..., Awaitable]:
    async def collection(
        request: Request,
        collectionId: Annotated[str, Path(description="Collection identifier: a served table name.")],
    ) -> Collection:
        audience = await audience_of(request)
        async with request.app.state.pool.acquire() as conn:
            found = await catalog.get(conn, collectionId, audience)
        if found is None:
            # The same answer whether the table is missing or hidden: existence is not disclosed.
            raise NotFound(
                f"No collection {collectionId!r}.",
                "List the collections you may see at ./collections; some need an API key.",
            )
        collection, lifetime = found
        parameters.require_storable_ids(collection, request)
        lifetimes.mark(request, lifetime)
        return collection

    return collection


def _filter_dependency(collection_dependency: Callable[..., Any]) -> Callable[..., Awaitable]:
    # A default rather than `Annotated`: annotations are strings, resolved in module globals only.
    async def cql_filter(
        collection: Collection = Depends(collection_dependency),  # noqa: B008
        text: Annotated[str | None, Query(alias="filter", description="CQL2 filter.")] = None,
        lang: Annotated[
            filters.FilterLang | None,
            Query(alias="filter-lang", description="cql2-text (the default) or cql2-json."),
        ] = None,
    ) -> Expr | None:
        """The caller's filter, bounded and whitelisted, on the collection's own columns only."""
        if text is None:
            return None
        tree = filters.parse(text, lang)
        filters.require_allowed(tree, {column.name for column in collection.properties}.__contains__)
        return Expr(filters.bbox_as_polygon(tree))

    return cql_filter


def _properties_dependency(collection_dependency: Callable[..., Any]) -> Callable[..., Awaitable]:
    async def properties(
        collection: Collection = Depends(collection_dependency),  # noqa: B008
        text: Annotated[str | None, Query(alias="properties", description="Properties to return.")] = None,
    ) -> list[str] | None:
        """The properties to return: the collection's own columns only (tipg would drop others)."""
        if text is None:
            return None
        names = [name.strip() for name in text.split(",") if name.strip()]
        parameters.require_known("properties", names, (column.name for column in collection.properties))
        return names

    return properties


async def _bbox(
    bbox: Annotated[str | None, Query(description="Spatial filter: minx,miny,maxx,maxy.")] = None,
) -> Any:
    return parameters.bbox(bbox)


async def _datetime(
    datetime: Annotated[str | None, Query(description="Temporal filter: an instant or start/end.")] = None,
) -> Any:
    return parameters.datetime_interval(datetime)


def _collections_dependency(catalog: TableCatalog, audience_of: AudienceOf) -> Callable[..., Awaitable]:
    async def collections(
        request: Request,
        bbox_filter: Annotated[list[float] | None, Depends(_bbox)],
        limit: Annotated[int | None, Query(ge=0, le=1000, description="Collections per page.")] = None,
        offset: Annotated[int | None, Query(ge=0, description="Starts the page at this offset.")] = None,
    ) -> CollectionList:
        audience = await audience_of(request)
        start = offset or 0
        async with request.app.state.pool.acquire() as conn:
            rows = await catalog.listing(conn, audience, bbox_filter)
            page = rows[start : start + limit] if limit else rows[start:]
            described = await catalog.describe(conn, page)
        end = start + len(page)
        return CollectionList(
            collections=described,
            matched=len(rows),
            next=end if end < len(rows) else None,
            prev=max(start - (limit or 0), 0) if start else None,
        )

    return collections
