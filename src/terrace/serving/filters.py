"""CQL2 filters as a whitelist: bounded before any parser sees them, then checked node by node.

cql2's parser recurses once per parenthesis and its SQL renderer once per nested operation; past
a few thousand levels either overflows the stack and the process dies (a segfault, not an
exception). So a filter is measured first on its raw text (size, and nesting counted without
recursion), parsed only then, and its cql2-json tree measured again (a chain like `1-1-1-…`
nests deeply without a single parenthesis). What reaches SQL is that tree after the whitelist:
only the operators and functions of the CQL2 standard, and only properties the caller may name;
anything else would be rendered as a call of an arbitrary SQL function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal

import cql2
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from terrace.errors import InvalidInput

FilterLang = Literal["cql2-text", "cql2-json"]

MAX_BYTES = 4096
# Levels of parentheses in cql2-text; cql2-json spends two containers per level (an operation's
# object and its argument array), so its trees may nest twice as many objects and arrays.
MAX_DEPTH = 32
MAX_JSON_DEPTH = 2 * MAX_DEPTH

# The operators and functions of CQL2 (OGC 21-065r2), lower-cased. ACCENTI is left out: neither
# tipg nor pgSTAC can run it without the unaccent extension, so it is refused rather than a 500.
OPERATORS = frozenset(
    op.lower()
    for op in (
        *("and", "or", "not", "=", "<>", "<", ">", "<=", ">=", "like", "between", "in", "isNull"),
        *("casei", "+", "-", "*", "/", "%", "^", "div"),
        *("s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps"),
        *("s_crosses", "s_contains"),
        *("t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedBy"),
        *("t_finishes", "t_intersects", "t_meets", "t_metBy", "t_overlappedBy", "t_overlaps"),
        *("t_startedBy", "t_starts"),
        *("a_equals", "a_contains", "a_containedBy", "a_overlaps"),
    )
)

# STAC names item fields and properties this way (`datetime`, `eo:cloud_cover`, `proj:epsg`,
# `properties.platform`); pgSTAC reads any other property out of the item's JSON.
_STAC_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_:.\-]{0,127}")

# Strings and quoted identifiers are skipped whole, so brackets inside them do not count; an
# unterminated one is not skipped, which can only over-count. In cql2-text a run of prefix
# operators (`- - -1`, `NOT NOT a`) nests as deeply as parentheses do, so a run counts as that
# many levels on top of the parentheses around it.
_TEXT_TOKENS = re.compile(r"""'[^']*'|"[^"]*"|[()]|(?:(?:-|(?<![\w.:])not(?![\w.:]))\s*)+""", re.IGNORECASE)
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
_PREFIX_RUN = re.compile(r"-|not", re.IGNORECASE)

_REMEDIATION = (
    "Use only CQL2 comparisons, LIKE, BETWEEN, IN, IS NULL, AND/OR/NOT, arithmetic, CASEI "
    "and the S_, T_ and A_ functions, on the properties listed by the collection's queryables."
)


def parse(text: str, lang: FilterLang | None) -> Any:
    """The cql2-json tree of a filter sent as text, bounded before and after parsing.

    Text starting with `{` is cql2-json whatever `lang` says, as cql2 itself decides.
    """
    is_json = lang == "cql2-json" or text.startswith("{")
    if len(text.encode()) > MAX_BYTES:
        raise _too_long(len(text.encode()))
    if is_json:
        _check_nesting(text, _JSON_TOKENS, MAX_JSON_DEPTH, "levels of JSON objects and arrays")
    else:
        _check_nesting(text, _TEXT_TOKENS, MAX_DEPTH, "levels of parentheses and prefix operators")
    try:
        expr = cql2.parse_json(text) if is_json else cql2.parse_text(text)
    except Exception as exc:  # cql2 raises a bare Exception for every parse error
        raise InvalidInput(
            f"The filter is not valid {'cql2-json' if is_json else 'cql2-text'}: {exc}",
            "Correct the filter; set filter-lang to the encoding it is written in.",
        ) from exc
    tree = expr.to_json()
    _check_tree_depth(tree)
    return tree


