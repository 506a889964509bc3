"""Rate limits per caller and route group, counted in the database that all API processes share.

The caller is its credential (the bearer token, hashed) or, when anonymous, its address (the
proxy's X-Forwarded-For only when TERRACE_TRUSTED_PROXIES names the proxy, as uvicorn applies
it). `GROUPS` maps route templates to the groups that `TERRACE_RATE_LIMITS` sets limits for.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import anyio
import psycopg
from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from terrace.errors import RateLimited, SetupError
from terrace.observability.metrics import RATE_LIMITED

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RouteGroup:
    """Requests of `methods` to paths matching `template` ({name} is one segment, {name:path} any)."""

    group: str
    methods: frozenset[str]
    template: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{\w+:path\}", ".+", self.template)
        object.__setattr__(self, "pattern", re.compile(re.sub(r"\{\w+\}", "[^/]+", regex)))

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and self.pattern.fullmatch(path) is not None


# The first match names a request's group; requests matching none are not limited.
GROUPS = (
    RouteGroup("uploads", frozenset({"PUT"}), "/api/storage/{container}/{path:path}"),
    RouteGroup("uploads", frozenset({"POST"}), "/interface/submit/check"),
    RouteGroup("searches", frozenset({"GET", "POST"}), "/stac/search"),
    RouteGroup("searches", frozenset({"GET"}), "/stac/collections/{collection_id}/items"),
    RouteGroup("searches", frozenset({"GET"}), "/features/collections/{collection_id}/items"),
    RouteGroup("tiles", frozenset({"GET"}), "/tiles/{path:path}"),
    RouteGroup("tiles", frozenset({"GET"}), "/features/collections/{collection_id}/tiles/{path:path}"),
    RouteGroup("writes", WRITES, "/api/{path:path}"),
    RouteGroup("writes", WRITES, "/interface/{path:path}"),
)
NAMES = frozenset(g.group for g in GROUPS)


def group_of(method: str, path: str) -> str | None:
    return next((g.group for g in GROUPS if g.matches(method, path)), None)


def parse_limits(configured: Mapping[str, str]) -> dict[str, RateLimitItem]:
    """The limit of each group from e.g. {"writes": "60/minute"}; an unknown group or limit is an error."""
    unknown = set(configured) - NAMES
    try:
        if unknown:
            raise ValueError(f"unknown group(s) {sorted(unknown)}; the groups are {sorted(NAMES)}")
        return {group: parse(text) for group, text in configured.items()}
    except ValueError as exc:
        raise SetupError(
            f"TERRACE_RATE_LIMITS is not valid: {exc}.",
            'Set it to JSON naming groups and limits, e.g. {"writes": "60/minute", "tiles": "100/second"}.',
        ) from None


def caller_of(scope: Scope) -> str:
    """The credential (hashed: the counters table holds no secret) or the client's address."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "credential:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


class RateLimits:
    """Answers 429 with Retry-After once a caller is over its group's limit in the current window."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, RateLimitItem], storage: Storage) -> None:
        self.app = app
        self.limits = dict(limits)
        self.limiter = FixedWindowRateLimiter(storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = group_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if group in self.limits:
            retry_after = await anyio.to_thread.run_sync(
                self._hit, self.limits[group], group, caller_of(scope)
            )
            if retry_after is not None:
                RATE_LIMITED.labels(group).inc()
                await _refusal(group, self.limits[group], retry_after)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _hit(self, item: RateLimitItem, group: str, caller: str) -> int | None:
        """None when the request is within the limit, else the seconds until the window ends."""
        try:
            if self.limiter.hit(item, group, caller):
                return None
            reset = self.limiter.get_window_stats(item, group, caller).reset_time
        except psycopg.Error as exc:  # the database is what serves the request too: let it say so
            log.warning("rate limit not checked, the counters are unavailable: %s", exc)
            return None
        return max(1, math.ceil(reset - time.time()))


def _refusal(group: str, item: RateLimitItem, retry_after: int) -> JSONResponse:
    error = RateLimited(
        f"Too many {group} requests: the limit is {item}.",
        f"Wait {retry_after} s before sending more (Retry-After); an operator can change "
        "TERRACE_RATE_LIMITS.",
    )
    return JSONResponse(error.to_dict(), status_code=429, headers={"Retry-After": str(retry_after)})
