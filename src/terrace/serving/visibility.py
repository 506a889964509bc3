"""The one visibility rule of the serving APIs, and the gate that applies it to each request.

Only approved, served releases reach the served schema and pgSTAC; of those, a caller sees
`public` ones always, `ouo` ones with any valid API key, and `restricted` ones when it holds a
role granted to them (a role includes the roles below it; admin sees everything). The rule has
three renderings, all built from one `Audience`: Python (`sees`), SQL (`geo.visible_to`, given
`levels` and `roles`) and CQL2 for pgSTAC (`cql2`).

The contract publishers must follow (it is all the serving layer reads):
- Vector: a served table has a `geo.table_catalog` row in schema `geo` with `access_level` and,
  when restricted, `granted_roles`. No row, no collection.
- STAC: every item carries `properties["terrace:access_level"]` (and
  `properties["terrace:granted_roles"]`, a list of role names, when restricted); every
  collection carries the same two fields at its top level. Items are filtered by their own
  fields, collections (listing, metadata, queryables, item routes, mosaics) by theirs, so a
  collection's level is the most open level of its items. A missing level hides the object
  from everyone but admins: the rule fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from terrace.auth import Principal, Role, require_role
from terrace.db.models.catalog import ACCESS_LEVELS
from terrace.stac.pgstac import ACCESS_PROPERTY, GRANTS_PROPERTY


@dataclass(frozen=True)
class Audience:
    """What one caller may see: access levels seen outright, and roles held for restricted grants."""

    levels: tuple[str, ...]
    roles: tuple[str, ...]

    @classmethod
    def of(cls, principal: Principal | None) -> Audience:
        if principal is None:
            return cls(("public",), ())
        roles = tuple(role.value for role in Role if principal.has(role))
        levels = ACCESS_LEVELS if principal.has(Role.admin) else ("public", "ouo")
        return cls(levels, roles)

    def sees(self, access_level: Any, granted_roles: Iterable[str] | None = None) -> bool:
        if access_level in self.levels:
            return True
        return access_level == "restricted" and not set(self.roles).isdisjoint(granted_roles or ())

    def cql2(self) -> dict[str, Any]:
        """The rule as a CQL2-JSON filter over the STAC properties that carry the access level."""
        level: dict[str, Any] = {"property": ACCESS_PROPERTY}
        outright = {"op": "in", "args": [level, list(self.levels)]}
        if not self.roles:
            return outright
        granted = {
            "op": "and",
            "args": [
                {"op": "=", "args": [level, "restricted"]},
                {"op": "a_overlaps", "args": [{"property": GRANTS_PROPERTY}, list(self.roles)]},
            ],
        }
        return {"op": "or", "args": [outright, granted]}

    def restrict(self, cql2: dict[str, Any] | None) -> dict[str, Any]:
        """A caller's CQL2-JSON filter narrowed to what this audience may see."""
        return self.cql2() if cql2 is None else {"op": "and", "args": [cql2, self.cql2()]}


class Gate:
    """Finds out who is calling a serving route, once per request.

    `resolve` turns a request into its principal (None when anonymous) and raises for a bad
    key; it may block on the database, so it runs in a worker thread, and only when the request
    carries credentials: anonymous requests cost nothing here.
    """

    def __init__(self, resolve: Callable[[Request], Principal | None]) -> None:
        self._resolve = resolve

    async def principal(self, request: Request) -> Principal | None:
        if "authorization" not in request.headers:
            return None
        if not hasattr(request.state, "principal"):
            request.state.principal = await run_in_threadpool(self._resolve, request)
        return request.state.principal

    async def audience(self, request: Request) -> Audience:
        return Audience.of(await self.principal(request))

    async def require(self, request: Request, role: Role) -> Principal:
        """The caller, who must hold `role`: the reviewer preview routes use this."""
        return require_role(await self.principal(request), role, "draft previews")
