"""Forged, expired and misdirected OIDC tokens on every role-protected route group: each is a 401
saying what was wrong, nothing is written, and a garbage key id cannot make us hammer the provider."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
import psycopg
import pytest

from terrace.api.app import AppConfig
from terrace.auth.oidc import Oidc
from terrace.errors import Unauthenticated
from tests.conftest import LiveServer, bearer
from tests.oidc.provider import OpenIdTestProvider, oidc_provider

__all__ = ["oidc_provider"]

# One route of each role-protected group, and the reader-visible serving APIs.
ROUTES = [
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs/submit/demo_sleep"),
    ("POST", "/api/platform/submit"),
    ("POST", "/api/platform/approve"),
    ("POST", "/api/platform/unpublish"),
    ("GET", "/api/platform/approvals"),
    ("PUT", "/api/storage/bronze/forged.txt"),
    ("GET", "/api/admin/db/drift"),
    ("GET", "/api/admin/keys"),
    ("GET", "/api/admin/schedules"),
    ("GET", "/stac/collections"),
    ("GET", "/features/collections"),
]

FORGERIES: dict[str, Callable[[OpenIdTestProvider], str]] = {
    "expired": lambda p: p.signed(exp=int(time.time()) - 120, iat=int(time.time()) - 600),
    "not yet valid": lambda p: p.signed(nbf=int(time.time()) + 600),
    "wrong audience": lambda p: p.signed(aud="urn:another-api"),
    "wrong issuer": lambda p: p.signed(iss="http://127.0.0.1:9"),
    "no subject": lambda p: p.signed(sub=None),
    "alg none": lambda p: p.unsigned(),
    "HS256 keyed with the RSA public key": lambda p: p.hs256_with_public_key(),
    "tampered payload": lambda p: _tampered(p.signed(roles=["reader"])),
    "unknown key": lambda p: p.signed(kid="not-a-key-of-the-provider"),
}


@pytest.fixture
def app_config(app_config: AppConfig, oidc_provider: OpenIdTestProvider) -> AppConfig:
    return replace(app_config, oidc=oidc_provider.config())


def test_forged_and_expired_tokens_are_refused_on_every_route_group(
    api: httpx.Client, oidc_provider: OpenIdTestProvider, database_url: str
) -> None:
    for forgery, forge in FORGERIES.items():
        token = forge(oidc_provider)
        for method, path in ROUTES:
            response = api.request(method, path, headers=bearer(token), json={}, params={"confirm": "yes"})
            assert response.status_code == 401, (forgery, path, response.text)
            assert response.json()["code"] in {"UNAUTHENTICATED", "TOKEN_EXPIRED"}
            assert "Traceback" not in response.text and "joserfc" not in response.text
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM app.jobs").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM app.asset_releases").fetchone() == (0,)


def test_refusals_say_what_was_wrong(api: httpx.Client, oidc_provider: OpenIdTestProvider) -> None:
    def message(token: str) -> str:
        return str(api.get("/api/jobs", headers=bearer(token)).json()["message"])

    expired = oidc_provider.signed(exp=int(time.time()) - 120)
    assert api.get("/api/jobs", headers=bearer(expired)).json()["code"] == "TOKEN_EXPIRED"
    assert "expired" in message(expired)
    assert "not meant for this API" in message(oidc_provider.signed(aud="urn:another-api"))
    assert "not issued by the configured OpenID provider" in message(oidc_provider.signed(iss="http://evil"))
    assert "'none'" in message(oidc_provider.unsigned())
    assert "'HS256'" in message(oidc_provider.hs256_with_public_key())
    assert "does not publish" in message(oidc_provider.signed(kid="garbage"))


def test_a_token_of_the_provider_for_another_audience_is_refused(
    api: httpx.Client, oidc_provider: OpenIdTestProvider
) -> None:
    token = oidc_provider.token("robot-admin", resource="urn:another-api")
    response = api.get("/api/admin/keys", headers=bearer(token))
    assert response.status_code == 401 and "not meant for this API" in response.json()["message"]


def test_a_valid_token_without_a_terrace_role_is_forbidden(
    api: httpx.Client, oidc_provider: OpenIdTestProvider
) -> None:
    response = api.get("/api/jobs", headers=bearer(oidc_provider.token("robot-none")))
    assert response.status_code == 403
    assert "'roles' claim names none of the roles" in response.json()["message"]


def test_a_token_grants_no_more_than_its_role(api: httpx.Client, oidc_provider: OpenIdTestProvider) -> None:
    reader = oidc_provider.token("robot-reader")
    assert api.get("/api/jobs", headers=bearer(reader)).status_code == 200
    assert api.get("/api/admin/keys", headers=bearer(reader)).status_code == 403
    approval = api.post("/api/platform/approve", json={"release_id": "x"}, headers=bearer(reader))
    assert approval.status_code == 403


def test_garbage_key_ids_do_not_make_us_hammer_the_provider(oidc_provider: OpenIdTestProvider) -> None:
    oidc = Oidc(oidc_provider.config(jwks_cooldown=60))
    oidc.principal(oidc_provider.token("robot-reader"))
    before = oidc_provider.jwks_hits()
    for n in range(25):
        with pytest.raises(Unauthenticated, match="does not publish"):
            oidc.principal(oidc_provider.signed(kid=f"garbage-{n}"))
    assert oidc_provider.jwks_hits() - before <= 1


def test_tokens_are_refused_when_no_provider_is_configured(
    app_config: AppConfig, oidc_provider: OpenIdTestProvider
) -> None:
    with LiveServer(replace(app_config, oidc=None)) as server:
        response = httpx.get(
            f"{server.url}/api/jobs", headers=bearer(oidc_provider.token("robot-admin")), timeout=30
        )
    assert response.status_code == 401 and "no OpenID provider is configured" in response.json()["message"]


def _tampered(token: str) -> str:
    """The payload swapped for one naming the admin role, the signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = json.dumps({**claims, "roles": ["admin"]}).encode()
    return f"{header}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{signature}"


def test_the_sign_in_callback_checks_state_before_anything(api: httpx.Client) -> None:
    login = api.get("/interface/login")
    assert "/interface/login/oidc?next=%2Finterface%2F" in login.text
    started = api.get("/interface/login/oidc", params={"next": "//evil.example/"})
    assert started.status_code == 303
    assert started.headers["location"].split("?")[0].endswith("/auth")
    assert "code_challenge_method=S256" in started.headers["location"]
    cookie = started.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/interface/login/oidc" in cookie
    state = dict(httpx.URL(started.headers["location"]).params)["state"]

    for forged in ("forged", "é", ""):
        refused = api.get("/interface/login/oidc/callback", params={"state": forged, "code": "x"})
        assert refused.status_code == 403 and "state mismatch" in refused.text
    bogus_code = api.get("/interface/login/oidc/callback", params={"state": state, "code": "not-a-code"})
    assert bogus_code.status_code == 401 and "refused the sign-in code" in bogus_code.text
    assert api.get("/interface/", follow_redirects=False).status_code == 303