def normalized(tree: Any) -> Any:
    """A cql2-json filter received as JSON, bounded, in cql2's canonical form.

    The canonical form is what gets checked and passed on: keys cql2 ignores (a pgSTAC `filter`
    key inside an operation, say) are dropped rather than left for another reader to act on.
    """
    _check_tree_depth(tree)
    size = len(json.dumps(tree, separators=(",", ":")).encode())
    if size > MAX_BYTES:
        raise _too_long(size)
    try:
        return cql2.Expr(tree).to_json()
    except Exception as exc:  # cql2 raises a bare Exception for every parse error
        raise InvalidInput(f"The filter is not valid cql2-json: {exc}", "Correct the filter.") from exc


def require_allowed(tree: Any, known_property: Callable[[str], bool]) -> None:
    """Raise unless every operation is a CQL2 one and every property is known."""
    functions: dict[str, None] = {}
    properties: dict[str, None] = {}
    for node in _objects(tree):
        op = node.get("op")
        if op is not None and str(op).lower() not in OPERATORS:
            functions[str(op)] = None
        name = node.get("property")
        if name is not None and not (isinstance(name, str) and known_property(name)):
            properties[str(name)] = None
    if functions:
        raise InvalidInput(
            f"Functions not allowed in a filter: {', '.join(functions)}.", _REMEDIATION, code="FILTER_REFUSED"
        )
    if properties:
        raise InvalidInput(
            f"Unknown properties in the filter: {', '.join(properties)}.", _REMEDIATION, code="FILTER_REFUSED"
        )


def bbox_as_polygon(node: Any) -> Any:
    """A (depth-checked) tree with its BBOX literals as GeoJSON polygons.

    cql2 renders a BBOX as an envelope with no SRID, which PostGIS refuses to compare with a
    column's, and pgSTAC does not read it at all; a polygon is CRS84 to both, as filters are.
    """
    if isinstance(node, list):
        return [bbox_as_polygon(child) for child in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if len(node) == 1 and isinstance(box, list) and len(box) in (4, 6):
        west, south, east, north = box[0], box[1], box[len(box) // 2], box[len(box) // 2 + 1]
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        return {"type": "Polygon", "coordinates": [ring]}
    return {key: bbox_as_polygon(child) for key, child in node.items()}


def stac_property(name: str) -> bool:
    """Whether a STAC filter may name `name`: an item field or property, spelled as STAC does."""
    return _STAC_PROPERTY.fullmatch(name) is not None


class BoundedJsonBodies:
    """Refuses request bodies nested deeper than a filter may be, before any JSON parser reads them.

    The body object holds the filter, so one level more than a filter's is allowed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            depth, unit = MAX_JSON_DEPTH + 1, "levels of JSON objects and arrays, the body's own included"
            _check_nesting(body.decode(errors="replace"), _JSON_TOKENS, depth, unit)
        except InvalidInput as exc:
            await JSONResponse(exc.to_dict(), status_code=400)(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


def _check_nesting(text: str, tokens: re.Pattern[str], limit: int, unit: str) -> None:
    depth = 0
    for match in tokens.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            # A stray closer never lowers the count below zero, so it cannot hide later openers.
            depth = max(depth - 1, 0)
        elif token[0] not in "'\"":
            if depth + len(_PREFIX_RUN.findall(token)) > limit:
                raise _too_deep(limit, unit)
        if depth > limit:
            raise _too_deep(limit, unit)


def _check_tree_depth(tree: Any) -> None:
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            if level > MAX_JSON_DEPTH:
                raise _too_deep(MAX_JSON_DEPTH, "levels of JSON objects and arrays in cql2-json")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)


def _objects(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a (depth-checked) tree, whatever key holds it, in reading order."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(node.values()))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _too_deep(limit: int, unit: str) -> InvalidInput:
    return InvalidInput(
        f"Filter too deep: it nests more than {limit} {unit}, the limit.",
        "Flatten the filter: combine conditions with AND/OR rather than nesting them.",
        code="FILTER_TOO_DEEP",
    )


def _too_long(size: int) -> InvalidInput:
    return InvalidInput(
        f"Filter too long: {size} bytes; at most {MAX_BYTES} are allowed.",
        "Shorten the filter: compare with a bbox rather than a detailed geometry, or split the query.",
        code="FILTER_TOO_LONG",
    )


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
