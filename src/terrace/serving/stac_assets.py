"""STAC assets over HTTP: an asset whose href is not a web URL (a `file://` or bucket path of
Terrace's storage) is shown with the URL of the platform's own asset route, which streams the
object after the same visibility check as its item or collection. pgSTAC keeps the internal
href, which the tiles API reads the COG by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlparse

import obstore
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from stac_fastapi.pgstac.core import CoreCrudClient

from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.storage import Storage

WEB_SCHEMES = ("http", "https")


def serve_item_assets(item: Mapping[str, Any], base_url: str) -> None:
    """Point the item's stored assets at `…/collections/{c}/items/{i}/assets/{key}`, in place."""
    if item.get("collection") and item.get("id"):
        _serve(item, f"{base_url}collections/{_q(item['collection'])}/items/{_q(item['id'])}/assets/")
    else:  # its ids were left out (fields extension): no route to point at, so no href at all
        _serve(item, None)


def serve_collection_assets(collection: Mapping[str, Any], base_url: str) -> None:
    """Point the collection's stored assets at `…/collections/{c}/assets/{key}`, in place."""
    _serve(collection, f"{base_url}collections/{_q(collection['id'])}/assets/")


def add_asset_routes(app: FastAPI, client: CoreCrudClient, storage: Storage) -> None:
    """The asset routes of the STAC API, reading through `client` (and so its visibility)."""

    @app.get("/collections/{collection_id}/items/{item_id}/assets/{key}", tags=["Assets"])
    async def item_asset(collection_id: str, item_id: str, key: str, request: Request) -> Response:
        """The object of one asset of an item."""
        item = await client.get_item(item_id, collection_id, request)
        href = await _stored_href(request, "item_asset_href", collection_id, item_id, key)
        return _object(storage, href, _media_type(item, key))

    @app.get("/collections/{collection_id}/assets/{key}", tags=["Assets"])
    async def collection_asset(collection_id: str, key: str, request: Request) -> Response:
        """The object of one asset of a collection (the mosaic of a raster collection)."""
        collection = await client.get_collection(collection_id, request)
        href = await _stored_href(request, "collection_asset_href", collection_id, key)
        return _object(storage, href, _media_type(collection, key))


def _serve(owner: Mapping[str, Any], route: str | None) -> None:
    for key, asset in (owner.get("assets") or {}).items():
        if urlparse(str(asset.get("href", ""))).scheme not in WEB_SCHEMES:
            if route is None:
                asset.pop("href", None)
            else:
                asset["href"] = route + _q(key)


def _q(part: str) -> str:
    return quote(part, safe="")


def _media_type(owner: Any, key: str) -> str | None:
    asset = (owner.get("assets") or {}).get(key)
    if asset is None:
        raise NotFound(f"No asset {key!r} here.", "The assets are listed in the item or collection.")
    return asset.get("type")


async def _stored_href(request: Request, query: str, *args: str) -> str | None:
    async with request.app.state.get_connection(request, "r") as conn:
        return await conn.fetchval(queries("stac_assets")[query], *args)


def _object(storage: Storage, href: str | None, media_type: str | None) -> Response:
    """The stored object an internal href names, streamed; ranges are served for local files."""
    root = storage.root_url + "/"
    container, _, path = (href or "").removeprefix(root).partition("/")
    if not href or not href.startswith(root) or container not in storage.containers:
        raise NotFound("This asset is not held by Terrace's storage.", "Read it where its href points.")
    local = storage.local_path(container, path)
    if local is None:
        stream = obstore.get(storage.store(container), path).stream()
        return StreamingResponse((bytes(chunk) for chunk in stream), media_type=media_type)
    if not local.is_file():
        raise NotFound(
            "The asset's file is missing from storage.", "A consistency check lists what is missing."
        )
    return FileResponse(local, media_type=media_type)
