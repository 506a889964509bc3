"""The platform on each storage backend, local folders and Azure Blob (Azurite): what a user
uploads and what Terrace writes are objects there, served from there, and gone when unpublished."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import obstore
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from terrace.auth import Role
from terrace.storage import Storage
from tests.conftest import STORAGE_BACKENDS, bearer
from tests.e2e.catalog.test_consistency import check
from tests.e2e.platform.client import approve, submit, upload, wait_done
from tests.e2e.platform.test_shapefiles import COUNT, write_tracts
from tests.integration.raster import files
from tests.integration.raster.jobs import run
from tests.security.test_sessions import sign_in

pytestmark = STORAGE_BACKENDS
PNG = b"\x89PNG\r\n\x1a\n"
TILE = "tiles/WebMercatorQuad/14/13053/8475.png"  # inside the raster below, near Jakarta


def objects(storage: Storage, container: str) -> list[str]:
    """What the container holds, as its object store lists it (Azurite's blob listing)."""
    return sorted(item["path"] for batch in obstore.list(storage.store(container)) for item in batch)


def world_file_raster(folder: Path) -> Path:
    """A plain TIFF placed only by its sidecars: a .tfw world file and a .tif.aux.xml with the CRS."""
    folder.mkdir(exist_ok=True)
    path = folder / "jakarta.tif"
    ramp = np.add.outer(np.arange(256), np.arange(256)).astype("uint8")[None]
    profile = {"driver": "GTiff", "width": 256, "height": 256, "count": 1, "dtype": "uint8"}
    with rasterio.open(
        path,
        "w",
        **profile,
        crs="EPSG:4326",
        transform=from_origin(106.75, -6.15, 0.0005, 0.0005),
        PROFILE="BASELINE",  # no GeoTIFF tags: the georeferencing goes to the sidecars
        TFW="YES",
    ) as dataset:
        dataset.write(ramp)
    assert {p.name for p in folder.iterdir()} == {"jakarta.tif", "jakarta.tfw", "jakarta.tif.aux.xml"}
    return path


def test_a_shapefile_with_its_sidecars_is_stored_loaded_and_served(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    api, submitter = platform_api, keys[Role.submitter]
    shp = write_tracts(tmp_path / "data")
    for file in sorted(shp.parent.iterdir()):
        upload(api, submitter, file, f"census/{file.name}")
    assert objects(storage, "bronze") == [
        f"census/Tracts{suffix}" for suffix in (".cpg", ".dbf", ".prj", ".shp", ".shx")
    ]
    submitted = submit(api, submitter, "census/Tracts.shp", dataset_id="census", resource_id="tracts")
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, submitter, submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    assert approve(api, keys[Role.reviewer], submitted.json()["release_id"]).status_code == 200

    items = api.get("/features/collections/census_tracts_v1/items", params={"limit": 100}).json()
    assert items["numberReturned"] == COUNT
    assert sorted(f["properties"]["name"] for f in items["features"]) == sorted(
        f"tract {n}" for n in range(COUNT)
    )


def test_a_raster_placed_by_sidecars_is_tiled_previewed_and_unpublished_from_storage(
    platform_api: httpx.Client, keys: dict[Role, str], storage: Storage, tmp_path: Path
) -> None:
    api, submitter, reviewer = platform_api, keys[Role.submitter], keys[Role.reviewer]
    tif = world_file_raster(tmp_path / "data")
    for file in sorted(tif.parent.iterdir()):
        upload(api, submitter, file, f"imagery/{file.name}")
    submitted = submit(api, submitter, "imagery/jakarta.tif")
    assert submitted.status_code == 202, submitted.text
    status = wait_done(api, submitter, submitted.json()["request_id"])
    assert status["job"]["status"] == "awaiting_approval", status
    release = submitted.json()["release_id"]

    (cog,) = status["outputs"]["cogs"]
    written = objects(storage, "silver")
    assert cog["path"] in written and any(p.endswith(".png") for p in written)
    with MemoryFile(storage.get("silver", cog["path"])) as memory, memory.open() as ds:
        assert ds.crs.to_epsg() == 4326 and ds.driver == "GTiff"  # placed by the .tfw and .aux.xml
        assert abs(ds.bounds.left - 106.75) < 1e-6 and abs(ds.bounds.top + 6.15) < 1e-6

    preview = api.get(f"/tiles/drafts/releases/{release}/cogs/0/preview.png", headers=bearer(reviewer))
    assert preview.status_code == 200, preview.text
    assert preview.content.startswith(PNG)
    assert sign_in(api, reviewer).status_code == 303
    thumbnail = api.get(f"/interface/review/{release}/thumbnails/0.png")
    assert thumbnail.status_code == 200 and thumbnail.content.startswith(PNG)

    assert approve(api, reviewer, release).status_code == 200
    item = "/tiles/collections/floods/items/floods-jakarta-v1"
    tile = api.get(f"{item}/{TILE}", params={"assets": "data"})
    assert tile.status_code == 200, tile.text
    assert tile.content.startswith(PNG)

    revoked = api.post(
        "/api/platform/revoke", json={"release_id": release, "reason": "checked"}, headers=bearer(reviewer)
    )
    assert revoked.status_code == 200, revoked.text
    removed = api.post(
        "/api/platform/unpublish", json={"release_id": release, "dry_run": False}, headers=bearer(reviewer)
    )
    assert removed.status_code == 200, removed.text
    assert not [p for p in objects(storage, "silver") if p.startswith("cogs/")]
    assert api.get(f"{item}/{TILE}", params={"assets": "data"}).status_code == 404

    # The catalog check lists the container: nothing is left over, and a stray object is found.
    storage.put("silver", "cogs/nobody/stray.tif", b"left behind")
    assert check(api, keys[Role.admin]) == [("orphan_blob", "silver/cogs/nobody/stray.tif", None)]


def test_a_large_raster_is_cut_into_tiles_each_read_in_ranges_whose_mosaic_is_the_source(
    database_url: str, storage: Storage, worker: None, tmp_path: Path
) -> None:
    pixels = (files.smooth(np.random.default_rng(7), (1100, 1300)) * 900).astype("float32")[np.newaxis]
    source = files.write(tmp_path / "big.tif", pixels, nodata=-9999.0)
    job = run(database_url, storage, source, target_crs="native", tile_threshold_bytes=1, tile_size=512)

    assert job["status"] == "completed", job["error"]
    assert len([p for p in objects(storage, "silver") if p.endswith(".tif")]) == 9
    mosaic = job["result"]["outputs"]["mosaic"]["path"]
    with rasterio.Env(**storage.gdal_options), rasterio.open(storage.gdal_path("silver", mosaic)) as ds:
        assert np.array_equal(ds.read(), pixels)
