"""The catalog, map first: every served asset the user may see as a footprint on the map and an
entry in the list, searched by text, data type, dataset and the map's view; an asset's panel gives
its versions, access level and the exact API URLs and QGIS connection details. Map viewers show one
served table or raster item."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from terrace.auth import Principal
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.models.releases import DATA_TYPES
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.dependencies import Pool, StorageDep
from terrace.errors import InvalidInput, NotFound
from terrace.platform import resolve
from terrace.platform.visibility import Viewer
from terrace.serving.visibility import ACCESS_PROPERTY, GRANTS_PROPERTY, Audience
from terrace.web import previews
from terrace.web.session import User
from terrace.web.templating import render

router = APIRouter(prefix="/catalog")


class Search(BaseModel):
    """What the catalog is narrowed to; `bbox` is "west,south,east,north" in degrees (the map's view)."""

    q: str = ""
    data_type: str = ""
    dataset: str = ""
    bbox: str = ""

    def params(self, user: Principal, *, in_view: bool = True) -> dict[str, Any]:
        audience = Audience.of(user)
        box = _floats(self.bbox) if self.bbox and in_view else None
        return {
            "levels": list(audience.levels),
            "roles": list(audience.roles),
            "search": self.q.strip() or None,
            "data_type": self.data_type or None,
            "dataset": self.dataset or None,
            "bbox": [max(box[0], -180), max(box[1], -90), min(box[2], 180), min(box[3], 90)] if box else None,
        }


def _floats(value: str) -> list[float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise InvalidInput(f"bbox {value!r} is not four numbers.", "Give it as west,south,east,north.")
    return numbers


Narrowed = Annotated[Search, Query()]


@router.get("")
def browse(request: Request, pool: Pool, user: User, search: Narrowed) -> Response:
    with pool.connection() as conn:
        entries = _entries(conn, search.params(user))
        datasets = [
            r["dataset_id"] for r in conn.execute(queries("web")["catalog_datasets"], search.params(user))
        ]
    return render(
        request,
        "catalog.html",
        user=user,
        entries=entries,
        search=search,
        datasets=datasets,
        data_types=DATA_TYPES,
        footprints=f"/interface/catalog/footprints.geojson?{_query(search)}",
    )


@router.get("/results")
def results(request: Request, pool: Pool, user: User, search: Narrowed) -> Response:
    """The list part of the catalog, for the filters and the map's view as they change."""
    with pool.connection() as conn:
        entries = _entries(conn, search.params(user))
    footprints = f"/interface/catalog/footprints.geojson?{_query(search)}"
    return render(request, "partials/catalog_results.html", user=user, entries=entries, footprints=footprints)


@router.get("/footprints.geojson")
def footprints(pool: Pool, user: User, search: Narrowed) -> Response:
    """Every matching asset's extent as a polygon, whatever the map shows."""
    with pool.connection() as conn:
        entries = _entries(conn, search.params(user, in_view=False))
    features = [
        {
            "type": "Feature",
            "properties": {k: entry[k] for k in ("dataset_id", "resource_id", "data_type", "title")},
            "geometry": geometry,
        }
        for entry in entries
        if entry["bbox"]
        for geometry in _footprint(entry["bbox"])
    ]
    return JSONResponse({"type": "FeatureCollection", "features": features})


@router.get("/assets/{dataset_id}/{resource_id}")
def detail(request: Request, dataset_id: str, resource_id: str, pool: Pool, user: User) -> Response:
    """An asset's panel: its served versions, access level, and how to reach it from any client."""
    viewer = Viewer.of(user)
    with pool.connection() as conn:
        versions = [
            r
            for r in resolve.releases(conn, viewer, dataset_id, resource_id, "versions")
            if r["approval_state"] == "approved" and r["is_served"]
        ]
    if not versions:
        raise NotFound(f"{dataset_id}/{resource_id} has no served version.", "Pick one from the catalog.")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return render(
        request,
        "partials/catalog_detail.html",
        user=user,
        latest=versions[-1],
        versions=list(reversed(versions)),
        origin=origin,
    )


@router.get("/thumbnails/{release_id}.png")
def thumbnail(release_id: str, pool: Pool, storage: StorageDep, user: User) -> Response:
    """The first thumbnail of a served raster release the user may see."""
    with pool.connection() as conn:
        release = conn.execute(queries("web")["served_release"], {"release_id": release_id}).fetchone()
        cogs = conn.execute(queries("web")["cogs_of_release"], {"release_id": release_id}).fetchall()
    if (
        release is None
        or not Audience.of(user).sees(release["access_level"], release["granted_roles"])
        or not cogs
        or not cogs[0]["thumbnail_path"]
    ):
        raise NotFound(f"No thumbnail of a served release {release_id}.", "Pick a raster from the catalog.")
    return Response(storage.get(cogs[0]["container"], cogs[0]["thumbnail_path"]), media_type="image/png")


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


def _entries(conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(queries("web")["catalog_entries"], params)]


def _query(search: Search) -> str:
    return urlencode({k: v for k, v in search.model_dump().items() if v and k != "bbox"})


def _footprint(box: list[float]) -> list[dict[str, Any]]:
    """The box as a polygon, and its centre as a point, which shows where the box is too small to see."""
    west, south, east, north = box
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [
        {"type": "Polygon", "coordinates": [ring]},
        {"type": "Point", "coordinates": [(west + east) / 2, (south + north) / 2]},
    ]


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
