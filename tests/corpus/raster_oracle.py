"""GDAL, through rasterio, as the oracle of a COG: it reads the source, warps it onto the grid GDAL
suggests for the target CRS with the resampling SPEC §5 documents, and lists how the COG differs."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_validate

# SPEC §5: nearest for categorical data, bilinear for continuous data, cubic for imagery.
WARP_RESAMPLING = {
    "categorical": Resampling.nearest,
    "rgb": Resampling.cubic,
    "rgba": Resampling.cubic,
    "dem": Resampling.bilinear,
    "continuous": Resampling.bilinear,
    "multispectral": Resampling.bilinear,
}
GRID_TOLERANCE = 1e-9  # relative, on the geotransform GDAL suggests
BLOCK_SIZE = 512  # SPEC §5


@contextmanager
def open_quietly(path: Path) -> Iterator[DatasetReader]:
    """A GCP-georeferenced source has no geotransform; rasterio warns, GDAL does not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as dataset:
            yield dataset


def georeferenced_by_gcps(src: DatasetReader) -> bool:
    return src.transform.is_identity and bool(src.gcps[0])


def source_crs(src: DatasetReader) -> CRS:
    return src.gcps[1] if georeferenced_by_gcps(src) and src.gcps[1] is not None else src.crs


def needs_warp(src: DatasetReader, target: CRS) -> bool:
    rotated = src.transform.b != 0 or src.transform.d != 0
    return georeferenced_by_gcps(src) or rotated or source_crs(src) != target


def suggested_grid(src: DatasetReader, target: CRS) -> tuple[list[float], int, int]:
    """What `gdalwarp -t_srs target` produces (GDALSuggestedWarpOutput2, from the geotransform,
    rotated or not, or from the GCPs); across the antimeridian, what it produces with longitudes
    in [0, 360), so that the grid is continuous there instead of smeared from -180 to 180."""
    suggest_in = target
    if target.is_geographic and not georeferenced_by_gcps(src):
        west, _, east, _ = transform_bounds(src.crs, target, *src.bounds, densify_pts=21)
        if west > east:
            suggest_in = CRS.from_proj4(f"{target.to_proj4()} +lon_wrap=180")
    with WarpedVRT(src, crs=suggest_in) as vrt:
        return list(vrt.transform)[:6], vrt.width, vrt.height


def adds_alpha(src: DatasetReader) -> bool:
    """Warping an integer raster with neither nodata nor alpha marks the pixels outside it by an
    alpha band (gdalwarp -dstalpha); a float raster gets NaN as nodata instead."""
    is_float = np.issubdtype(np.dtype(src.dtypes[0]), np.floating)
    return src.nodata is None and not is_float and ColorInterp.alpha not in src.colorinterp


def warped_nodata(src: DatasetReader) -> float | None:
    if src.nodata is not None:
        return float(src.nodata)
    return float("nan") if np.issubdtype(np.dtype(src.dtypes[0]), np.floating) else None


def differences(source: Path, cog: Path, kind: str, target: str = "EPSG:4326") -> list[str]:
    """Everything in which the COG differs from GDAL's reading of the source; [] when faithful."""
    found: list[str] = []
    valid, errors, _ = cog_validate(str(cog), quiet=True)
    if not valid:
        found.append(f"not a valid COG: {'; '.join(errors)}")
    target_crs = CRS.from_user_input(target)
    with open_quietly(source) as src, rasterio.open(cog) as out:
        warp = needs_warp(src, target_crs)
        found += _layout(src, out, target_crs, warp)
        if found:
            return found
        found += _palette(src, out)
        if warp:
            with _reference(src, out, kind) as reference:
                found += _pixels(reference, out)
        else:
            found += _pixels(src, out)
    return found


@contextmanager
def _reference(src: DatasetReader, out: DatasetReader, kind: str) -> Iterator[DatasetReader]:
    """`gdalwarp -of VRT` onto the COG's grid, then `gdal_translate -of COG` with the same blocks.

    Written rather than read at once: GDAL's approximate transformer interpolates per chunk
    of the request, so a warp's values depend (within 0.125 pixel) on how it is read; the COG
    driver reads it as it reads Terrace's warp, which makes identical pixels the bar."""
    with (
        tempfile.TemporaryDirectory(prefix="oracle-") as folder,
        WarpedVRT(src, **_warp_options(src, out, kind)) as vrt,
    ):
        path = Path(folder, "reference.tif")
        rasterio.shutil.copy(vrt, path, driver="COG", BLOCKSIZE=BLOCK_SIZE, COMPRESS="NONE", OVERVIEWS="NONE")
        with rasterio.open(path) as reference:
            yield reference


