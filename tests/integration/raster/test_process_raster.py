"""process_raster end to end: every kind becomes a valid COG with its metadata row and STAC item."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from terrace.storage import Storage
from tests.integration.raster import files
from tests.integration.raster.jobs import cog_rows, run, stac_item_count

pytestmark = pytest.mark.usefixtures("worker")

KINDS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("rgb", files.rgb, "deflate"),
    ("rgba", files.rgba, "deflate"),
    ("dem", files.dem, "deflate"),
    ("continuous", files.continuous, "deflate"),
    ("categorical", files.categorical, "deflate"),
    ("multispectral", files.multispectral, "deflate"),
]


@pytest.mark.parametrize(("kind", "make", "compression"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_becomes_a_valid_cog_in_epsg_4326(
    database_url: str,
    storage: Storage,
    tmp_path: Path,
    kind: str,
    make: Callable[[Path], Path],
    compression: str,
) -> None:
    job = run(database_url, storage, make(tmp_path / f"{kind}.tif"))

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    cog = storage.local_path("silver", row["path"])
    assert cog is not None and cog_validate(str(cog), quiet=True)[0]
    with rasterio.open(cog) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.block_shapes[0] == (512, 512) and ds.overviews(1)
        assert ds.compression.name.lower() == compression
    assert (row["kind"], row["epsg"], row["compression"]) == (kind, 4326, compression)
    assert row["path"] == f"cogs/floods/jakarta/ord1-r1/{kind}.tif"
    assert row["sha256"] and row["statistics"][0]["valid_percent"] > 50
    assert storage.exists("silver", row["thumbnail_path"])
    item = job["result"]["outputs"]["stac"]["items"][0]
    assert item["id"] == "floods-jakarta-draft" and item["collection"] == "floods"
    assert item["properties"]["app:published"] is False
    assert item["properties"]["proj:code"] == "EPSG:4326"
    assert set(item["assets"]) == {"data", "thumbnail"}
    assert item["assets"]["data"]["raster:bands"][0]["statistics"]["minimum"] is not None
    assert stac_item_count(database_url) == 0  # pgSTAC gets the item at approval only


def test_a_dem_whose_nodata_is_nan_keeps_it(database_url: str, storage: Storage, tmp_path: Path) -> None:
    job = run(database_url, storage, files.dem(tmp_path / "dem.tif", nodata=float("nan")))

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    cog = storage.local_path("silver", row["path"])
    with rasterio.open(cog) as ds:
        assert ds.nodata is not None and ds.nodata != ds.nodata  # NaN


def test_a_band_that_is_all_nodata_leaves_the_other_bands_valid(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """A pixel is nodata only where every band is (GDAL's dataset mask), so a raster with one
    empty band is not 'almost empty'; each band's statistics count its own valid pixels."""
    data = (files.smooth(np.random.default_rng(8), (128, 128)) * 200 + 20).astype("uint8")
    bands = np.stack([data, data, np.zeros_like(data)])
    bands[:, :, :64] = 0
    job = run(database_url, storage, files.write(tmp_path / "snow.tif", bands, nodata=0), target_crs="native")

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    assert [s["valid_percent"] for s in row["statistics"]] == [50.0, 50.0, 0.0]


def test_a_float64_raster_stays_float64(database_url: str, storage: Storage, tmp_path: Path) -> None:
    """GDAL writes it, titiler serves it: narrowing it to float32 would change its values."""
    values = files.smooth(np.random.default_rng(9), (128, 128)) * 1e-9 + 1.0  # needs double precision
    job = run(database_url, storage, files.write(tmp_path / "f64.tif", values[np.newaxis], nodata=-9999.0))

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    assert row["dtype"] == "float64"


def test_a_raster_across_the_antimeridian_keeps_its_resolution(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """Fiji in EPSG:3460 spans 176.8°E to 179.3°W: its COG runs on past 180° at about the source's
    resolution, instead of GDAL's default grid of a few rows smeared from -180 to 180."""
    fiji = files.dem(
        tmp_path / "fiji.tif",
        size=200,
        transform=from_origin(1_800_000, 4_000_000, 2000, 2000),
        crs="EPSG:3460",
    )
    job = run(database_url, storage, fiji)

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    west, south, east, north = row["bbox"]
    assert 176.8 < west < 176.9 and 180.6 < east < 180.7 and -20.7 < south and north < -16.9
    assert row["height"] > 150 and row["width"] > 150
    west, _, east, _ = row["bbox_4326"]
    assert 176.8 < west and east < -179.3  # a STAC bbox across the antimeridian: west > east
    assert row["footprint"]["type"] == "MultiPolygon"
