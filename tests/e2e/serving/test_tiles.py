"""Raster tiles under /tiles over pgSTAC items pointing at a COG, behind the visibility rule."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from terrace.auth import Role
from tests.conftest import bearer
from tests.e2e.serving.stac_data import BBOX, collection, item, load

# Jakarta at zoom 10: tile x=815, y=529 lies inside BBOX.
TILE = "tiles/WebMercatorQuad/10/815/529"


def write_cog(path: Path) -> Path:
    """A 512×512 one-band uint8 COG over BBOX in EPSG:4326, a west-east ramp."""
    data = np.tile(np.arange(512, dtype=np.uint16) // 2, (512, 1)).astype("uint8")[np.newaxis]
    profile = {
        "driver": "GTiff",
        "width": 512,
        "height": 512,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": from_bounds(*BBOX, 512, 512),
    }
    with MemoryFile() as memory, memory.open(**profile) as source:
        source.write(data)
        rasterio.shutil.copy(source, path, driver="COG")
    return path


@pytest.fixture
def tiles_api(api: httpx.Client, database_url: str, tmp_path: Path) -> httpx.Client:
    href = str(write_cog(tmp_path / "ramp.tif"))
    load(
        database_url,
        [collection("open", "public"), collection("internal", "ouo")],
        [item("open", 0, "public", href), item("internal", 0, "ouo", href)],
    )
    return api


def test_item_tile_is_a_png_of_the_right_size(tiles_api: httpx.Client) -> None:
    tile = tiles_api.get(f"/tiles/collections/open/items/open-0/{TILE}.png", params={"assets": "data"})
    assert tile.status_code == 200, tile.text
    assert tile.headers["content-type"] == "image/png"
    with MemoryFile(tile.content) as memory, memory.open() as image:
        assert (image.width, image.height) == (256, 256)


def test_item_tilejson_point_and_statistics(tiles_api: httpx.Client) -> None:
    base = "/tiles/collections/open/items/open-0"
    tilejson = tiles_api.get(f"{base}/WebMercatorQuad/tilejson.json", params={"assets": "data"})
    assert tilejson.status_code == 200, tilejson.text
    assert tilejson.json()["tiles"][0].startswith(f"{tiles_api.base_url}{base}/tiles/WebMercatorQuad/")
    point = tiles_api.get(f"{base}/point/106.8,-6.2", params={"assets": "data"})
    assert point.status_code == 200, point.text
    statistics = tiles_api.get(f"{base}/statistics", params={"assets": "data"})
    assert statistics.status_code == 200, statistics.text
    preview = tiles_api.get(f"{base}/preview.png", params={"assets": "data", "max_size": 128})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"


def test_collection_mosaic_tile(tiles_api: httpx.Client) -> None:
    tile = tiles_api.get(f"/tiles/collections/open/{TILE}.png", params={"assets": "data"})
    assert tile.status_code == 200, tile.text
    assert tile.headers["content-type"] == "image/png"


def test_anonymous_never_tiles_ouo(tiles_api: httpx.Client, keys: dict[Role, str]) -> None:
    api = tiles_api
    item_tile = f"/tiles/collections/internal/items/internal-0/{TILE}.png"
    assert api.get(item_tile, params={"assets": "data"}).status_code == 404
    assert api.get(f"/tiles/collections/internal/{TILE}.png", params={"assets": "data"}).status_code == 404
    reader = bearer(keys[Role.reader])
    assert api.get(item_tile, params={"assets": "data"}, headers=reader).status_code == 200
