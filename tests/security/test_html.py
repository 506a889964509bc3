"""HTML we serve, ours and the mounted libraries': stored markup comes back escaped, every page
carries the Content-Security-Policy, our pages run no inline code, and tipg's links work."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import morecantile
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from terrace.auth import Role
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.security.test_sessions import sign_in

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
COLLECTION = "floods_markup_v1"
DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "img-src 'self' data: blob:",
    "worker-src blob:",
    "child-src blob:",
)
CHROMIUM = "/usr/bin/chromium"
# Records what the page's Content-Security-Policy blocked; Playwright injects it past the policy.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.violations.push(e.effectiveDirective + " " + (e.blockedURI || "inline")));
"""
DOCS = ("/docs", "/features/docs", "/features/drafts/docs", "/stac/docs", "/tiles/docs", "/tiles/drafts/docs")


def write_markup(path: Path) -> Path:
    """Two points whose `note` attribute is an image tag with an onerror handler."""
    features = [
        {
            "type": "Feature",
            "properties": {"note": XSS, "depth": depth},
            "geometry": {"type": "Point", "coordinates": [106.8 + depth / 100, -6.2]},
        }
        for depth in (1, 2)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def served(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> httpx.Client:
    """The live API serving `COLLECTION`, public, whose features carry markup in an attribute."""
    file = write_markup(tmp_path / "markup.geojson")
    upload(platform_api, keys[Role.submitter], file, "floods/markup.geojson")
    submitted = submit(platform_api, keys[Role.submitter], "floods/markup.geojson", resource_id="markup")
    assert submitted.status_code == 202, submitted.text
    status = wait_done(platform_api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(platform_api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    return platform_api


class Inline(HTMLParser):
    """What a page would run inline: script bodies, on* handlers, style attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script" and not names.get("src"):
            self.found.append("<script> without src")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (value or "").strip().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script {data.strip()[:40]!r}")


def inline_code(html: str) -> list[str]:
    parser = Inline()
    parser.feed(html)
    return parser.found


def signed_in(api: httpx.Client, key: str) -> httpx.Client:
    assert sign_in(api, key).status_code == 303
    return api


def test_markup_in_a_served_attribute_comes_back_escaped_in_tipg_pages(served: httpx.Client) -> None:
    for path in (f"/features/collections/{COLLECTION}/items", f"/features/collections/{COLLECTION}/items/1"):
        page = served.get(path, params={"f": "html"})
        assert page.status_code == 200, (path, page.text)
        assert page.headers["content-type"].startswith("text/html")
        assert "<img src=x" not in page.text
        assert ESCAPED in page.text
    for path in ("/features/collections", f"/features/collections/{COLLECTION}/queryables"):
        page = served.get(path, params={"f": "html"})
        assert page.status_code == 200 and "<img src=x" not in page.text, path
    # The JSON still holds the value as stored: escaping is the HTML's business.
    item = served.get(f"/features/collections/{COLLECTION}/items/1").json()
    assert item["properties"]["note"] == XSS


def test_every_html_page_carries_the_content_security_policy(
    served: httpx.Client, keys: dict[Role, str]
) -> None:
    api = signed_in(served, keys[Role.admin])
    paths = [
        *DOCS,
        "/features/collections?f=html",
        f"/features/collections/{COLLECTION}/items?f=html",
        f"/features/collections/{COLLECTION}/tiles/WebMercatorQuad/map.html",
        "/features/?f=html",
        "/tiles/tileMatrixSets?f=html",
        "/interface/",
        "/interface/catalog",
        "/interface/jobs",
        "/interface/services",
        "/interface/no-such-page",
        "/interface/static/terrace.css",
        "/stac/search",
        "/api/health",
    ]
    for path in paths:
        response = api.get(path)
        policy = response.headers.get("content-security-policy", "")
        assert all(directive in policy for directive in DIRECTIVES), (path, policy)
        assert "unsafe" not in policy
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


def test_our_pages_run_no_inline_code(served: httpx.Client, keys: dict[Role, str]) -> None:
    anonymous = served.get("/interface/login")
    assert inline_code(anonymous.text) == []
    api = signed_in(served, keys[Role.admin])
    pages = ("/interface/", "/interface/catalog", f"/interface/catalog/features/{COLLECTION}")
    for path in (*pages, "/interface/services", *DOCS):
        page = api.get(path)
        assert page.status_code == 200, (path, page.text)
        assert inline_code(page.text) == [], path


def test_the_docs_pages_use_the_vendored_swagger_ui_on_their_own_openapi(api: httpx.Client) -> None:
    for path in DOCS:
        page = api.get(path)
        openapi = re.search(r'data-openapi-url="([^"]+)"', page.text)
        assert openapi and openapi.group(1) == path.removesuffix("/docs") + "/openapi.json", path
        assert "https://" not in page.text
    for asset in ("vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css", "docs.js"):
        assert api.get(f"/interface/static/{asset}").status_code == 200, asset
    assert api.get("/openapi.json").status_code == 200
    assert api.get("/stac/openapi.json").status_code == 200
    for gone in ("/redoc", "/features/redoc", "/tiles/redoc", "/docs/oauth2-redirect"):
        assert api.get(gone).status_code == 404, gone


def test_every_link_of_the_features_api_carries_its_mount_and_the_tilejson_tiles_load(
    served: httpx.Client,
) -> None:
    base = str(served.base_url).rstrip("/")
    for path in (
        "/features/",
        "/features/collections",
        f"/features/collections/{COLLECTION}",
        f"/features/collections/{COLLECTION}/tiles",
        f"/features/collections/{COLLECTION}/items",
    ):
        links = re.findall(r'"href":\s*"([^"]+)"', served.get(path).text)
        assert links and all(link.startswith(f"{base}/features/") for link in links), (path, links)

    tilejson = served.get(f"/features/collections/{COLLECTION}/tiles/WebMercatorQuad/tilejson.json").json()
    (template,) = tilejson["tiles"]
    tile = morecantile.tms.get("WebMercatorQuad").tile(106.81, -6.2, 12)
    url = template.format(z=tile.z, x=tile.x, y=tile.y)
    assert url.startswith(f"{base}/features/collections/{COLLECTION}/tiles/")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.mapbox-vector-tile")
    assert len(response.content) > 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # SwiftShader gives headless chromium the WebGL 2 that MapLibre draws with.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--enable-unsafe-swiftshader", "--use-angle=swiftshader"]
        )
        yield launched
        launched.close()


def watched(browser: Browser, base: str) -> tuple[Page, list[str]]:
    """A page that records console errors, uncaught exceptions, dialogs and CSP violations."""
    context = browser.new_context(base_url=base)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(_where(message)))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append(f"dialog {dialog.message}"), dialog.dismiss()))
    return page, problems


def _where(message: ConsoleMessage) -> str:
    return f"{message.text} ({message.location['url']})"


def violations(page: Page) -> list[str]:
    return page.evaluate("window.violations")


def test_the_ui_maps_and_docs_work_under_the_policy_and_tipg_markup_runs_nowhere(
    served: httpx.Client, keys: dict[Role, str], browser: Browser
) -> None:
    page, problems = watched(browser, str(served.base_url))
    page.goto("/interface/login")
    page.fill("input[name=key]", keys[Role.admin])
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")
    page.goto("/interface/health")
    expect(page.locator("#health table")).to_contain_text("database")  # htmx polled it in
    assert violations(page) == []
    page.goto(f"/interface/catalog/features/{COLLECTION}")
    expect(page.locator("#viewer-map")).to_have_attribute("data-rendered", "true", timeout=30_000)
    assert violations(page) == []
    for path in DOCS:
        page.goto(path)
        expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
        assert violations(page) == [], path
    assert [problem for problem in problems if not problem.endswith("/favicon.ico)")] == []

    # tipg's page: its inline scripts and CDN assets are blocked, the stored markup never runs.
    page.goto(f"/features/collections/{COLLECTION}/items?f=html")
    expect(page.locator("table").first).to_be_visible()
    assert not any(problem.startswith("dialog") for problem in problems)
    assert any(violation.startswith("script-src") for violation in violations(page))
    assert page.locator("img[src=x]").count() == 0
