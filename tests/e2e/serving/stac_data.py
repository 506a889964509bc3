"""STAC collections and items put straight into pgSTAC, carrying Terrace's access-level fields."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from terrace.serving.visibility import ACCESS_PROPERTY

BBOX = [106.7, -6.3, 106.9, -6.1]


def collection(collection_id: str, access_level: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "description": f"Test collection {collection_id}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [BBOX]},
            "temporal": {"interval": [["2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z"]]},
        },
        "links": [],
        ACCESS_PROPERTY: access_level,
    }


def item(
    collection_id: str, n: int, access_level: str, href: str = "https://example.com/x.tif"
) -> dict[str, Any]:
    """Item `n` of a collection: a small square, one a day, west to east across the bbox."""
    west, south = 106.7 + 0.01 * n, -6.2
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"{collection_id}-{n}",
        "collection": collection_id,
        "bbox": [west, south, west + 0.01, south + 0.01],
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [west, south],
                    [west + 0.01, south],
                    [west + 0.01, south + 0.01],
                    [west, south + 0.01],
                    [west, south],
                ]
            ],
        },
        "properties": {"datetime": f"2024-01-{n + 1:02d}T00:00:00Z", ACCESS_PROPERTY: access_level},
        "assets": {
            "data": {"href": href, "type": "image/tiff; application=geotiff; profile=cloud-optimized"}
        },
        "links": [],
    }


def load(database_url: str, collections: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
    with psycopg.connect(database_url) as conn:
        for body in collections:
            conn.execute("SELECT pgstac.create_collection(%s)", [Jsonb(body)])
        for body in items:
            conn.execute("SELECT pgstac.create_item(%s)", [Jsonb(body)])


def delete_item(database_url: str, collection_id: str, item_id: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("SET search_path TO pgstac, public")
        conn.execute("SELECT pgstac.delete_item(%s, %s)", [item_id, collection_id])
