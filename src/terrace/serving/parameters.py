"""Strict readers of query parameters the serving libraries take loosely: a malformed bbox,
datetime, property or identifier is a 400 naming it, never a database error or a silent no-op."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from tipg.collections import Collection

from terrace.errors import InvalidInput, NotFound
from terrace.serving.filters import read_body, replay, stac_property

# Terrace's collection and item ids: slugs, table names, STAC ids (with `.` and `:`).
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,254}")
_INTEGER_TYPES = frozenset({"int2", "int4", "int8", "smallint", "integer", "bigint"})


def bbox(text: str | None) -> list[float] | None:
    """`minx,miny,maxx,maxy` (or with min/max z): finite numbers, longitudes and latitudes in range."""
    if text is None:
        return None
    try:
        bounds = [float(part) for part in text.split(",")]
    except ValueError:
        bounds = []
    if len(bounds) not in (4, 6) or not all(math.isfinite(b) for b in bounds):
        raise _invalid("bbox", text, "four numbers minx,miny,maxx,maxy (or six, with heights)")
    half = len(bounds) // 2
    if any(abs(bounds[i]) > 180 for i in (0, half)) or any(abs(bounds[i]) > 90 for i in (1, half + 1)):
        raise _invalid("bbox", text, "longitudes within ±180 and latitudes within ±90")
    return bounds


def datetime_interval(text: str | None) -> list[str] | None:
    """An RFC 3339 instant, or an interval `start/end` whose open end is `..` (or empty)."""
    if text is None:
        return None
    parts = text.split("/")
    if len(parts) > 2 or all(part in ("", "..") for part in parts) or not all(map(_instant, parts)):
        raise _invalid("datetime", text, "an RFC 3339 date-time such as 2024-01-31T00:00:00Z, or start/end")
    return parts


def _instant(text: str) -> bool:
    if text in ("", ".."):
        return True
    try:
        dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def require_known(parameter: str, names: Iterable[str], known: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise InvalidInput(
            f"{parameter} names {', '.join(map(repr, unknown))}, which the collection does not have.",
            f"Name only the collection's properties in {parameter}; see its /queryables.",
        )


def require_storable_ids(collection: Collection, request: Request) -> None:
    """Feature ids (the path's item, `ids`) beyond the range of an integer id column name no
    feature: 404, as tipg answers any other id that cannot be one (the database would fail)."""
    id_column = collection.id_column
    if id_column is None or id_column.type not in _INTEGER_TYPES:
        return
    wanted = [request.path_params.get("itemId", ""), *request.query_params.get("ids", "").split(",")]
    for value in filter(None, (v.strip() for v in wanted)):
        if value.lstrip("-").isdigit() and not -(2**63) <= int(value) < 2**63:
            raise NotFound(
                f"No feature {value[:40]!r}.", "Feature ids of this collection are 64-bit integers."
            )


def check_stac_search(values: Mapping[str, Any]) -> None:
    """The parameters of a STAC search (GET query or POST body) that pgSTAC reads names and ids from."""
    for key in ("ids", "collections"):
        for value in _listed(values.get(key)):
            if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
                raise _invalid(key, value, "identifiers of letters, digits, '_', '-', '.' and ':'")
    for key, names in (
        ("sortby", _sort_fields(values.get("sortby"))),
        ("fields", _field_names(values.get("fields"))),
    ):
        for name in names:
            if not isinstance(name, str) or not stac_property(name):
                raise _invalid(key, name, "STAC property names such as datetime or eo:cloud_cover")
    box = values.get("bbox")
    if isinstance(box, str):
        bbox(box)
    elif box is not None and (
        not isinstance(box, list) or not all(isinstance(b, int | float) and math.isfinite(b) for b in box)
    ):
        raise _invalid("bbox", box, "four numbers minx,miny,maxx,maxy (or six, with heights)")


class CheckedSearches:
    """Applies `check_stac_search` to every query string of the STAC API and to search bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            for key, value in QueryParams(scope["query_string"].decode("latin-1")).multi_items():
                check_stac_search({key: value})
            if scope["method"] == "POST" and scope["path"].endswith("/search"):
                body = await read_body(receive)
                receive = replay(body, receive)
                searched = _json(body)
                if isinstance(searched, dict):
                    check_stac_search(searched)
        except InvalidInput as exc:
            await JSONResponse(exc.to_dict(), status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None  # the route answers a body that is not JSON


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]


def _sort_fields(value: Any) -> list[Any]:
    return [
        item.get("field") if isinstance(item, dict) else item.lstrip("+-") if isinstance(item, str) else item
        for item in _listed(value)
    ]


def _field_names(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*_listed(value.get("include")), *_listed(value.get("exclude"))]
    return [item.lstrip("+-") if isinstance(item, str) else item for item in _listed(value)]


def _invalid(parameter: str, value: Any, expected: str) -> InvalidInput:
    shown = str(value)
    shown = shown if len(shown) <= 80 else shown[:80] + "…"
    return InvalidInput(f"{parameter} {shown!r} is not valid.", f"Send {expected}.")
