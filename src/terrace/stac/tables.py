"""STAC items of served vector tables: extent, columns (table extension), OGC API – Features links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pystac
from pystac.extensions.table import Column, TableExtension
from shapely.geometry import box, mapping

from terrace.stac.items import item_id

FEATURES_MOUNT = "/features"
GEOJSON = "application/geo+json"
# The links from an item to where its features are served; `collection` and `items` are link
# relations the STAC API derives itself (and drops when stored), so these carry their own names.
FEATURES_COLLECTION_REL = "ogc-features-collection"
FEATURES_ITEMS_REL = "ogc-features-items"
TABLE_PROPERTY = "terrace:table"  # the served table an item describes


@dataclass(frozen=True)
class ServedTable:
    """What the item of one served table is made from: its catalog row and its columns."""

    dataset_id: str
    resource_id: str
    version: str
    part: str  # the split suffix without its underscore; "" for the primary table
    table_name: str
    title: str | None
    description: str | None
    bbox: list[float]
    feature_count: int
    geometry_type: str | None
    geometry_column: str | None
    columns: list[tuple[str, str]]  # (name, PostgreSQL type)
    created_at: datetime


def features_collection_href(table_name: str) -> str:
    """The table's OGC API – Features collection (served under its table name)."""
    return f"{FEATURES_MOUNT}/collections/{table_name}"


def build_table_item(table: ServedTable, collection_id: str) -> pystac.Item:
    """The item of one served table: its extent as geometry, its columns and row count, and links
    to its features; unpublished until approval sets `app:published`."""
    item = pystac.Item(
        id=item_id(table.dataset_id, table.resource_id, table.version, table.part),
        geometry=mapping(box(*table.bbox)),
        bbox=list(table.bbox),
        datetime=table.created_at,
        properties={
            "title": table.title,
            "description": table.description,
            "app:published": False,
            "terrace:dataset_id": table.dataset_id,
            "terrace:resource_id": table.resource_id,
            "terrace:part": table.part,
            "terrace:kind": "vector",
            TABLE_PROPERTY: table.table_name,
            "terrace:geometry_type": table.geometry_type,
        },
        collection=collection_id,
    )
    table_ext = TableExtension.ext(item, add_if_missing=True)
    table_ext.columns = [Column({"name": name, "type": type_}) for name, type_ in table.columns]
    table_ext.row_count = table.feature_count
    table_ext.primary_geometry = table.geometry_column
    collection = features_collection_href(table.table_name)
    item.add_link(
        pystac.Link(
            FEATURES_COLLECTION_REL, collection, pystac.MediaType.JSON, "OGC API – Features collection"
        )
    )
    item.add_link(pystac.Link(FEATURES_ITEMS_REL, f"{collection}/items", GEOJSON, "Features (GeoJSON)"))
    return item
