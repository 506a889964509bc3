"""Write one COG with GDAL's COG driver: from the source itself, a window of it, or a warped view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.errors import RasterioError
from rasterio.io import DatasetReaderBase
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from terrace.errors import InvalidInput
from terrace.ingest.raster.kinds import CogProfile
from terrace.ingest.raster.tiling import Grid, Window, window_grid
from terrace.ingest.raster.validate import Source

# GDAL messages that mean the source's pixels cannot be decoded, as opposed to a failing disk.
DAMAGED = re.compile(r"TIFFRead|Decode|corrupt|Read error|IReadBlock|Premature end", re.IGNORECASE)


def warped_grid(uri: str, crs: CRS) -> Grid:
    """GDAL's suggested output grid for warping the source into `crs` (handles rotated sources).

    A source that crosses the antimeridian into a geographic CRS gets a grid continuous across it
    (longitudes past 180, as gdalwarp -te would make it), not GDAL's default of a few rows smeared
    from -180 to 180."""
    with rasterio.open(uri) as ds:
        suggest_in = _lon_wrapped(crs) if _crosses_antimeridian(ds, crs) else crs
        with WarpedVRT(ds, crs=suggest_in) as vrt:
            return Grid(
                crs=crs.to_string(),
                transform=list(vrt.transform)[:6],
                width=vrt.width,
                height=vrt.height,
                warp=True,
            )


def _crosses_antimeridian(ds: DatasetReaderBase, crs: CRS) -> bool:
    """True when the source's footprint in the geographic `crs` spans longitude 180."""
    if not crs.is_geographic or ds.transform.is_identity:  # GCPs: GDAL's grid is all there is
        return False
    west, _, east, _ = transform_bounds(ds.crs, crs, *ds.bounds, densify_pts=21)
    return bool(west > east)


def _lon_wrapped(crs: CRS) -> CRS:
    """The same geographic CRS with longitudes in [0, 360)."""
    return CRS.from_proj4(f"{crs.to_proj4()} +lon_wrap=180")


def _warp_options(source: Source, grid: Grid, profile: CogProfile) -> dict[str, Any]:
    options: dict[str, Any] = {
        "crs": CRS.from_string(grid.crs),
        "transform": grid.affine,
        "width": grid.width,
        "height": grid.height,
        "resampling": profile.warp_resampling,
    }
    has_alpha = ColorInterp.alpha.name in source.colorinterp
    if source.nodata is not None:
        options["nodata"] = source.nodata
    elif source.is_float:
        options["nodata"] = float("nan")
    elif not has_alpha:
        # Warping leaves pixels outside the source; without a nodata value an alpha band marks them.
        options["add_alpha"] = True
    return options


def write_cog(
    gdal_path: str, source: Source, grid: Grid, window: Window | None, profile: CogProfile, output: Path
) -> None:
    """Write the COG of the source GDAL opens by `gdal_path` to `output`; undecodable source
    pixels become InvalidInput."""
    try:
        with _dataset(gdal_path, source, grid, window, profile) as dataset:
            rasterio.shutil.copy(dataset, output, driver="COG", **profile.creation_options())
    except RasterioError as exc:
        if DAMAGED.search(str(exc)):
            raise InvalidInput(
                f"{source.path}: its pixels cannot be decoded ({exc}); the file is damaged.",
                "Upload an intact copy of the file and submit again.",
            ) from None
        raise


@contextmanager
def _dataset(
    gdal_path: str, source: Source, grid: Grid, window: Window | None, profile: CogProfile
) -> Iterator[DatasetReaderBase]:
    with ExitStack() as stack:
        if not grid.warp:
            yield stack.enter_context(rasterio.open(source.open_uri(gdal_path, window)))
            return
        ds = stack.enter_context(rasterio.open(source.open_uri(gdal_path)))
        piece = window_grid(grid, window) if window else grid
        yield stack.enter_context(WarpedVRT(ds, **_warp_options(source, piece, profile)))
