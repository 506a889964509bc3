"""Cache headers, validators and compression of the served APIs, as a browser or a CDN sees them."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import httpx
import morecantile
import pytest

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.data import write_points
from tests.e2e.serving.test_features import publish
from tests.e2e.serving.test_stac_and_tiles import BBOX, publish_raster
from tests.integration.raster import files

IMMUTABLE = "public, max-age=31536000, immutable"
CURRENT = "public, max-age=60"
V1_ITEMS = "/features/collections/floods_jakarta_v1/items?limit=50"
LATEST_ITEMS = "/features/collections/floods_jakarta_latest/items?limit=50"
V1_TILE = "/features/collections/floods_jakarta_v1/tiles/WebMercatorQuad/10/815/529"
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def served(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> str:
    """A public 120-point release served as floods_jakarta_v1 (and _latest); its release id."""
    return publish(platform_api, keys, write_points(tmp_path / "points.gpkg", 120), "jakarta", "public")


def raw(api: httpx.Client, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, not decoded."""
    with api.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def rows(response: httpx.Response) -> list[tuple[object, object]]:
    """The features of a page without their links, which name the collection."""
    return [(f["geometry"], f["properties"]) for f in response.json()["features"]]


def vary(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")}


def test_each_kind_of_answer_gets_its_cache_headers(
    platform_api: httpx.Client, keys: dict[Role, str], served: str
) -> None:
    api = platform_api
    expected = {
        V1_ITEMS: IMMUTABLE,
        "/features/collections/floods_jakarta_v1": IMMUTABLE,
        V1_TILE: IMMUTABLE,
        LATEST_ITEMS: CURRENT,
        "/features/collections": CURRENT,
        "/stac/search?collections=floods": CURRENT,
        "/stac/collections": CURRENT,
    }
    for path, cache_control in expected.items():
        response = api.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == cache_control, path
        assert response.headers.get("etag", "").startswith('"'), (path, response.headers)  # strong
        assert {"authorization", "accept-encoding"} <= vary(response), path

    reader = bearer(keys[Role.reader])
    assert api.get(V1_ITEMS, headers=reader).headers["cache-control"] == (
        "private, max-age=31536000, immutable"
    )
    assert api.get(LATEST_ITEMS, headers=reader).headers["cache-control"] == "private, max-age=60"

    for path in (
        "/features/collections/floods_nowhere_v1/items",
        "/features/collections/floods_jakarta_v1/items?bbox=1,2,3",
        "/features/collections/floods_jakarta_v1/items?filter=nope%20%3E%201",
        "/stac/collections/nowhere",
    ):
        error = api.get(path)
        assert error.status_code in (400, 404), (path, error.text)
        assert error.headers["cache-control"] == "no-store" and "etag" not in error.headers, path
    refused = api.get(V1_ITEMS, headers=bearer("not-a-key"))
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"


def test_a_revalidation_answers_304_and_every_coding_decodes_to_the_same_body(
    platform_api: httpx.Client, served: str
) -> None:
    api = platform_api
    for path in (V1_ITEMS, V1_TILE):
        plain, body = raw(api, path, IDENTITY)
        assert "content-encoding" not in plain.headers and len(body) > 512
        tags = {plain.headers["etag"]}
        for coding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
            encoded, sent = raw(api, path, {"Accept-Encoding": coding})
            assert encoded.headers["content-encoding"] == coding
            assert int(encoded.headers["content-length"]) == len(sent) < len(body)
            assert decode(sent) == body
            tags.add(encoded.headers["etag"])
            again = api.get(
                path, headers={"Accept-Encoding": coding, "If-None-Match": encoded.headers["etag"]}
            )
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == encoded.headers["etag"]
            assert again.headers["cache-control"] == IMMUTABLE
        assert len(tags) == 3, "each coding is its own representation, with its own strong ETag"

        not_modified = api.get(path, headers={**IDENTITY, "If-None-Match": f'"x", {plain.headers["etag"]}'})
        assert not_modified.status_code == 304
        # The identity's ETag does not validate the gzip representation.
        other = api.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]})
        assert other.status_code == 200 and other.headers["content-encoding"] == "gzip"

    # Brotli only where the client asks for it; gzip otherwise.
    browser = api.get(V1_ITEMS, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert browser.headers["content-encoding"] == "br"
    assert (
        api.get(V1_ITEMS, headers={"Accept-Encoding": "gzip, br;q=0.5"}).headers["content-encoding"] == "gzip"
    )


def test_the_latest_etag_follows_a_new_version_and_the_old_version_keeps_its_own(
    platform_api: httpx.Client, keys: dict[Role, str], served: str, tmp_path: Path
) -> None:
    api = platform_api
    first_latest = api.get(LATEST_ITEMS, headers=IDENTITY)
    first_v1 = api.get(V1_ITEMS, headers=IDENTITY)
    assert rows(first_latest) == rows(first_v1)

    publish(api, keys, write_points(tmp_path / "points2.gpkg", 80), "jakarta", "public")
    moved = api.get(LATEST_ITEMS, headers={**IDENTITY, "If-None-Match": first_latest.headers["etag"]})
    assert moved.status_code == 200 and moved.json()["numberMatched"] == 80
    assert moved.headers["etag"] != first_latest.headers["etag"]
    v2 = api.get("/features/collections/floods_jakarta_v2/items?limit=50")
    assert rows(moved) == rows(v2)
    kept = api.get(V1_ITEMS, headers={**IDENTITY, "If-None-Match": first_v1.headers["etag"]})
    assert kept.status_code == 304


def test_stac_items_their_tiles_and_assets_are_immutable_and_images_are_not_recompressed(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    publish_raster(api, keys, files.rgb(tmp_path / "rgb.tif", size=300), "rgb", "public")
    item = "/stac/collections/floods/items/floods-rgb-v1"
    tilejson = "/tiles/collections/floods/items/floods-rgb-v1/WebMercatorQuad/tilejson.json?assets=data"
    for path in (item, tilejson, f"{item}/assets/data"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == IMMUTABLE, path
    tiles = api.get(tilejson + "&tilesize=256").json()
    tile = morecantile.tms.get("WebMercatorQuad").tile(15.08, 36.08, tiles["maxzoom"])
    url = tiles["tiles"][0].format(z=tile.z, x=tile.x, y=tile.y)
    png = api.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert "content-encoding" not in png.headers and png.headers["cache-control"] == IMMUTABLE
    assert api.get(url, headers={"If-None-Match": png.headers["etag"]}).status_code == 304

    mosaic = api.get("/tiles/collections/floods/WebMercatorQuad/tilejson.json?assets=data")
    assert mosaic.status_code == 200 and mosaic.headers["cache-control"] == CURRENT
    search = api.post("/stac/search", json={"bbox": BBOX}, headers={"Accept-Encoding": "gzip"})
    assert search.status_code == 200 and search.headers["cache-control"] == "no-store"
    assert search.headers["content-encoding"] == "gzip" and "etag" not in search.headers


def tile_cache_count(api: httpx.Client, keys: dict[Role, str], outcome: str) -> float:
    """How often the API's tile cache was asked and answered `outcome`, from /metrics."""
    scraped = api.get("/metrics", headers=bearer(keys[Role.admin]))
    assert scraped.status_code == 200, scraped.text
    sample = f'terrace_tile_cache_requests_total{{outcome="{outcome}"}} '
    return next(
        (float(line.removeprefix(sample)) for line in scraped.text.splitlines() if line.startswith(sample)),
        0.0,
    )


def test_a_versions_tiles_are_kept_yet_each_request_passes_the_visibility_rule_first(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    api = platform_api
    release = publish(api, keys, write_points(tmp_path / "kept.gpkg", 120), "kept", "ouo")
    reader = bearer(keys[Role.reader])
    tile = "/features/collections/floods_kept_v1/tiles/WebMercatorQuad/10/815/529"
    hits, misses = tile_cache_count(api, keys, "hit"), tile_cache_count(api, keys, "miss")

    made = api.get(tile, headers=reader)
    kept = api.get(tile, headers=reader)
    assert made.status_code == kept.status_code == 200
    assert kept.content == made.content and len(made.content) > 100
    assert tile_cache_count(api, keys, "miss") == misses + 1
    assert tile_cache_count(api, keys, "hit") == hits + 1

    # A tile with options is made afresh; the alias, which moves with new versions, is never kept.
    assert api.get(tile, params={"limit": 5}, headers=reader).status_code == 200
    latest = api.get(tile.replace("_v1", "_latest"), headers=reader)
    assert latest.status_code == 200 and latest.content == made.content
    assert tile_cache_count(api, keys, "hit") == hits + 1
    assert tile_cache_count(api, keys, "miss") == misses + 1

    # The kept tile is no one's who may not see the version: anonymous callers, or anyone once revoked.
    assert api.get(tile).status_code == 404
    body = {"release_id": release, "reason": "withdrawn"}
    assert api.post("/api/platform/revoke", json=body, headers=bearer(keys[Role.reviewer])).status_code == 200
    assert api.get(tile, headers=reader).status_code == 404
    assert tile_cache_count(api, keys, "hit") == hits + 1
