"""A small RGBA PNG thumbnail of a COG, stretched with its rescale range or painted with its colormap."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from terrace.ingest.raster.stats import decimated

THUMBNAIL_EDGE = 256


def _stretch(band: npt.NDArray[np.generic], low: float, high: float) -> npt.NDArray[np.uint8]:
    scaled = (band.astype("float64") - low) / ((high - low) or 1.0)
    return (np.clip(np.nan_to_num(scaled), 0.0, 1.0) * 255).astype("uint8")


def _paint(band: npt.NDArray[np.generic], colormap: dict[int, list[int]]) -> npt.NDArray[np.uint8]:
    palette = np.zeros((max(colormap) + 1, 3), dtype="uint8")
    for value, color in colormap.items():
        palette[value] = color[:3]
    return np.moveaxis(palette[np.clip(band.astype("int64"), 0, len(palette) - 1)], -1, 0)


def write_thumbnail(
    cog: Path, output: Path, rescale: list[list[float]], colormap: dict[int, list[int]] | None
) -> None:
    """Bands 1-3 (or band 1 as grey, or through the colormap) with invalid pixels transparent."""
    with rasterio.open(cog) as ds:
        data, masks, _ = decimated(ds, THUMBNAIL_EDGE)
    if colormap:
        rgb = _paint(data[0], colormap)
    else:
        picked = [0, 1, 2] if data.shape[0] >= 3 else [0, 0, 0]
        rgb = np.stack([_stretch(data[i], *rescale[i]) for i in picked])
    alpha = np.where(masks.any(axis=0), 255, 0).astype("uint8")[np.newaxis]
    profile: dict[str, Any] = {
        "driver": "PNG",
        "width": rgb.shape[2],
        "height": rgb.shape[1],
        "count": 4,
        "dtype": "uint8",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a thumbnail is a plain picture
        with rasterio.open(output, "w", **profile) as png:
            png.write(np.concatenate([rgb, alpha]))
