"""FastAPI dependencies of the API routes: the authenticated principal and its role (what the
process holds, such as the pool, is in `terrace.dependencies`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from terrace.auth import Principal, Role, require_role, verify_key
from terrace.dependencies import Pool
from terrace.errors import Unauthenticated


def current_principal(request: Request, pool: Pool) -> Principal | None:
    """The caller named by `Authorization: Bearer <key>`, None when anonymous."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "The Authorization header must be `Bearer <api key>`.",
            "Send `Authorization: Bearer <key>`; create keys with `terrace keys create`.",
        )
    with pool.connection() as conn:
        principal = verify_key(conn, token.strip())
    if principal is None:
        raise Unauthenticated("The API key is unknown or revoked.", "Ask an admin for a valid key.")
    return principal


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers holding `role` (or a higher one)."""

    def dependency(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        return require_role(principal, role, "this endpoint")

    return dependency
