"""Sign-in through the organisation's OpenID provider: authorization code with PKCE (S256), the
`state` and `nonce` checked, the ID token verified like a bearer token (audience: our client id).

What the callback must check (state, nonce, PKCE verifier, where to go next) waits in its own
signed, short-lived cookie rather than in the session: the provider sends the browser back from
another site, and the session cookie, `SameSite=Strict`, does not travel on that request. The
callback answers with a page that moves on by itself, so the request after it is same-site and
carries the new session.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from terrace.auth.oidc import Oidc
from terrace.dependencies import Pool
from terrace.errors import Forbidden, NotFound, Unauthenticated
from terrace.web.session import local_target, sign_in_subject
from terrace.web.templating import render

router = APIRouter()
PENDING = "terrace_oidc"
PENDING_SECONDS = 600
PENDING_PATH = "/interface/login/oidc"
_AGAIN = "Start again from the sign-in page."


def offered(request: Request) -> bool:
    """Whether the login page offers sign-in through the provider."""
    oidc: Oidc | None = request.app.state.oidc
    return oidc is not None and oidc.config.client_id is not None and oidc.config.client_secret is not None


@router.get("/login/oidc")
def start(request: Request, next: str = "/interface/") -> Response:
    """Send the browser to the provider's authorization endpoint.

    A link, not a form: the UI's CSP lets forms post only to Terrace, and Chrome applies that to
    the redirect that follows. Starting a sign-in changes nothing here; the callback is what is
    bound to this browser, by the pending cookie's `state`."""
    oidc = _oidc(request)
    pending = {"state": generate_token(32), "nonce": generate_token(32), "verifier": generate_token(64)}
    url = prepare_grant_uri(
        oidc.provider.metadata()["authorization_endpoint"],
        client_id=oidc.config.client_id,
        response_type="code",
        redirect_uri=_callback_url(request),
        scope="openid",
        state=pending["state"],
        nonce=pending["nonce"],
        code_challenge=create_s256_code_challenge(pending["verifier"]),
        code_challenge_method="S256",
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING,
        _signer(request).dumps({**pending, "next": local_target(next)}),
        max_age=PENDING_SECONDS,
        path=PENDING_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
def callback(request: Request, pool: Pool, state: str = "", code: str = "", error: str = "") -> Response:
    """Check the state, exchange the code, verify the ID token, and start a session for its `sub`."""
    oidc = _oidc(request)
    pending = _pending(request)
    if not state or not secrets.compare_digest(state.encode(), str(pending["state"]).encode()):
        raise Forbidden(
            "This sign-in answer does not belong to the sign-in this browser started (state mismatch).",
            _AGAIN,
        )
    if error or not code:
        raise Unauthenticated(f"The OpenID provider did not sign you in ({error[:64] or 'no code'}).", _AGAIN)
    claims = oidc.claims(
        _id_token(request, oidc, code, pending["verifier"]), str(oidc.config.client_id), pending["nonce"]
    )
    sign_in_subject(request, pool, oidc.holder(claims))
    response = render(request, "signed_in.html", next=pending["next"])
    response.delete_cookie(PENDING, path=PENDING_PATH)
    return response


def _id_token(request: Request, oidc: Oidc, code: str, verifier: str) -> str:
    """The ID token for `code`, from the provider's token endpoint (client_secret_basic)."""
    try:
        response = httpx.post(
            oidc.provider.metadata()["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": _callback_url(request),
                "code_verifier": verifier,
            },
            auth=(str(oidc.config.client_id), str(oidc.config.client_secret)),
            timeout=oidc.provider.timeout,
            follow_redirects=False,
        )
        token = response.json().get("id_token") if response.is_success else None
    except (httpx.HTTPError, ValueError, AttributeError) as failure:
        raise Unauthenticated("The OpenID provider did not exchange the sign-in code.", _AGAIN) from failure
    if not isinstance(token, str):
        raise Unauthenticated(
            f"The OpenID provider refused the sign-in code (HTTP {response.status_code}).", _AGAIN
        )
    return token


def _pending(request: Request) -> dict[str, Any]:
    try:
        pending = _signer(request).loads(request.cookies.get(PENDING, ""), max_age=PENDING_SECONDS)
    except BadSignature as failure:
        raise Forbidden(
            "No sign-in through the OpenID provider was started in this browser, or it took over "
            f"{PENDING_SECONDS // 60} minutes.",
            _AGAIN,
        ) from failure
    return dict(pending)


def _oidc(request: Request) -> Oidc:
    if not offered(request):
        raise NotFound("Sign-in through an OpenID provider is not configured.", "Sign in with an API key.")
    oidc: Oidc = request.app.state.oidc
    return oidc


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.session_secret, salt="terrace-oidc-sign-in")


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))
