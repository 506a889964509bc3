"""The catalog browser: every served collection the user may see, features and STAC alike, with a
map viewer per collection."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from terrace.auth import Principal
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.dependencies import Pool
from terrace.errors import NotFound
from terrace.serving.visibility import ACCESS_PROPERTY, GRANTS_PROPERTY, Audience
from terrace.web import previews
from terrace.web.session import User
from terrace.web.templating import render

router = APIRouter(prefix="/catalog")


@router.get("")
def browse(request: Request, pool: Pool, user: User, q: str = "") -> Response:
    audience = Audience.of(user)
    search = q.strip() or None
    with pool.connection() as conn:
        params = {"levels": list(audience.levels), "roles": list(audience.roles), "search": search}
        tables = [dict(r) for r in conn.execute(queries("web")["visible_served_tables"], params)]
        collections = [
            dict(r)
            for r in conn.execute(queries("web")["stac_collections"], {"search": search})
            if audience.sees(r["access_level"])
        ]
    return render(request, "catalog.html", user=user, tables=tables, collections=collections, q=q)


@router.get("/features/{table}")
def viewer(request: Request, table: str, pool: Pool, user: User) -> Response:
    with pool.connection() as conn:
        row = _visible(conn, table, user)
        bounds = previews.extent(conn, SERVED_SCHEMA, table)
    return render(request, "viewer.html", user=user, table=row, bounds=bounds)


@router.get("/features/{table}/features.geojson")
def features(table: str, pool: Pool, user: User) -> Response:
    with pool.connection() as conn:
        _visible(conn, table, user)
        return JSONResponse(previews.features(conn, SERVED_SCHEMA, table))


@router.get("/stac/{collection_id}/{item_id}")
def raster_viewer(request: Request, collection_id: str, item_id: str, pool: Pool, user: User) -> Response:
    """A served raster item on a map, drawn from its /tiles URL with its default rendering."""
    with pool.connection() as conn:
        row = conn.execute(queries("web")["stac_item"], {"collection_id": collection_id, "item_id": item_id})
        item = (row.fetchone() or {}).get("item")
    properties = (item or {}).get("properties", {})
    if not item or not Audience.of(user).sees(
        properties.get(ACCESS_PROPERTY), properties.get(GRANTS_PROPERTY)
    ):
        raise NotFound(f"No served raster {collection_id}/{item_id}.", "Pick one from the catalog.")
    render_query = {"assets": "data", "tilesize": "256", **_rescale(item)}
    tiles = f"/tiles/collections/{collection_id}/items/{item_id}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
    return render(request, "viewer.html", user=user, item=item, tiles=f"{tiles}?{urlencode(render_query)}")


def _rescale(item: dict[str, Any]) -> dict[str, str]:
    """The item's default rendering as titiler query parameters (its rescale range per band)."""
    default = item["properties"].get("renders", {}).get("default", {})
    ranges = default.get("rescale") or []
    return {"rescale": ",".join(f"{low},{high}" for low, high in ranges[:1])} if ranges else {}


def _visible(conn: Connection, table: str, user: Principal) -> dict[str, Any]:
    audience = Audience.of(user)
    params = {"table": table, "levels": list(audience.levels), "roles": list(audience.roles)}
    row = conn.execute(queries("web")["visible_served_table"], params).fetchone()
    if row is None:
        raise NotFound(f"No served collection {table!r}.", "Pick one from the catalog.")
    return dict(row)
