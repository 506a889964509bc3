"""A release's STAC items and collection as the public zone serves them: open to anyone, their
assets read from the public container, each item marked with the release it came from."""

from __future__ import annotations

import copy
from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog.releases import Release
from terrace.catalog.stac_items import PUBLISHED
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.public.target import PublicTarget
from terrace.stac.pgstac import ACCESS_PROPERTY, GRANTS_PROPERTY, pgstac_search_path
from terrace.storage import Storage

RELEASE_PROPERTY = "terrace:release_id"
# The container whose objects a served release's assets name; they are copied to `public`.
OUTPUT_CONTAINER = "silver"


def read_published(
    source: Connection, release: Release
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The release's collection and items as the main pgSTAC holds them; None without any."""
    published = (release.outputs or {}).get(PUBLISHED)
    if not published:
        return None
    q = queries("public")
    collection_id = published["collection_id"]
    with pgstac_search_path(source):
        collection = fetch_one(source, q["collection_content"], {"collection_id": collection_id})["content"]
        items = [
            fetch_one(source, q["item_content"], {"item_id": item, "collection_id": collection_id})["content"]
            for item in published["item_ids"]
        ]
    return collection, [item for item in items if item is not None]


def for_public(
    stac: dict[str, Any], storage: Storage, target: PublicTarget, blobs: set[str]
) -> dict[str, Any]:
    """A copy of an item or collection for the target; the paths its assets read are added to `blobs`."""
    public = copy.deepcopy(stac)
    fields = public["properties"] if public.get("type") == "Feature" else public
    fields |= {ACCESS_PROPERTY: "public", GRANTS_PROPERTY: []}
    prefix = f"{storage.root_url}/{OUTPUT_CONTAINER}/"
    for asset in (public.get("assets") or {}).values():
        href = str(asset.get("href", ""))
        if href.startswith(prefix):
            path = href.removeprefix(prefix)
            asset["href"] = target.href(path)
            blobs.add(path)
    return public


def load(
    target: Connection, collection: dict[str, Any], items: list[dict[str, Any]], release_id: str
) -> list[str]:
    """Upsert the collection and the items, marked with their release, into the target's pgSTAC."""
    q, stac = queries("public"), queries("stac")
    for item in items:
        item["properties"][RELEASE_PROPERTY] = release_id
    with pgstac_search_path(target):
        conn_params = {"collection_id": collection["id"]}
        if fetch_one(target, stac["collection_exists"], conn_params)["exists"]:
            target.execute(q["upsert_collection"], {"content": Jsonb(collection)})
        else:
            target.execute(stac["create_collection"], {"content": Jsonb(collection)})
        target.execute(stac["upsert_items"], {"items": Jsonb(items)})
        target.execute(stac["refresh_extent"], conn_params)
    return [f"{collection['id']}/{item['id']}" for item in items]


def remove(target: Connection, public: PublicTarget, release_id: str) -> tuple[list[str], list[str]]:
    """Delete the release's items from the target (a collection left empty goes too); returns the
    items and the paths of the public container their assets named."""
    q, stac = queries("public"), queries("stac")
    prefix = public.href("")
    with pgstac_search_path(target):
        found = target.execute(q["release_items"], {"release_id": release_id}).fetchall()
        blobs = {
            str(asset.get("href")).removeprefix(prefix)
            for row in found
            for asset in (row["content"].get("assets") or {}).values()
            if str(asset.get("href", "")).startswith(prefix)
        }
        for collection_id in sorted({row["collection_id"] for row in found}):
            params = {
                "collection_id": collection_id,
                "item_ids": [row["item_id"] for row in found if row["collection_id"] == collection_id],
            }
            target.execute(stac["delete_items"], params)
            if fetch_one(target, stac["collection_has_items"], params)["exists"]:
                target.execute(stac["refresh_extent"], params)
            else:
                target.execute(stac["delete_collection"], params)
    return [f"{row['collection_id']}/{row['item_id']}" for row in found], sorted(blobs)
