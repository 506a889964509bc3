"""How long a served response stays true: what the serving routes tell the HTTP cache layer.

A route marks its request with the `Lifetime` of what it answers; `terrace.api.http_cache` turns
the mark into `Cache-Control`. Unmarked responses are `CURRENT`, the safe default.

An approved version (a `{dataset}_{resource}_{version}` table or one of its split views, a STAC
item, the tiles and assets of an item) is `VERSION`: its bytes never change. Its rows are never
rewritten (a new submission is a new version; `overwrite` of an approved release is refused);
its access level and granted roles are fixed at submission and copied into the catalog row and
STAC properties, and nothing updates them (clearance decides only what the public zone holds);
a repaired STAC item is rebuilt from the same cached item and approval time. What can happen to
a version is that it goes away: revoke, unpublish and, in the public zone, withdrawal answer 404
from then on, while a copy already in a cache stays there until its max-age runs out.
"""

from __future__ import annotations

from enum import StrEnum

from starlette.requests import Request
from starlette.types import Scope

STATE_KEY = "terrace_lifetime"


class Lifetime(StrEnum):
    VERSION = "version"  # an approved version: never changes while served
    CURRENT = "current"  # follows approvals: `_latest`, lists, searches, collections, mosaics
    DRAFT = "draft"  # a reviewer's preview: a new revision replaces the draft


def mark(request: Request, lifetime: Lifetime) -> None:
    """Record what the request answers, for the cache headers of its response."""
    request.scope.setdefault("state", {})[STATE_KEY] = lifetime


def marked(scope: Scope) -> Lifetime:
    """The lifetime a route recorded for this request; `CURRENT` when it recorded none."""
    return Lifetime(scope.get("state", {}).get(STATE_KEY, Lifetime.CURRENT))
