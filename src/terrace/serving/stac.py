"""STAC API over pgSTAC: stac-fastapi-pgstac, with every read narrowed by the visibility rule.

Collections carry `terrace:access_level` (and `terrace:granted_roles` when restricted) as
top-level fields, items as properties. Item reads all pass through `_search_base`, which ANDs
the rule into the caller's CQL2 filter so pgSTAC itself never returns a hidden item; collection
reads check the collection's own fields. pgSTAC is queried live on every request.

Filters go through `terrace.serving.filters`: cql2-text of the GET routes is bounded and parsed
here before stac-fastapi's own parser sees it, POST bodies are bounded before any JSON parser
reads them, and every filter reaching `_search_base` is whitelisted, its properties held to
STAC's spelling of item fields and properties (`filters.stac_property`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import asyncpg
import attr
from brotli_asgi import BrotliMiddleware
from fastapi import FastAPI, Request
from stac_fastapi.api.app import StacApi
from stac_fastapi.api.middleware import ProxyHeaderMiddleware
from stac_fastapi.extensions import (
    FieldsExtension,
    ItemCollectionFilterExtension,
    SearchFilterExtension,
    TokenPaginationExtension,
)
from stac_fastapi.extensions.fields import FieldsConformanceClasses
from stac_fastapi.extensions.sort import ItemCollectionSortExtension, SearchSortExtension
from stac_fastapi.pgstac.app import instantiate_api
from stac_fastapi.pgstac.config import ServerSettings, Settings
from stac_fastapi.pgstac.core import CoreCrudClient
from stac_fastapi.pgstac.db import con_init, get_connection
from stac_fastapi.pgstac.extensions.filter import FiltersClient
from stac_fastapi.pgstac.models.extensions import Extensions
from stac_fastapi.pgstac.types.search import PgstacSearch
from stac_fastapi.types.errors import NotFoundError
from stac_fastapi.types.requests import get_base_url
from stac_fastapi.types.stac import Collection, Collections, Item, ItemCollection, LandingPage

from terrace import __version__
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.serving import filters, lifetimes, parameters
from terrace.serving.lifetimes import Lifetime
from terrace.serving.stac_assets import add_asset_routes, serve_collection_assets, serve_item_assets
from terrace.serving.visibility import ACCESS_PROPERTY, GRANTS_PROPERTY, Gate
from terrace.storage import Storage

EXTENSIONS = ["filter", "sort", "fields", "pagination"]


@attr.s
class VisibleCoreClient(CoreCrudClient):
    """stac-fastapi-pgstac's client, showing each caller only what the rule lets it see."""

    async def landing_page(self, **kwargs: Any) -> LandingPage:
        """The landing page, its OpenAPI links pointing into this API rather than the host app."""
        landing = await super().landing_page(**kwargs)
        base = get_base_url(kwargs["request"])
        own = {"service-desc": "openapi.json", "service-doc": "docs"}
        for link in landing["links"]:
            if link["rel"] in own:
                link["href"] = base + own[link["rel"]]
        return landing

    async def all_collections(self, request: Request, **kwargs: Any) -> Collections:  # type: ignore[override]
        collections = await super().all_collections(request, **kwargs)
        audience = await _gate(request).audience(request)
        shown = [c for c in collections["collections"] if audience.sees(*_access(c))]
        collections["collections"] = shown
        collections["numberMatched"] = collections["numberReturned"] = len(shown)
        return collections

    async def get_collection(self, collection_id: str, request: Request, **kwargs: Any) -> Collection:  # type: ignore[override]
        try:
            collection: Collection | None = await super().get_collection(collection_id, request, **kwargs)
        except NotFoundError:
            collection = None  # answered exactly as a hidden one is: existence is not disclosed
        await _require_visible(request, collection_id, collection)
        assert collection is not None
        return collection

    async def get_item(self, item_id: str, collection_id: str, request: Request, **kwargs: Any) -> Item:  # type: ignore[override]
        """An item is an approved version (or a part of one): it never changes while served."""
        item = await super().get_item(item_id, collection_id, request, **kwargs)
        lifetimes.mark(request, Lifetime.VERSION)
        return item

    async def get_search(self, request: Request, **kwargs: Any) -> ItemCollection:  # type: ignore[override]
        return await super().get_search(request, **_parsed_filter(kwargs))

    async def item_collection(  # type: ignore[override]
        self, collection_id: str, request: Request, **kwargs: Any
    ) -> ItemCollection:
        return await super().item_collection(collection_id, request, **_parsed_filter(kwargs))

    async def _search_base(self, search_request: PgstacSearch, request: Request) -> ItemCollection:  # type: ignore[override]
        audience = await _gate(request).audience(request)
        checked = None
        if search_request.filter_expr is not None:
            checked = filters.normalized(search_request.filter_expr)
            filters.require_allowed(checked, filters.stac_property)
            checked = filters.bbox_as_polygon(checked)
        narrowed = search_request.model_copy(
            update={"filter_expr": audience.restrict(checked), "filter_lang": "cql2-json"}
        )
        return await super()._search_base(narrowed, request)


