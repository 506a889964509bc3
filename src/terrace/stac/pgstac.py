"""Publication in pgSTAC: a release's collection and items go in at approval and out at revoke."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.stac.items import item_id

# The property the serving APIs read an item's (and a collection's) access level from.
ACCESS_PROPERTY = "terrace:access_level"
GRANTS_PROPERTY = "terrace:granted_roles"  # roles that see a restricted item or collection


@contextmanager
def pgstac_search_path(conn: Connection) -> Iterator[None]:
    """pgSTAC's functions resolve their own tables through the search path: set it for the
    duration of the block, within the caller's transaction, and put the caller's back after."""
    q = queries("stac")
    previous = fetch_one(conn, q["set_search_path"], {"path": "pgstac, public"})["previous"]
    yield
    conn.execute(q["reset_search_path"], {"path": previous})


def collection_exists(conn: Connection, collection_id: str) -> bool:
    return bool(
        fetch_one(conn, queries("stac")["collection_exists"], {"collection_id": collection_id})["exists"]
    )


def require_collection(conn: Connection, collection_id: str) -> None:
    """`collection_must_exist`: a missing collection is the submitter's mistake, said clearly."""
    if not collection_exists(conn, collection_id):
        raise NotFound(
            f"STAC collection {collection_id!r} does not exist.",
            "Create the collection first, name an existing one in collection_id, "
            "or submit without collection_must_exist.",
        )


def approved_item(
    item: dict[str, Any], version: str, approver: str, approved_at: datetime, access: dict[str, Any]
) -> dict[str, Any]:
    """The draft item as served: its id carries the version, its properties the approval and
    the access level the serving APIs filter on."""
    served = copy.deepcopy(item)
    props = served["properties"]
    served["id"] = item_id(
        props["terrace:dataset_id"], props["terrace:resource_id"], version, props["terrace:part"]
    )
    props |= {
        "app:published": True,
        "app:approved_by": approver,
        "app:approved_at": approved_at.isoformat(),
        "app:version_id": version,
        **access,
    }
    return served


def publish(
    conn: Connection,
    collection: dict[str, Any],
    items: list[dict[str, Any]],
    *,
    version: str,
    approver: str,
    approved_at: datetime,
    access_level: str,
    granted_roles: list[str],
    must_exist: bool = False,
) -> dict[str, Any]:
    """Insert the approved items (and their collection if new) in the caller's transaction.

    Returns the record of what went in, for `withdraw` (revoke, unpublish) to take out again.
    """
    q = queries("stac")
    collection_id = collection["id"]
    created = False
    access = {ACCESS_PROPERTY: access_level, GRANTS_PROPERTY: granted_roles}
    served = [approved_item(i, version, approver, approved_at, access) for i in items]
    for item in served:
        item["collection"] = collection_id
        # STAC requires a collection link wherever `collection` is set; the STAC API rewrites
        # links to absolute URLs when it serves the item.
        item["links"] = [
            *(link for link in item.get("links", []) if link.get("rel") != "collection"),
            {"rel": "collection", "href": f"/stac/collections/{collection_id}", "type": "application/json"},
        ]
    with pgstac_search_path(conn):
        if not collection_exists(conn, collection_id):
            if must_exist:
                require_collection(conn, collection_id)
            content = {**collection, **access}
            conn.execute(q["create_collection"], {"content": Jsonb(content)})
            created = True
        else:
            # A collection is as open as its most open item, or its public items stay hidden.
            params = {"collection_id": collection_id, "level": access_level, "roles": granted_roles}
            conn.execute(q["open_collection"], params)
        conn.execute(q["upsert_items"], {"items": Jsonb(served)})
        conn.execute(q["refresh_extent"], {"collection_id": collection_id})
    return {
        "collection_id": collection_id,
        "item_ids": [i["id"] for i in served],
        "created_collection": created,
    }


def withdraw(conn: Connection, published: dict[str, Any]) -> None:
    """Delete the published items; a collection the release created goes too once it is empty."""
    q = queries("stac")
    params = {"collection_id": published["collection_id"], "item_ids": published["item_ids"]}
    with pgstac_search_path(conn):
        conn.execute(q["delete_items"], params)
        # Checked apart from the delete: pgSTAC drops the collection's partition, which no
        # statement of this session may be reading at that moment.
        empty = not fetch_one(conn, q["collection_has_items"], params)["exists"]
        if published["created_collection"] and empty:
            conn.execute(q["delete_collection"], params)
        elif not empty:
            conn.execute(q["refresh_extent"], params)
