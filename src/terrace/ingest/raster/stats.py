"""Band statistics, the rescale range viewers start from, and the SHA-256 of a written COG."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import ColorInterp, MaskFlags, Resampling

STATS_EDGE = 1024  # statistics come from an overview of about this size, as GDAL's approximate ones do
PERCENTILES = (2.0, 98.0)


def decimated(ds: Any, edge: int) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.bool_], list[int]]:
    """Data bands read at most `edge` pixels on the long side, each band's validity mask
    (bands, rows, cols; NaN is invalid too), and their indexes."""
    bands = [i for i, c in zip(ds.indexes, ds.colorinterp, strict=True) if c != ColorInterp.alpha]
    scale = max(1.0, max(ds.width, ds.height) / edge)
    shape = (len(bands), max(1, round(ds.height / scale)), max(1, round(ds.width / scale)))
    data = ds.read(bands, out_shape=shape, resampling=Resampling.nearest)
    valid = _validity(ds, bands, data)
    if np.issubdtype(data.dtype, np.floating):
        valid &= ~np.isnan(data)
    return data, valid, bands


def _validity(ds: Any, bands: list[int], data: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]:
    """Which pixels of the decimated `data` are valid. A mask GDAL derives (all valid, or from
    the nodata value) is derived here from `data` too: GDAL would read it at full resolution,
    the whole raster, to decimate it; only a stored mask or alpha band is read (by overview)."""
    flags = [ds.mask_flag_enums[index - 1] for index in bands]
    if all(MaskFlags.all_valid in f for f in flags):
        return np.ones(data.shape, dtype=bool)
    if all(MaskFlags.nodata in f for f in flags):
        nodata = np.array([ds.nodatavals[index - 1] for index in bands], dtype=data.dtype)
        return np.asarray(data != nodata[:, None, None])
    return np.asarray(ds.read_masks(bands, out_shape=data.shape) > 0)


def band_statistics(path: Path) -> list[dict[str, float | int | None]]:
    """Per data band: minimum, maximum, mean, stddev, valid_percent and the 2nd/98th percentiles."""
    with rasterio.open(path) as ds:
        data, valid, bands = decimated(ds, STATS_EDGE)
    return [
        _one_band(index, data[i][valid[i]], round(100.0 * float(valid[i].mean()), 3))
        for i, index in enumerate(bands)
    ]


def _one_band(index: int, values: npt.NDArray[np.generic], valid_percent: float) -> dict[str, Any]:
    if not values.size:
        return {"band": index, "valid_percent": 0.0}
    as_float = values.astype("float64")
    low, high = np.percentile(as_float, PERCENTILES)
    return {
        "band": index,
        "minimum": float(as_float.min()),
        "maximum": float(as_float.max()),
        "mean": float(as_float.mean()),
        "stddev": float(as_float.std()),
        "valid_percent": valid_percent,
        "percentile_2": float(low),
        "percentile_98": float(high),
    }


def rescale_range(kind: str, dtype: str, statistics: list[dict[str, Any]]) -> list[list[float]]:
    """Per band [low, high] a viewer stretches to 0-255: full range for 8-bit imagery and classes,
    2nd-98th percentile for continuous data (robust to outliers)."""
    if kind in ("rgb", "rgba") and dtype == "uint8":
        return [[0.0, 255.0] for _ in statistics]
    if kind == "categorical":
        return [[s.get("minimum", 0.0), s.get("maximum", 0.0)] for s in statistics]
    return [[s.get("percentile_2", 0.0), s.get("percentile_98", 0.0)] for s in statistics]


def sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
