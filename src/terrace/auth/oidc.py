"""OIDC bearer tokens: RS256/ES256 JWTs from the organisation's OpenID provider, checked for
signature, issuer, audience and time, whose role comes from a configurable claim and whose `sub`
is the actor recorded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError

from terrace.auth.provider import OpenIdProvider
from terrace.auth.roles import Principal, Role
from terrace.errors import Forbidden, Unauthenticated

ALGORITHMS = ("RS256", "ES256")
# header.payload.signature, each base64url; API keys (`trc_<id>_<secret>`) never contain a dot.
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_NEW_TOKEN = "Get a new token from the OpenID provider."


def looks_like_jwt(credential: str) -> bool:
    return _JWT_SHAPE.fullmatch(credential) is not None


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    roles_claim: str = "roles"  # a dotted path reaches into objects: "realm_access.roles"
    # The provider's role names → Terrace's roles; the default expects Terrace's own names.
    role_map: Mapping[str, Role] = field(default_factory=lambda: {role.value: role for role in Role})
    client_id: str | None = None  # the web UI's sign-in through the provider needs both
    client_secret: str | None = None
    clock_skew: int = 60
    jwks_cooldown: float = 60.0


class Oidc:
    """Verifies the provider's tokens: bearer access tokens and the web sign-in's ID tokens."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.provider = OpenIdProvider(config.issuer, cooldown=config.jwks_cooldown)

    def principal(self, token: str) -> Principal:
        """The caller of a bearer token meant for this API."""
        return self.holder(self.claims(token, self.config.audience))

    def claims(self, token: str, audience: str, nonce: str | None = None) -> dict[str, Any]:
        """The claims of a token whose signature, issuer, audience, times (and nonce) check out."""
        key = self.provider.key(_header(token).get("kid"))
        try:
            claims = jwt.decode(token, key, algorithms=list(ALGORITHMS)).claims
        except JoseError as error:
            raise Unauthenticated("The token's signature does not verify.", _NEW_TOKEN) from error
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": self.provider.issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            expected["nonce"] = {"essential": True, "value": nonce}
        try:
            jwt.JWTClaimsRegistry(leeway=self.config.clock_skew, **expected).validate(claims)
        except ClaimError as error:
            raise _claim_error(error, claims, audience) from error
        return claims

    def holder(self, claims: Mapping[str, Any]) -> Principal:
        """The token's subject, with the highest Terrace role its roles claim names."""
        names = _names(claims, self.config.roles_claim)
        roles = [self.config.role_map[name] for name in names if name in self.config.role_map]
        if not roles:
            raise Forbidden(
                f"The token's {self.config.roles_claim!r} claim names none of the roles "
                f"{', '.join(sorted(self.config.role_map))}.",
                "Ask the identity provider's administrator to give you a Terrace role.",
            )
        return Principal(key_id=None, name=str(claims["sub"]), role=max(roles, key=lambda role: role.rank))


def _header(token: str) -> dict[str, Any]:
    """The token's header, unverified, to pick the key; only RS256 and ES256 pass."""
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError) as error:
        raise Unauthenticated("The bearer token is not a well-formed JWT.", _NEW_TOKEN) from error
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise Unauthenticated(
            f"The token is signed with {str(alg)[:16]!r}; only RS256 and ES256 are accepted.", _NEW_TOKEN
        )
    return header


def _claim_error(error: ClaimError, claims: Mapping[str, Any], audience: str) -> Unauthenticated:
    if isinstance(error, ExpiredTokenError):
        expired = datetime.fromtimestamp(claims["exp"], UTC).isoformat(timespec="seconds")
        return Unauthenticated(f"The token expired at {expired}.", _NEW_TOKEN, code="TOKEN_EXPIRED")
    if isinstance(error, MissingClaimError):
        return Unauthenticated(f"The token lacks the claims {error.claim}.", _NEW_TOKEN)
    messages = {
        "iss": "The token was not issued by the configured OpenID provider.",
        "aud": f"The token is not meant for this API (audience {audience!r}).",
        "nbf": "The token is not valid yet.",
        "iat": "The token was issued in the future.",
        "nonce": "The ID token does not belong to this sign-in (nonce mismatch).",
    }
    return Unauthenticated(
        messages.get(error.claim, f"The token's {error.claim!r} claim is invalid."), _NEW_TOKEN
    )


def _names(claims: Mapping[str, Any], path: str) -> list[str]:
    """The role names at the claim `path`: a list of strings, or one string of names."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
