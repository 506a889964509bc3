"""Analytics (SPEC §13): H3 grids and a form to create one, a form to run zonal statistics, and a
map of a served aggregate as hexagons coloured by one of its statistics.

The map's vector tiles come through the interface, for the signed-in user: the browser holds no
API key, so `/features` would show it only public tables. They are `/features`' own tiles, by the
same visibility rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from morecantile import Tile
from psycopg import sql
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from terrace.analytics import grids
from terrace.analytics.grids import GridRequest
from terrace.analytics.zonal.params import ZonalRequest
from terrace.analytics.zonal.stats import SCALAR
from terrace.analytics.zonal.submit import submit_zonal
from terrace.auth import Principal, Role
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.dependencies import Defaults, Machine, Pool
from terrace.errors import InvalidInput, NotFound, TerraceError
from terrace.orchestration.machine import CoreMachine
from terrace.platform.visibility import Viewer
from terrace.serving.features import vector_tile
from terrace.serving.visibility import Audience
from terrace.web import previews
from terrace.web.forms import invalid_input
from terrace.web.session import User, needs
from terrace.web.templating import render

router = APIRouter(prefix="/analytics")
Submitter = Annotated[Principal, Depends(needs(Role.submitter))]
NUMERIC = {"smallint", "integer", "bigint", "real", "double precision", "numeric"}
# Columns of an aggregate that are keys, not statistics.
KEYS = {"objectid", "cell_id", "parent_id", "zone_id"}
CLASS_SHARES = (0.2, 0.4, 0.6, 0.8)
MVT = "application/vnd.mapbox-vector-tile"


@router.get("")
def page(request: Request, pool: Pool, user: User) -> Response:
    return render(request, "analytics.html", user=user, **_listing(pool, user), form={}, stats=SCALAR)


@router.post("/grids")
async def create_grid(request: Request, pool: Pool, machine: Machine, user: Submitter) -> Response:
    """Create a grid from the form: its job is linked, the list shows its status."""
    return await _act(request, pool, user, "grid", lambda form: _grid(request, pool, machine, user, form))


@router.post("/zonal")
async def zonal(
    request: Request, pool: Pool, machine: Machine, defaults: Defaults, user: Submitter
) -> Response:
    """Run zonal statistics from the form: the receipt links the job and the draft's review page."""

    def run(form: dict[str, Any]) -> dict[str, Any]:
        receipt = submit_zonal(pool, machine, _zonal_request(form), user, defaults.zonal_chunk_size)
        return receipt.model_dump()

    return await _act(request, pool, user, "zonal", run)


@router.get("/aggregates/{release_id}")
def aggregate_map(request: Request, release_id: str, pool: Pool, user: User, statistic: str = "") -> Response:
    """The aggregate's hexagons coloured by `statistic` (default: its first numeric column)."""
    viewer = Viewer.of(user)
    with pool.connection() as conn:
        row = conn.execute(
            queries("web_analytics")["served_aggregates"], {"release_id": release_id, **viewer.params}
        ).fetchone()
        table = previews.primary_table(conn, release_id) if row is not None else None
        if row is None or table is None or table["schema_name"] != SERVED_SCHEMA:
            raise NotFound(f"No served aggregate {release_id}.", "Choose one on the Analytics page.")
        name = table["table_name"]
        numeric = [
            c["name"]
            for c in previews.columns(conn, SERVED_SCHEMA, name)
            if c["type"] in NUMERIC and c["name"] not in KEYS | previews.HIDDEN_COLUMNS
        ]
        if not numeric:
            raise NotFound(f"Aggregate {release_id} has no numeric statistics.", "Choose another aggregate.")
        chosen = statistic if statistic in numeric else numeric[0]
        context = {
            "aggregate": dict(row),
            "table": name,
            "numeric": numeric,
            "statistic": chosen,
            "breaks": _breaks(conn, name, chosen),
            "bounds": previews.extent(conn, SERVED_SCHEMA, name),
        }
    return render(request, "analytics_map.html", user=user, **context)