def _warp_options(src: DatasetReader, out: DatasetReader, kind: str) -> dict[str, Any]:
    options: dict[str, Any] = {
        "crs": out.crs,
        "transform": out.transform,
        "width": out.width,
        "height": out.height,
        "resampling": Resampling.nearest if _has_palette(src) else WARP_RESAMPLING[kind],
    }
    if adds_alpha(src):
        options["add_alpha"] = True
    else:
        options["nodata"] = warped_nodata(src)
    return options


def _layout(src: DatasetReader, out: DatasetReader, target: CRS, warp: bool) -> list[str]:
    """CRS, grid (hence extent), band count, data type and nodata."""
    found = []
    expected_crs = target if warp else source_crs(src)
    if out.crs != expected_crs:
        found.append(f"CRS {out.crs} instead of {expected_crs}")
    if warp:
        transform, width, height = suggested_grid(src, target)
    else:
        transform, width, height = list(src.transform)[:6], src.width, src.height
    scale = max(abs(v) for v in transform)
    if (out.width, out.height) != (width, height) or not np.allclose(
        list(out.transform)[:6], transform, rtol=0, atol=GRID_TOLERANCE * scale
    ):
        found.append(
            f"grid {out.width}x{out.height} {list(out.transform)[:6]} instead of {width}x{height} {transform}"
        )
    count = src.count + (1 if warp and adds_alpha(src) else 0)
    if out.count != count:
        found.append(f"{out.count} bands instead of {count}")
    if set(out.dtypes) != {src.dtypes[0]}:
        found.append(f"data type {out.dtypes[0]} instead of {src.dtypes[0]}")
    nodata = warped_nodata(src) if warp else src.nodata
    if not _same_value(out.nodata, nodata, src.dtypes[0]):
        found.append(f"nodata {out.nodata} instead of {nodata}")
    return found


def _same_value(a: float | None, b: float | None, dtype: str) -> bool:
    """Equal as values of the band's type: that is how GDAL compares pixels with nodata (a float32
    band's nodata -88.8888 is stored as the float32 nearest to it)."""
    if a is None or b is None:
        return a is b
    x, y = np.array(a).astype(dtype), np.array(b).astype(dtype)
    return bool(x == y) or bool(np.isnan(a) and np.isnan(b))


def _has_palette(src: DatasetReader) -> bool:
    try:
        return bool(src.colormap(1))
    except ValueError:
        return False


def _palette(src: DatasetReader, out: DatasetReader) -> list[str]:
    if not _has_palette(src):
        return []
    if not _has_palette(out):
        return ["the palette is lost"]
    ours, theirs = src.colormap(1), out.colormap(1)
    changed = [k for k, v in ours.items() if theirs.get(k) != v]
    return [f"palette entries {changed[:5]} changed"] if changed else []


def _pixels(expected: Any, out: DatasetReader) -> list[str]:
    """Every band, and the mask, equal pixel for pixel (NaN equal to NaN)."""
    found = []
    want, got = expected.read(), out.read()
    for band, (a, b) in enumerate(zip(want, got, strict=True), start=1):
        if not _equal(a, b):
            found.append(f"band {band}: {_describe(a, b)}")
    if not np.array_equal(expected.dataset_mask(), out.dataset_mask()):
        mismatched = int((expected.dataset_mask() != out.dataset_mask()).sum())
        found.append(f"mask: {mismatched} pixels differ")
    return found


def _equal(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:
    return bool(np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating)))


def _describe(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> str:
    same = a == b
    if np.issubdtype(a.dtype, np.floating):
        same |= np.isnan(a) & np.isnan(b)
    delta = np.abs(a[~same].astype("float64") - b[~same].astype("float64"))
    largest = np.nanmax(delta, initial=0)
    return f"{int((~same).sum())} of {a.size} pixels differ (max |difference| {largest:g})"
