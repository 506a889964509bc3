"""STAC API and raster tiles over approved raster releases, read by real clients, under one rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import morecantile
import pytest
from pystac_client import Client
from rasterio.io import MemoryFile

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.integration.raster import files

# files.rgb is placed in EPSG:32633 near (15.08 E, 36.08 N).
BBOX = [14.9, 35.9, 15.3, 36.3]


def publish_raster(
    api: httpx.Client, keys: dict[Role, str], file: Path, resource: str, access: str, **extra: object
) -> str:
    upload(api, keys[Role.submitter], file, f"imagery/{file.name}")
    body = {"resource_id": resource, "access_level": access, **extra}
    submitted = submit(api, keys[Role.submitter], f"imagery/{file.name}", **body)
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, keys[Role.submitter], submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200
    return submitted.json()["release_id"]


@pytest.fixture
def rasters(platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path) -> dict[str, str]:
    """A public and an ouo raster release of dataset `floods`."""
    return {
        access: publish_raster(
            platform_api, keys, files.rgb(tmp_path / f"{access}.tif", size=300), access, access
        )
        for access in ("public", "ouo")
    }


def search_ids(api: httpx.Client, headers: dict[str, str] | None = None) -> list[str]:
    client = Client.open(str(api.base_url.join("/stac")), headers=headers or {})
    return sorted(item.id for item in client.search(bbox=BBOX, collections=["floods"]).items())


def test_pystac_client_searches_by_bbox_and_collection_seeing_only_what_it_may(
    platform_api: httpx.Client, keys: dict[Role, str], rasters: dict[str, str]
) -> None:
    assert search_ids(platform_api) == ["floods-public-v1"]
    assert search_ids(platform_api, bearer(keys[Role.reader])) == ["floods-ouo-v1", "floods-public-v1"]
    elsewhere = Client.open(str(platform_api.base_url.join("/stac"))).search(
        bbox=[0, 0, 1, 1], collections=["floods"]
    )
    assert list(elsewhere.items()) == []
    anonymous = platform_api.get("/stac/collections/floods/items/floods-ouo-v1")
    assert anonymous.status_code == 404

    body = {"release_id": rasters["public"], "reason": "superseded"}
    assert (
        platform_api.post("/api/platform/revoke", json=body, headers=bearer(keys[Role.reviewer])).status_code
        == 200
    )
    assert search_ids(platform_api) == []


def test_a_tile_of_a_served_item_is_a_png_of_the_right_size(
    platform_api: httpx.Client, keys: dict[Role, str], rasters: dict[str, str]
) -> None:
    status = platform_api.get(
        f"/api/platform/status/{rasters['public']}", headers=bearer(keys[Role.reader])
    ).json()
    (service,) = status["services"]
    tilejson = platform_api.get(service["tilejson"] + "&tilesize=256")
    assert tilejson.status_code == 200, tilejson.text
    z = tilejson.json()["maxzoom"]
    url = tilejson.json()["tiles"][0]
    x, y = _tile_at(15.08, 36.08, z)
    tile = platform_api.get(url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    with MemoryFile(tile.content) as memory, memory.open() as png:
        assert (png.driver, png.width, png.height) == ("PNG", 256, 256)
    hidden = platform_api.get(
        f"/tiles/collections/floods/items/floods-ouo-v1/tiles/WebMercatorQuad/{z}/{x}/{y}"
    )
    assert hidden.status_code == 404


def _tile_at(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
    return tile.x, tile.y


def test_draft_cogs_preview_for_reviewers_only(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    upload(
        platform_api, keys[Role.submitter], files.rgb(tmp_path / "draft.tif", size=300), "imagery/draft.tif"
    )
    submitted = submit(platform_api, keys[Role.submitter], "imagery/draft.tif", resource_id="draft")
    status = wait_done(platform_api, keys[Role.submitter], submitted.json()["request_id"])
    (draft,) = status["services"]
    assert platform_api.get(draft["preview"]).status_code == 401
    assert platform_api.get(draft["preview"], headers=bearer(keys[Role.reader])).status_code == 403
    preview = platform_api.get(draft["preview"], headers=bearer(keys[Role.reviewer]))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"


def test_stac_api_validator_passes_core_and_item_search(
    platform_api: httpx.Client, rasters: dict[str, str]
) -> None:
    validator = Path(sys.executable).with_name("stac-api-validator")
    area = {
        "type": "Polygon",
        "coordinates": [[[14.9, 35.9], [15.3, 35.9], [15.3, 36.3], [14.9, 36.3], [14.9, 35.9]]],
    }
    command = [str(validator), "--root-url", str(platform_api.base_url.join("/stac"))]
    command += ["--conformance", "core", "--conformance", "item-search", "--collection", "floods"]
    command += ["--geometry", json.dumps(area)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Errors: none" in run.stdout, run.stdout


def test_a_restricted_raster_is_found_only_by_the_roles_granted_it(
    platform_api: httpx.Client, keys: dict[Role, str], tmp_path: Path
) -> None:
    scene = files.rgb(tmp_path / "restricted.tif", size=300)
    publish_raster(platform_api, keys, scene, "secret", "restricted", granted_roles=["reviewer"])
    assert search_ids(platform_api, bearer(keys[Role.reader])) == []
    assert search_ids(platform_api, bearer(keys[Role.reviewer])) == ["floods-secret-v1"]
    collection = platform_api.get("/stac/collections/floods", headers=bearer(keys[Role.reviewer])).json()
    assert collection["terrace:granted_roles"] == ["reviewer"]
