"""Publication in pgSTAC: a release's collection and items go in at approval and out at revoke."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import NotFound
from terrace.stac.items import item_id


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


def approved_item(item: dict[str, Any], version: str, approver: str, approved_at: datetime) -> dict[str, Any]:
    """The draft item as served: its id carries the version, its properties the approval."""
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
    must_exist: bool = False,
) -> dict[str, Any]:
    """Insert the approved items (and their collection if new) in the caller's transaction.

    Returns the record of what went in, for `withdraw` (revoke, unpublish) to take out again.
    """
    q = queries("stac")
    collection_id = collection["id"]
    created = False
    if not collection_exists(conn, collection_id):
        if must_exist:
            require_collection(conn, collection_id)
        conn.execute(q["create_collection"], {"content": Jsonb(collection)})
        created = True
    served = [approved_item(i, version, approver, approved_at) for i in items]
    for item in served:
        item["collection"] = collection_id
    conn.execute(q["upsert_items"], {"items": Jsonb(served)})
    conn.execute(q["refresh_extent"], {"collection_id": collection_id})
    return {
        "collection_id": collection_id,
        "item_ids": [i["id"] for i in served],
        "created_collection": created,
    }


def withdraw(conn: Connection, published: dict[str, Any], drop_empty_collection: bool = True) -> None:
    """Delete the published items; the collection too once nothing is left in it."""
    q = queries("stac")
    params = {"collection_id": published["collection_id"], "item_ids": published["item_ids"]}
    conn.execute(q["delete_items"], params)
    if drop_empty_collection:
        conn.execute(q["delete_collection_if_empty"], params)
    else:
        conn.execute(q["refresh_extent"], params)
