"""What tipg needs to follow Terrace's rules when mounted: escaped HTML, links that carry the mount."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send


def escaped_templates(package: str) -> Jinja2Templates:
    """The library's own HTML templates with autoescape on (its default environment has it off).

    Their `tojson` output is already safe markup and their `|safe` values are URLs the library
    builds, so the pages render as before; titles, descriptions and attribute values are escaped.
    """
    return Jinja2Templates(env=Environment(loader=PackageLoader(package, "templates"), autoescape=True))


class MountRoot:
    """Makes the mount point the app's root for the URLs it builds.

    Starlette's `request.base_url` is the root of the outermost app, so links that a library
    builds from it (tipg's tile and docs links) would miss the mount prefix. Inside this app the
    base URL is its mount instead, and every link is built the same way without a prefix setting.
    The scope is changed in place, so the route the library's router chooses stays visible to the
    app's middleware (the HTTP metrics label requests with it).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope["app_root_path"] = scope.get("root_path", "")
        await self.app(scope, receive, send)
