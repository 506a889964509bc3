"""Roles from a token's claims: a list or a string, at a dotted path, mapped, the highest wins;
and the OIDC settings an operator writes."""

from __future__ import annotations

from typing import Any

import pytest

from terrace.auth import Role
from terrace.auth.oidc import Oidc, OidcConfig, looks_like_jwt
from terrace.cli.serve import oidc_config
from terrace.errors import Forbidden, SetupError
from terrace.settings import OidcSettings


def holder(claims: dict[str, Any], **config: Any) -> tuple[str, Role, str]:
    oidc = Oidc(OidcConfig(issuer="http://127.0.0.1:9", audience="urn:terrace", **config))
    principal = oidc.holder({"sub": "u-123", **claims})
    return principal.name, principal.role, principal.actor


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["reader"], Role.reader),
        (["reviewer", "reader", "submitter"], Role.reviewer),
        ("submitter", Role.submitter),
        ("reader admin", Role.admin),
        ("reader,reviewer", Role.reviewer),
        (["admin", "unknown", 7], Role.admin),
    ],
)
def test_the_highest_role_named_wins(roles: Any, expected: Role) -> None:
    assert holder({"roles": roles}) == ("u-123", expected, "oidc:u-123")


def test_a_dotted_claim_and_a_role_map() -> None:
    claims = {"realm_access": {"roles": ["gis-editors", "offline_access"]}}
    role_map = {"gis-editors": Role.submitter, "gis-leads": Role.reviewer}
    assert holder(claims, roles_claim="realm_access.roles", role_map=role_map)[1] is Role.submitter


@pytest.mark.parametrize("claims", [{}, {"roles": []}, {"roles": ["superuser"]}, {"roles": {"admin": True}}])
def test_no_terrace_role_is_forbidden(claims: dict[str, Any]) -> None:
    with pytest.raises(Forbidden, match="names none of the roles"):
        holder(claims)


def test_jwts_and_api_keys_are_told_apart_by_shape() -> None:
    assert looks_like_jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
    assert looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    assert not looks_like_jwt("trc_0123456789ab_" + "A" * 43)
    assert not looks_like_jwt("a.b")


def test_settings_become_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRACE_OIDC_ISSUER", "https://login.example.org/realms/geo")
    monkeypatch.setenv("TERRACE_OIDC_AUDIENCE", "terrace-api")
    monkeypatch.setenv("TERRACE_OIDC_ROLE_MAP", '{"gis-editors": "submitter"}')
    config = oidc_config(OidcSettings())
    assert config is not None
    assert config.role_map == {"gis-editors": Role.submitter}
    assert config.roles_claim == "roles" and config.clock_skew == 60


def test_settings_missing_an_audience_or_naming_unknown_roles_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert oidc_config(OidcSettings()) is None
    monkeypatch.setenv("TERRACE_OIDC_ISSUER", "https://login.example.org")
    with pytest.raises(SetupError, match="TERRACE_OIDC_AUDIENCE"):
        oidc_config(OidcSettings())
    monkeypatch.setenv("TERRACE_OIDC_AUDIENCE", "terrace-api")
    monkeypatch.setenv("TERRACE_OIDC_ROLE_MAP", '{"gis-editors": "owner"}')
    with pytest.raises(SetupError, match="unknown roles: owner"):
        oidc_config(OidcSettings())