@attr.s
class ServedAssetsClient(VisibleCoreClient):
    """The visible client, its responses pointing at this API's asset routes rather than at
    server paths (`serving.stac_assets`)."""

    async def all_collections(self, request: Request, **kwargs: Any) -> Collections:  # type: ignore[override]
        collections = await super().all_collections(request, **kwargs)
        for collection in collections["collections"]:
            serve_collection_assets(collection, get_base_url(request))
        return collections

    async def get_collection(self, collection_id: str, request: Request, **kwargs: Any) -> Collection:  # type: ignore[override]
        collection = await super().get_collection(collection_id, request, **kwargs)
        serve_collection_assets(collection, get_base_url(request))
        return collection

    async def _search_base(self, search_request: PgstacSearch, request: Request) -> ItemCollection:  # type: ignore[override]
        found = await super()._search_base(search_request, request)
        for item in found["features"]:
            serve_item_assets(item, get_base_url(request))
        return found


class VisibleFiltersClient(FiltersClient):
    """Queryables of a collection only for callers who may see that collection."""

    async def get_queryables(  # type: ignore[override]
        self, request: Request, collection_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        if collection_id is not None:
            async with request.app.state.get_connection(request, "r") as conn:
                collection = await conn.fetchval(queries("serving")["stac_collection"], collection_id)
            await _require_visible(request, collection_id, collection)
        return await super().get_queryables(request, collection_id, **kwargs)


def create_stac_app(gate: Gate, storage: Storage, mount: str) -> FastAPI:
    """The `/stac` API. Mounted apps get no lifespan of their own: Terrace's opens the pool."""
    settings = Settings(
        stac_fastapi_title="Terrace STAC API",
        stac_fastapi_description="Approved raster and vector releases as STAC collections and items.",
        stac_fastapi_version=__version__,
        stac_fastapi_landing_id="terrace",
        openapi_url="/openapi.json",
        docs_url="/docs",
        enabled_extensions=EXTENSIONS,
        enable_transactions_extensions=False,
    )
    api: StacApi = instantiate_api(
        client=ServedAssetsClient,
        extensions=_extensions(settings),
        settings=settings,
    )
    # Terrace's own middleware codes the answers (and gives each coding its ETag, which a coding
    # added here would not); forwarded headers count only from the proxies the server trusts
    # (uvicorn's `forwarded_allow_ips`), not from any client: links built from a client's
    # `X-Forwarded-Host` would let it poison what a shared cache keeps of an item for a year.
    api.app.user_middleware = [
        m for m in api.app.user_middleware if m.cls not in (BrotliMiddleware, ProxyHeaderMiddleware)
    ]
    api.app.add_middleware(parameters.CheckedSearches)
    api.app.add_middleware(filters.BoundedJsonBodies)
    api.app.state.gate = gate
    api.app.state.router_prefix = mount  # stac-fastapi builds every link from it
    add_asset_routes(api.app, api.client, storage)
    return api.app


async def connect(app: FastAPI, database_url: str, max_size: int) -> None:
    """Open the asyncpg pool stac-fastapi-pgstac reads through (search_path pgstac, public)."""
    app.state.readpool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=con_init,
        server_settings=ServerSettings().model_dump(),
    )
    app.state.get_connection = get_connection


async def close(app: FastAPI) -> None:
    await app.state.readpool.close()


def _extensions(settings: Settings) -> Extensions:
    filters = VisibleFiltersClient()
    return Extensions(
        search_map={
            "filter": SearchFilterExtension(client=filters),
            "sort": SearchSortExtension(),
            "fields": FieldsExtension(),
            "pagination": TokenPaginationExtension(),
        },
        item_collection_map={
            "filter": ItemCollectionFilterExtension(client=filters),
            "sort": ItemCollectionSortExtension(),
            "fields": FieldsExtension(conformance_classes=[FieldsConformanceClasses.ITEMS]),
            "pagination": TokenPaginationExtension(),
        },
        settings=settings,
    )


def _parsed_filter(kwargs: dict[str, Any]) -> dict[str, Any]:
    """GET arguments with a text filter replaced by its checked cql2-json, for stac-fastapi to read."""
    text = kwargs.get("filter_expr")
    if not text:
        return kwargs
    tree = filters.parse(text, kwargs.get("filter_lang"))
    filters.require_allowed(tree, filters.stac_property)
    return {**kwargs, "filter_expr": json.dumps(tree), "filter_lang": "cql2-json"}


def _gate(request: Request) -> Gate:
    return request.app.state.gate


def _access(collection: Mapping[str, Any]) -> tuple[Any, Any]:
    return collection.get(ACCESS_PROPERTY), collection.get(GRANTS_PROPERTY)


async def _require_visible(
    request: Request, collection_id: str, collection: Mapping[str, Any] | None
) -> None:
    audience = await _gate(request).audience(request)
    if collection is None or not audience.sees(*_access(collection)):
        raise NotFound(
            f"No STAC collection {collection_id!r}.",
            "List the collections you may see at /stac/collections; some need an API key.",
        )
