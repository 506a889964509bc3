"""Who is using the UI: the API key signed in with, kept in the signed, HttpOnly session cookie as
its hash (a leaked cookie gives no key for the API), and the session's CSRF token.

The hash is looked up in `app.api_keys` on every request, so a revoked key signs its user out at
once. Every form and HTMX request carries the CSRF token; a POST without it is refused.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request

from terrace.auth import Principal, Role, require_role
from terrace.auth.keys import hash_key, principal_of, verify_key
from terrace.errors import Forbidden, TerraceError

KEY = "key_hash"
CSRF = "csrf"


class LoginRequired(TerraceError):
    """Raised by pages that need a signed-in user; the UI answers with the login page."""


def sign_in(request: Request, key: str) -> Principal | None:
    with request.app.state.pool.connection() as conn:
        principal = verify_key(conn, key.strip())
    if principal is not None:
        request.session.clear()
        request.session[KEY] = hash_key(key.strip())
        request.session[CSRF] = secrets.token_urlsafe(32)
    return principal


def sign_out(request: Request) -> None:
    request.session.clear()


def current_user(request: Request) -> Principal | None:
    key_hash = request.session.get(KEY)
    if not key_hash:
        return None
    with request.app.state.pool.connection() as conn:
        principal = principal_of(conn, key_hash)
    if principal is None:
        request.session.clear()
    return principal


def csrf_token(request: Request) -> str:
    return str(request.session.get(CSRF, ""))


def signed_in(request: Request) -> Principal:
    principal = current_user(request)
    if principal is None:
        raise LoginRequired("Sign in with your API key to use the interface.", "Open /interface/login.")
    return principal


def checked_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Every POST: the token of the form (or the X-CSRF-Token header of HTMX) must match."""
    sent = csrf or request.headers.get("x-csrf-token", "")
    expected = csrf_token(request)
    if not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "The form's security token is missing or stale.", "Reload the page and submit the form again."
        )


def needs(role: Role):  # type: ignore[no-untyped-def]
    """A dependency for actions: a signed-in user holding `role`, with a valid CSRF token."""

    def dependency(
        principal: Annotated[Principal, Depends(signed_in)], _: Annotated[None, Depends(checked_csrf)]
    ) -> Principal:
        return require_role(principal, role, "this action")

    return dependency


User = Annotated[Principal, Depends(signed_in)]
