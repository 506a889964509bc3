"""Bad rasters fail with a message naming the file and the fix, and leave nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.transform import Affine

from terrace.storage import Storage
from tests.integration.raster import files
from tests.integration.raster.jobs import cog_rows, run, silver_files, stac_item_count

pytestmark = pytest.mark.usefixtures("worker")


def not_a_raster(folder: Path) -> list[Path]:
    path = folder / "notes.tif"
    path.write_text("name,value\nriver,3\n")
    return [path]


def truncated(folder: Path) -> list[Path]:
    path = files.dem(folder / "cut.tif")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


def zero_size(folder: Path) -> list[Path]:
    path = folder / "empty.tif"
    path.touch()
    return [path]


def no_crs(folder: Path) -> list[Path]:
    return [files.dem(folder / "nowhere.tif", crs=None)]


def of_type(dtype: str) -> Callable[[Path], list[Path]]:
    def make(folder: Path) -> list[Path]:
        return [files.write(folder / f"{dtype}.tif", np.ones((1, 64, 64), dtype=dtype))]

    return make


def almost_empty(folder: Path) -> list[Path]:
    data = np.full((1, 256, 256), -9999.0, dtype="float32")
    data[0, :10, :10] = 12.5
    return [files.write(folder / "empty_dem.tif", data, nodata=-9999.0)]


def nodata_inside_data(folder: Path) -> list[Path]:
    """A coastal DEM with nodata 0 while its heights run from below to above sea level."""
    return [files.dem(folder / "coast.tif", nodata=0.0, low=-20.0)]


def nodata_not_a_value_of_the_type(folder: Path) -> list[Path]:
    return [files.write(folder / "counts.tif", np.ones((1, 64, 64), dtype="uint16"), nodata=1.5)]


def vrt_named_tif(folder: Path) -> list[Path]:
    """A VRT reads whatever files it names, here one outside bronze; it must not be published."""
    secret = files.dem(folder / "outside" / "secret.tif")
    vrt = folder / "innocent.tif"
    vrt.write_text(
        '<VRTDataset rasterXSize="64" rasterYSize="64"><SRS>EPSG:32633</SRS>'
        "<GeoTransform>500000, 30, 0, 4000000, 0, -30</GeoTransform>"
        '<VRTRasterBand dataType="Float32" band="1"><SimpleSource>'
        f"<SourceFilename>{secret}</SourceFilename><SourceBand>1</SourceBand>"
        "</SimpleSource></VRTRasterBand></VRTDataset>"
    )
    return [vrt]


def on_mars(folder: Path) -> list[Path]:
    mars = "+proj=eqc +lat_ts=0 +lon_0=0 +a=3396190 +b=3396190 +units=m +no_defs"
    return [files.dem(folder / "gale.tif", size=64, crs=mars, transform=Affine(200, 0, 8e6, 0, -200, -3e5))]


def absurd_values(folder: Path) -> list[Path]:
    data = np.full((1, 128, 128), 100.0, dtype="float32")
    data[0, :64] = -3.4e38
    return [files.write(folder / "absurd.tif", data)]


def mixed_crs(folder: Path) -> list[Path]:
    return [files.dem(folder / "a.tif"), files.dem(folder / "b.tif", crs="EPSG:32634")]


def mixed_band_counts(folder: Path) -> list[Path]:
    return [files.rgb(folder / "a.tif"), files.rgba(folder / "b.tif")]


BAD = [
    ("not_a_raster", not_a_raster, "notes.tif: GDAL cannot read it as a raster"),
    ("truncated", truncated, "cut.tif: the GeoTIFF is truncated"),
    ("zero_size", zero_size, "empty.tif: the file is empty (0 bytes)"),
    ("no_crs", no_crs, "nowhere.tif: it has no coordinate reference system"),
    ("complex64", of_type("complex64"), "complex64.tif: its data type complex64 cannot be served"),
    ("int64", of_type("int64"), "int64.tif: its data type int64 cannot be served"),
    ("almost_empty", almost_empty, "% of its pixels are nodata"),
    ("nodata_inside_data", nodata_inside_data, "coast.tif: its nodata value 0 lies inside the range"),
    ("nodata_not_a_value", nodata_not_a_value_of_the_type, "counts.tif: its nodata value 1.5 cannot occur"),
    ("vrt_named_tif", vrt_named_tif, "innocent.tif: GDAL reads it as a VRT dataset"),
    ("on_mars", on_mars, "gale.tif: its CRS (unknown) cannot be transformed to EPSG:4326: Source and target"),
    ("absurd_values", absurd_values, "absurd.tif: band 1 holds absurd values"),
    ("mixed_crs", mixed_crs, "not homogeneous: in/b.tif has CRS EPSG:32634 instead of EPSG:32633"),
    ("mixed_band_counts", mixed_band_counts, "not homogeneous: in/b.tif has band count 4 instead of 3"),
]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_fails_clearly_and_leaves_nothing(
    database_url: str, storage: Storage, tmp_path: Path, make: Callable[[Path], list[Path]], message: str
) -> None:
    job = run(database_url, storage, *make(tmp_path))

    assert job["status"] == "failed"
    assert message in job["error"]["message"]
    assert job["error"]["remediation"] and job["error"]["user_fixable"]
    assert silver_files(storage) == []
    assert cog_rows(database_url) == []
    assert stac_item_count(database_url) == 0


def test_a_nodata_value_that_no_pixel_holds_is_kept_even_inside_the_data_range(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """A geoid model declares -88.8888 between its -107 m and 85 m: nothing is hidden, so it loads."""
    heights = (files.smooth(np.random.default_rng(7), (128, 128)) * 190 - 105).astype("float32")
    job = run(
        database_url, storage, files.write(tmp_path / "geoid.tif", heights[np.newaxis], nodata=-88.8888)
    )

    assert job["status"] == "completed", job["error"]
    (row,) = cog_rows(database_url)
    assert row["nodata"] == pytest.approx(-88.8888) and row["statistics"][0]["valid_percent"] == 100


def test_a_crs_option_places_a_raster_that_names_none(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, *no_crs(tmp_path), crs="EPSG:32633")

    assert job["status"] == "completed", job["error"]
    assert {"CRS_FROM_OPTIONS", "REPROJECTED"} <= {w["code"] for w in job["result"]["warnings"]}
    (row,) = cog_rows(database_url)
    assert row["epsg"] == 4326 and 14.9 < row["bbox_4326"][0] < 15.1


def test_a_rotated_geotiff_is_warped_north_up(database_url: str, storage: Storage, tmp_path: Path) -> None:
    rotated = Affine(30, 5, 500_000, 5, -30, 4_000_000)
    job = run(
        database_url, storage, files.dem(tmp_path / "tilted.tif", transform=rotated), target_crs="native"
    )

    assert job["status"] == "completed", job["error"]
    assert "ROTATION_REMOVED" in {w["code"] for w in job["result"]["warnings"]}
    (row,) = cog_rows(database_url)
    cog = storage.local_path("silver", row["path"])
    with rasterio.open(cog) as ds:
        assert ds.transform.b == 0 and ds.transform.d == 0 and ds.crs.to_epsg() == 32633


def test_a_raster_placed_by_ground_control_points_is_warped_by_them(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    """A scanned map georeferenced by GCPs has no geotransform and no dataset CRS, only the
    GCPs' CRS: it is warped as gdalwarp warps it, not refused for lacking a CRS."""
    path = files.dem(tmp_path / "scan.tif", size=64, transform=Affine.identity())
    corners = [(0, 0, 500_000, 4_000_000), (0, 64, 502_000, 4_000_300), (64, 0, 499_700, 3_998_000)]
    with rasterio.open(path, "r+") as ds:
        ds.gcps = ([GroundControlPoint(r, c, x, y) for r, c, x, y in corners], CRS.from_epsg(32633))

    job = run(database_url, storage, path, target_crs="native")

    assert job["status"] == "completed", job["error"]
    assert "GCPS_WARPED" in {w["code"] for w in job["result"]["warnings"]}
    (row,) = cog_rows(database_url)
    assert row["epsg"] == 32633 and 499_600 < row["bbox"][0] < 499_800 and 4_000_200 < row["bbox"][3]


def test_a_job_without_access_level_fails_in_its_first_task(
    database_url: str, storage: Storage, tmp_path: Path
) -> None:
    job = run(database_url, storage, files.dem(tmp_path / "dem.tif"), access_level=None)

    assert job["status"] == "failed" and job["error"]["stage"] == 1
    assert "The job has no access_level" in job["error"]["message"]
    assert silver_files(storage) == []
