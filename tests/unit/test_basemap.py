"""The basemap setting: offline by default, and an external style's origin allowed by the policy."""

from __future__ import annotations

import pytest

from terrace.api.headers import CONTENT_SECURITY_POLICY, content_security_policy
from terrace.errors import SetupError
from terrace.web.basemap import OFFLINE_STYLE, style_origins, style_url


def test_the_default_basemap_never_leaves_the_machine() -> None:
    assert style_url(None) == OFFLINE_STYLE
    assert style_origins(None) == ()
    assert content_security_policy(style_origins(None)) == CONTENT_SECURITY_POLICY
    assert "connect-src 'self';" in CONTENT_SECURITY_POLICY


def test_an_external_style_adds_its_origin_to_connections_and_images() -> None:
    style = "https://tiles.example.org/styles/liberty.json"
    policy = content_security_policy(style_origins(style))
    assert style_url(style) == style
    assert "connect-src 'self' https://tiles.example.org;" in policy
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy
    assert "script-src 'self';" in policy


@pytest.mark.parametrize("style", ["tiles.example.org/style.json", "javascript:alert(1)", "https://"])
def test_a_basemap_that_is_no_http_url_is_refused(style: str) -> None:
    with pytest.raises(SetupError, match="TERRACE_BASEMAP_STYLE"):
        style_origins(style)
