"""A real OpenID provider for the tests: panva's oidc-provider (npm, installed by
`scripts/setup --test`) run by node on a free loopback port, with signing keys made here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

from terrace.api.app import AppConfig
from terrace.auth.oidc import OidcConfig
from terrace.db.cluster import free_port
from tests.conftest import LiveServer

FOLDER = Path(__file__).parent
AUDIENCE = "urn:terrace"
WEB_CLIENT = ("terrace-web", "web-secret")


class OpenIdTestProvider:
    """The provider's process, its current signing keys, and tokens from it."""

    def __init__(self, folder: Path, redirect_uri: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = redirect_uri
        self.process: subprocess.Popen[bytes] | None = None
        self.keys: dict[str, Key] = {}

    def start(self) -> None:
        """Start with fresh RS256 and ES256 signing keys (a restart rotates them)."""
        if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("oidc-provider is not installed: run `scripts/setup --test`.")
        self.keys = {
            "RS256": RSAKey.generate_key(2048, {"alg": "RS256", "use": "sig", "kid": secrets.token_hex(8)}),
            "ES256": ECKey.generate_key("P-256", {"alg": "ES256", "use": "sig", "kid": secrets.token_hex(8)}),
        }
        jwks = self.folder / f"jwks-{secrets.token_hex(4)}.json"
        jwks.write_text(json.dumps({"keys": [key.as_dict(private=True) for key in self.keys.values()]}))
        env = dict(os.environ, OIDC_PORT=str(self.port), OIDC_JWKS=str(jwks))
        env["OIDC_REDIRECT_URI"] = self.redirect_uri
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", str(FOLDER / "provider.mjs")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the test OpenID provider did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def rotate(self) -> None:
        """Restart with new keys only: tokens signed by the old ones no longer verify there."""
        self.stop()
        self.start()

    def token(self, client: str, resource: str = AUDIENCE) -> str:
        """A JWT access token for `client` (client credentials), with `resource` as its audience."""
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": "api"},
            auth=(client, "robot-secret"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def signed(self, alg: str = "RS256", kid: str | None = None, **claims: Any) -> str:
        """A token signed with the provider's own current key, with chosen claims (None drops one)."""
        key = self.keys[alg]
        return jwt.encode({"alg": alg, "kid": kid or key.kid}, self._claims(claims), key, algorithms=[alg])

    def hs256_with_public_key(self, **claims: Any) -> str:
        """The algorithm-confusion forgery: HS256 keyed with the provider's public RSA key."""
        public = self.keys["RS256"].as_pem(private=False)
        header = {"alg": "HS256", "kid": self.keys["RS256"].kid, "typ": "JWT"}
        payload = _b64(json.dumps(self._claims(claims)).encode())
        signing_input = f"{_b64(json.dumps(header).encode())}.{payload}"
        signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def unsigned(self, **claims: Any) -> str:
        """An `alg: none` token with otherwise valid claims."""
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{_b64(json.dumps(self._claims(claims)).encode())}."

    def _claims(self, chosen: dict[str, Any]) -> dict[str, Any]:
        """Valid admin claims for this provider and our API, overridden by `chosen` (None drops one)."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": "forged", "iat": now, "exp": now + 300}
        merged = {**claims, "roles": ["admin"], **chosen}
        return {name: value for name, value in merged.items() if value is not None}

    def jwks_hits(self) -> int:
        return int(httpx.get(f"{self.issuer}/test/jwks-hits", timeout=5).json()["hits"])

    def config(self, **overrides: Any) -> OidcConfig:
        """How Terrace trusts this provider: API audience, the web client, a short key-fetch cooldown."""
        settings: dict[str, Any] = {
            "issuer": self.issuer,
            "audience": AUDIENCE,
            "client_id": WEB_CLIENT[0],
            "client_secret": WEB_CLIENT[1],
            "jwks_cooldown": 1.0,
            **overrides,
        }
        return OidcConfig(**settings)


def running_provider(folder: Path, redirect_uri: str) -> Iterator[OpenIdTestProvider]:
    provider = OpenIdTestProvider(folder, redirect_uri)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdTestProvider]:
    """One provider for a module's bearer-token tests (the web client's callback is unused)."""
    yield from running_provider(tmp_path_factory.mktemp("oidc"), "http://127.0.0.1:9/unused")


@dataclass(frozen=True)
class OidcPlatform:
    api: httpx.Client
    provider: OpenIdTestProvider


@pytest.fixture
def oidc_platform(app_config: AppConfig, worker: None, tmp_path: Path) -> Iterator[OidcPlatform]:
    """The live API and a worker, trusting a provider started for this test whose web client calls
    back to this API."""
    provider = OpenIdTestProvider(tmp_path, "")
    server = LiveServer(replace(app_config, oidc=provider.config()))
    provider.redirect_uri = f"{server.url}/interface/login/oidc/callback"
    provider.start()
    try:
        with server, httpx.Client(base_url=server.url, timeout=30) as client:
            yield OidcPlatform(client, provider)
    finally:
        provider.stop()