@router.get("/tiles/{table}/{z}/{x}/{y}")
async def tile(request: Request, table: str, z: int, x: int, y: int, user: User) -> Response:
    """A vector tile of a served table the user may see, as `/features` serves it; 404 otherwise."""
    features = request.app.state.features
    mvt = await vector_tile(features, table, Audience.of(user), Tile(x=x, y=y, z=z))
    if mvt is None:
        raise NotFound(
            f"No served table {table!r} with tile {z}/{x}/{y}.", "Open a map from the Analytics page."
        )
    return Response(mvt, media_type=MVT, headers={"Cache-Control": "private, no-cache"})


def _listing(pool: Pool, user: Principal) -> dict[str, Any]:
    viewer = Viewer.of(user)
    with pool.connection() as conn:
        aggregates = conn.execute(
            queries("web_analytics")["served_aggregates"], {"release_id": None, **viewer.params}
        ).fetchall()
        return {"grids": grids.list_grids(conn, viewer), "aggregates": [dict(a) for a in aggregates]}


async def _act(
    request: Request,
    pool: Pool,
    user: Principal,
    which: str,
    action: Callable[[dict[str, Any]], dict[str, Any]],
) -> Response:
    """Run a form's action; the page again, with its outcome or why it was refused."""
    sent = await request.form()
    form: dict[str, Any] = {key: str(value) for key, value in sent.items() if key != "csrf"}
    form["stats"] = [str(value) for value in sent.getlist("stats")]
    status, outcome, error = 200, None, cast(TerraceError | None, None)
    try:
        outcome = await run_in_threadpool(action, form)
    except ValidationError as exc:
        status, error = 400, invalid_input(exc)
    except TerraceError as exc:
        status, error = exc.http_status, exc
    listing = await run_in_threadpool(_listing, pool, user)
    context = {**listing, "form": form, "stats": SCALAR, "which": which}
    return render(request, "analytics.html", status, user=user, outcome=outcome, error=error, **context)


def _grid(
    request: Request, pool: Pool, machine: CoreMachine, user: Principal, form: dict[str, Any]
) -> dict[str, Any]:
    if form.get("bbox", "").strip():
        area: dict[str, Any] = {"bbox": _numbers(form["bbox"], "bbox", float)}
    else:
        area = {"dataset_id": form.get("area_dataset"), "resource_id": form.get("area_resource")}
    resolutions = _numbers(form.get("resolutions", ""), "resolutions", int)
    body = GridRequest.model_validate(
        {"name": form.get("name", ""), "resolutions": resolutions, "area": area}
    )
    with pool.connection() as conn, conn.transaction():
        created: dict[str, Any] = grids.create(conn, machine, body, user, request.app.state.h3_max_cells)
        return created


def _zonal_request(form: dict[str, Any]) -> ZonalRequest:
    zones: dict[str, Any]
    if form.get("zones_kind") == "release":
        zones = {"dataset_id": form.get("zones_dataset", ""), "resource_id": form.get("zones_resource", "")}
    else:
        zones = {"h3_grid": form.get("h3_grid", ""), "resolution": form.get("resolution", "")}
    return ZonalRequest.model_validate(
        {
            "raster": {
                "dataset_id": form.get("raster_dataset", ""),
                "resource_id": form.get("raster_resource", ""),
                "version_id": form.get("raster_version") or None,
            },
            "zones": zones,
            "stats": form["stats"],
            "output": {
                "dataset_id": form.get("output_dataset", ""),
                "resource_id": form.get("output_resource", ""),
            },
        }
    )


def _numbers(text: str, field: str, kind: type) -> list[Any]:
    try:
        return [kind(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise InvalidInput(
            f"The {field} {text!r} are not numbers.", "Give numbers separated by commas or spaces."
        ) from None


def _breaks(conn: Connection, table: str, column: str) -> list[float]:
    """Quintile limits of the column's values, distinct and rounded for the legend."""
    query = sql.SQL(
        "SELECT percentile_cont(%(shares)s::float8[]) WITHIN GROUP (ORDER BY {}) AS b FROM {}"
    ).format(sql.Identifier(column), sql.Identifier(SERVED_SCHEMA, table))
    limits = fetch_one(conn, query, {"shares": list(CLASS_SHARES)})["b"] or []
    return sorted({float(f"{v:.4g}") for v in limits if v is not None})
