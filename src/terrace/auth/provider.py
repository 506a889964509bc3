"""The organisation's OpenID provider: its discovery document and signing keys, fetched from the
configured issuer only, cached, and fetched again when a token names a key not seen yet.

A token naming an unknown key may be a rotation (the provider signs with a new key) or garbage;
the keys are fetched again at most once per `cooldown`, so garbage cannot make us hammer the
provider. Keys are also fetched again after `max_age`, so a key the provider withdrew stops
being accepted.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from terrace.errors import Unauthenticated, Unavailable


class OpenIdProvider:
    def __init__(
        self, issuer: str, *, cooldown: float = 60.0, max_age: float = 3600.0, timeout: float = 10.0
    ):
        self.issuer = issuer.rstrip("/")
        self.cooldown = cooldown
        self.max_age = max_age
        self.timeout = timeout
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        """The discovery document at {issuer}/.well-known/openid-configuration, checked and cached."""
        with self._lock:
            if self._metadata is None:
                document = self._get(f"{self.issuer}/.well-known/openid-configuration")
                if document.get("issuer") != self.issuer:
                    raise Unavailable(
                        f"The OpenID provider names itself {document.get('issuer')!r}, not {self.issuer!r}.",
                        "Set TERRACE_OIDC_ISSUER to exactly the provider's issuer.",
                    )
                for endpoint in ("jwks_uri", "authorization_endpoint", "token_endpoint"):
                    self._check_origin(document.get(endpoint), endpoint)
                self._metadata = document
            return self._metadata

    def key(self, kid: str | None) -> Key:
        """The provider's signing key named `kid`, fetching the keys again if it is not known yet."""
        uri = self.metadata()["jwks_uri"]
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._keys is None or age > self.max_age or (not self._has(kid) and age > self.cooldown):
                self._fetched_at = time.monotonic()  # a failed fetch waits out the cooldown too
                self._keys = self._key_set(uri)
            if not self._has(kid):
                raise Unauthenticated(
                    "The token is signed by a key the OpenID provider does not publish.",
                    "Get a new token from the provider.",
                )
            return self._keys.get_by_kid(kid)

    def _has(self, kid: str | None) -> bool:
        if self._keys is None:
            return False
        return any(key.kid == kid for key in self._keys.keys) or (kid is None and len(self._keys.keys) == 1)

    def _key_set(self, uri: str) -> KeySet:
        try:
            return KeySet.import_key_set(self._get(uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as error:
            raise Unavailable(
                f"The OpenID provider's key set at {uri} is not valid JWKS.", "Check the provider."
            ) from error

    def _check_origin(self, url: object, what: str) -> None:
        """The provider's endpoints must be on the issuer's own origin: we talk to nobody else."""
        if not isinstance(url, str) or _origin(url) != _origin(self.issuer):
            raise Unavailable(
                f"The OpenID provider's {what} ({url!r}) is not on the origin of {self.issuer}.",
                "Terrace fetches only from TERRACE_OIDC_ISSUER's origin; use a provider serving its "
                "endpoints there.",
            )

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.timeout, follow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise Unavailable(
                f"The OpenID provider did not answer {url} with JSON.",
                "Check TERRACE_OIDC_ISSUER and that the provider is up.",
            ) from error
        if not isinstance(document, dict):
            raise Unavailable(
                f"The OpenID provider answered {url} with no JSON object.", "Check the provider."
            )
        return document


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
