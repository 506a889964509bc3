"""Large rasters become tiles with a mosaic; several files become one collection; COGs stay as they are."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import psycopg
import pytest
import rasterio
import rasterio.shutil
from psycopg.rows import dict_row
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from terrace.ingest.raster.outputs import staged
from terrace.orchestration.machine import CoreMachine
from terrace.pipelines import default_registry
from terrace.storage import Storage
from tests.integration.raster import files
from tests.integration.raster.jobs import cog_rows, run, silver_files
from tests.workers import wait_for_job

pytestmark = pytest.mark.usefixtures("worker")
TILED = {"tile_threshold_bytes": 1, "tile_size": 512, "tile_overlap": 64}


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read()


def test_a_large_raster_becomes_tiles_whose_mosaic_is_the_source(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    source = files.write(
        tmp_path / "big.tif",
        (files.smooth(np.random.default_rng(7), (1100, 1300)) * 900).astype("float32")[np.newaxis],
        nodata=-9999.0,
    )
    job = run(database_url, storage, source, target_crs="native", **TILED)

    assert job["status"] == "completed", job["error"]
    rows = cog_rows(database_url)
    assert [r["part"] for r in rows] == [f"r{r:03d}_c{c:03d}" for r in range(3) for c in range(3)]
    for row in rows:
        assert cog_validate(str(storage.local_path("silver", row["path"])), quiet=True)[0]
        assert row["width"] <= 512 and row["height"] <= 512
    mosaic = job["result"]["outputs"]["mosaic"]
    assert np.array_equal(read(storage.local_path("silver", mosaic["path"])), read(source))
    stac = job["result"]["outputs"]["stac"]
    assert [i["id"] for i in stac["items"]][:2] == [
        "floods-jakarta-draft-r000_c000",
        "floods-jakarta-draft-r000_c001",
    ]
    assert stac["collection"]["assets"]["mosaic"]["href"].endswith(
        "/silver/cogs/floods/jakarta/ord1-r1/mosaic.vrt"
    )
    assert "TILED" in {w["code"] for w in job["result"]["warnings"]}


def test_tiles_of_a_reprojected_raster_cover_the_warped_grid(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, files.rgb(tmp_path / "photo.tif", size=900), **TILED)

    assert job["status"] == "completed", job["error"]
    rows = cog_rows(database_url)
    assert len(rows) > 1 and all(r["epsg"] == 4326 and r["band_count"] == 4 for r in rows)  # alpha added
    with rasterio.open(storage.local_path("silver", job["result"]["outputs"]["mosaic"]["path"])) as mosaic:
        assert mosaic.crs.to_epsg() == 4326 and mosaic.count == 4
        assert mosaic.read(4).mean() > 100  # mostly opaque: the tiles fill the mosaic


def test_a_collection_of_files_becomes_one_stac_collection(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    tiles = [
        files.dem(tmp_path / f"sheet_{i}.tif", transform=from_origin(500_000 + i * 15_360, 4_000_000, 30, 30))
        for i in range(3)
    ]
    job = run(database_url, storage, *tiles, collection_id="elevation")

    assert job["status"] == "completed", job["error"]
    stac = job["result"]["outputs"]["stac"]
    assert [i["id"] for i in stac["items"]] == [f"floods-jakarta-draft-sheet_{i}" for i in range(3)]
    assert {i["collection"] for i in stac["items"]} == {"elevation"} and stac["collection"][
        "id"
    ] == "elevation"
    west, _, east, _ = stac["collection"]["extent"]["spatial"]["bbox"][0]
    assert east - west > 0.4  # the three sheets side by side
    assert len(cog_rows(database_url)) == 3 and job["result"]["outputs"]["mosaic"]


def test_a_valid_cog_in_the_target_crs_is_registered_without_rewriting(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    plain = files.rgb(
        tmp_path / "plain.tif", size=600, crs="EPSG:4326", transform=from_origin(106, -6, 1e-4, 1e-4)
    )
    cog = tmp_path / "ready.tif"
    rasterio.shutil.copy(plain, cog, driver="COG", BLOCKSIZE=512, COMPRESS="DEFLATE")
    job = run(database_url, storage, cog)

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    assert row["rewritten"] is False
    assert row["sha256"] == hashlib.sha256(cog.read_bytes()).hexdigest()
    assert "REGISTERED_AS_IS" in {w["code"] for w in job["result"]["warnings"]}


@pytest.mark.parametrize(("tier", "compression"), [("visualization", "jpeg"), ("archive", "zstd")])
def test_tiers_choose_the_compression(
    database_url: str, storage: Storage, tmp_path: Path, tier: str, compression: str
) -> None:
    job = run(database_url, storage, files.rgb(tmp_path / "photo.tif"), tier=tier)

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    assert row["compression"] == compression
    assert cog_validate(str(storage.local_path("silver", row["path"])), quiet=True)[0]


def test_the_visualization_tier_refuses_what_is_not_8_bit_imagery(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, files.dem(tmp_path / "dem.tif"), tier="visualization")

    assert job["status"] == "failed"
    assert "the visualization tier compresses 8-bit RGB imagery lossily" in job["error"]["message"]
    assert silver_files(storage) == []


def test_a_rerun_replaces_its_outputs_without_leftovers(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    first = run(database_url, storage, files.dem(tmp_path / "dem.tif"))
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        CoreMachine(default_registry(), storage).resubmit(conn, first["job_id"])
    again = wait_for_job(database_url, first["job_id"], statuses={"completed", "failed"})

    assert again["status"] == "completed", again["error"]
    assert len(cog_rows(database_url)) == 1
    assert silver_files(storage) == [
        "cogs/floods/jakarta/ord1-r1/dem.thumbnail.png",
        "cogs/floods/jakarta/ord1-r1/dem.tif",
    ]


def test_a_failed_write_leaves_neither_staging_nor_final_object(storage: Storage) -> None:
    with pytest.raises(RuntimeError), staged(storage, "silver", "cogs/x/out.tif", "attempt1") as local:
        local.write_bytes(b"half a COG")
        raise RuntimeError("killed mid-write")

    assert silver_files(storage) == []
