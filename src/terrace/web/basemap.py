"""The basemap under every map of the UI: Terrace's own offline style (Natural Earth land, coastlines
and borders, served from static/), or the MapLibre style an operator names in TERRACE_BASEMAP_STYLE.
An external style's origin is the one the Content-Security-Policy then lets the browser fetch from:
the style's tiles, glyphs and sprites must come from there too."""

from __future__ import annotations

from urllib.parse import urlsplit

from terrace.errors import SetupError

OFFLINE_STYLE = "/interface/static/basemap.json"


def style_url(configured: str | None) -> str:
    return configured or OFFLINE_STYLE


def style_origins(configured: str | None) -> tuple[str, ...]:
    """The origins an external style needs in the Content-Security-Policy; none for the offline one."""
    if not configured:
        return ()
    parts = urlsplit(configured)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise SetupError(
            f"TERRACE_BASEMAP_STYLE is not an http(s) URL: {configured!r}.",
            "Set it to the URL of a MapLibre style document, or unset it for the offline basemap.",
        )
    return (f"{parts.scheme}://{parts.netloc}",)
