"""Who is using the UI: a server-side session, named by the random id in the signed, HttpOnly
session cookie (the database keeps its SHA-256), and the session's CSRF token.

A session row names the API key signed in with, never the key itself; the key is looked up on
every request, so a revoked or expired key signs its user out at once. A sign-in through the
OpenID provider keeps the ID token's `sub` and role for the session's lifetime instead. Signing
out deletes the row, so a copied cookie is worth nothing afterwards. Every form, the login form
included, and every HTMX request carries the CSRF token kept in the cookie; a POST without it is
refused.

The cookie is `Secure` when the request came over HTTPS. Behind a proxy that terminates TLS,
that is known only if the server trusts the proxy's X-Forwarded-Proto (uvicorn's proxy headers
with the proxy's address in its forwarded-allow-ips); otherwise the cookie goes out without it.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from terrace.auth import Principal, Role, require_role
from terrace.auth.keys import hash_key, principal_of
from terrace.db import pool as db
from terrace.db.queries import queries
from terrace.dependencies import Pool
from terrace.errors import Forbidden, TerraceError

SESSION = "session"
CSRF = "csrf"
LIFETIME_SECONDS = 8 * 3600


class LoginRequired(TerraceError):
    """Raised by pages that need a signed-in user; the UI answers with the login page."""


class SessionCookie:
    """Starlette's signed session cookie, with the `Secure` flag on requests that came over HTTPS."""

    def __init__(self, app: ASGIApp, secret_key: str, name: str, path: str) -> None:
        options: dict[str, Any] = {
            "secret_key": secret_key,
            "session_cookie": name,
            "path": path,
            "same_site": "strict",
            "max_age": LIFETIME_SECONDS,
        }
        self.plain = SessionMiddleware(app, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cookie = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await cookie(scope, receive, send)


def sign_in(request: Request, pool: db.Pool, key: str) -> Principal | None:
    """A new session for the holder of `key`, or None for an unknown, revoked or expired key."""
    with pool.connection() as conn:
        principal = principal_of(conn, hash_key(key.strip()))
        if principal is not None:
            _start(request, conn, principal)
    return principal


def sign_in_subject(request: Request, pool: db.Pool, principal: Principal) -> None:
    """A new session for the subject of an ID token the OpenID provider issued, with its role."""
    with pool.connection() as conn:
        _start(request, conn, principal)


def _start(request: Request, conn: db.Connection, principal: Principal) -> None:
    """A fresh session id and CSRF token: nothing of the visitor's session before sign-in carries over."""
    session_id = secrets.token_urlsafe(32)
    conn.execute(queries("sessions")["end_expired_sessions"])
    subject = principal.name if principal.key_id is None else None
    conn.execute(
        queries("sessions")["start_session"],
        {
            "session_hash": _hash(session_id),
            "key_id": principal.key_id,
            "subject": subject,
            "role": principal.role.value if subject else None,
            "lifetime": LIFETIME_SECONDS,
        },
    )
    request.session.clear()
    request.session[SESSION] = session_id
    request.session[CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request, pool: db.Pool) -> None:
    """End the session in the database (its cookie signs nobody in again) and clear the cookie."""
    session_id = request.session.get(SESSION)
    if session_id:
        with pool.connection() as conn:
            conn.execute(queries("sessions")["end_session"], {"session_hash": _hash(session_id)})
    request.session.clear()


def current_user(request: Request, pool: db.Pool) -> Principal | None:
    session_id = request.session.get(SESSION)
    if not session_id:
        return None
    with pool.connection() as conn:
        row = conn.execute(
            queries("sessions")["session_holder"], {"session_hash": _hash(session_id)}
        ).fetchone()
        principal = _holder(conn, row) if row else None
    if principal is None:
        request.session.clear()
    return principal


def csrf_token(request: Request) -> str:
    """The session's CSRF token; a visitor not signed in gets one for the login form."""
    if CSRF not in request.session:
        request.session[CSRF] = secrets.token_urlsafe(32)
    return str(request.session[CSRF])


def signed_in(request: Request, pool: Pool) -> Principal:
    principal = current_user(request, pool)
    if principal is None:
        raise LoginRequired("Sign in to use the interface.", "Open /interface/login.")
    return principal


def checked_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Every POST: the token of the form (or the X-CSRF-Token header of HTMX) must match."""
    sent = csrf or request.headers.get("x-csrf-token", "")
    expected = str(request.session.get(CSRF, ""))
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


def local_target(target: str) -> str:
    """Only paths inside the interface: a login link must not redirect to another site."""
    return target if target.startswith("/interface/") and "//" not in target else "/interface/"


def _holder(conn: db.Connection, row: dict[str, Any]) -> Principal | None:
    if row["subject"] is not None:
        return Principal(key_id=None, name=row["subject"], role=Role(row["role"]))
    return principal_of(conn, row["key_hash"])


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


User = Annotated[Principal, Depends(signed_in)]
