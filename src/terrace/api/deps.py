"""FastAPI dependencies of the API routes: the authenticated principal and its role (what the
process holds, such as the pool, is in `terrace.dependencies`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from terrace.auth import Principal, Role, require_role, verify_key
from terrace.auth.oidc import Oidc, looks_like_jwt
from terrace.dependencies import OidcDep, Pool
from terrace.errors import Unauthenticated


def current_principal(request: Request, pool: Pool, oidc: OidcDep) -> Principal | None:
    """The caller named by `Authorization: Bearer <API key or OIDC token>`, None when anonymous."""
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if not header:
        return None
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated(
            "The Authorization header must be `Bearer <api key or token>`.",
            "Send `Authorization: Bearer <key>`; create keys with `terrace keys create`.",
        )
    if looks_like_jwt(credential):
        return _token_holder(oidc, credential)
    with pool.connection() as conn:
        return verify_key(conn, credential)


def _token_holder(oidc: Oidc | None, token: str) -> Principal:
    if oidc is None:
        raise Unauthenticated(
            "This server does not accept OIDC tokens: no OpenID provider is configured.",
            "Use an API key, or have the operator set TERRACE_OIDC_ISSUER and TERRACE_OIDC_AUDIENCE.",
        )
    return oidc.principal(token)


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers holding `role` (or a higher one)."""

    def dependency(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        return require_role(principal, role, "this endpoint")

    return dependency
