"""Security headers on every response of the app, its mounted APIs and the web UI.

The Content-Security-Policy allows scripts, styles and connections from Terrace's own origin
only: no inline scripts or event handlers, no plugins, no framing, forms posting only to
Terrace. Images may be data: and blob: URLs and workers blob: URLs, which MapLibre and Swagger UI
need; an external basemap (TERRACE_BASEMAP_STYLE) adds its origin to connections and images. It is
sent with every response, so a page of a mounted library (tipg's HTML) gets it too.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(origins: Sequence[str] = ()) -> str:
    """The policy, with `origins` (an external basemap's) allowed for connections and images."""
    extra = "".join(f" {origin}" for origin in origins)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{extra}",
            "worker-src blob:",
            "child-src blob:",
            f"connect-src 'self'{extra}",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # frame-ancestors 'none' for browsers that predate it.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Sets `HEADERS` and the policy on every HTTP response, replacing any a mounted library set."""

    def __init__(self, app: ASGIApp, policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self.headers = {"Content-Security-Policy": policy, **HEADERS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
