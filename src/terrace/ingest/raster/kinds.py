"""Raster kinds (rgb, rgba, dem, categorical, multispectral, continuous) and the COG settings of each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.enums import Resampling

from terrace.errors import InvalidInput
from terrace.ingest.raster.quality import Sample, data_bands
from terrace.ingest.raster.validate import Source

ELEVATION_WORDS = re.compile(r"elev|height|altitude|\bdem\b|\bdsm\b|\bdtm\b|bathy|depth", re.IGNORECASE)
EARTH_RELIEF = (-11_000.0, 9_000.0)  # metres: deepest trench to highest summit
MAX_CLASSES = 32  # an integer band with at most this many distinct values is treated as classes
BLOCK_SIZE = 512


def detect_kind(source: Source, sample: Sample) -> str:
    """The kind that decides resampling and compression; `kind` in the job overrides it."""
    bands = data_bands(source)
    if source.dtype == "uint8" and len(bands) == 3:
        return "rgba" if source.count == 4 else "rgb"
    if len(bands) > 1:
        return "multispectral"
    if source.colormap:
        return "categorical"
    values = sample.band_values(0)
    if not source.is_float and np.unique(values).size <= MAX_CLASSES:
        return "categorical"
    if _looks_like_elevation(source, values):
        return "dem"
    return "continuous"


def _looks_like_elevation(source: Source, values: np.ndarray) -> bool:
    if any(d and ELEVATION_WORDS.search(d) for d in source.descriptions):
        return True
    if source.dtype not in ("float32", "int16", "int32") or not values.size:
        return False
    low, high = float(values.min()), float(values.max())
    # Indices (NDVI, reflectance) span a unit or two; relief spans metres to kilometres.
    return EARTH_RELIEF[0] <= low and high <= EARTH_RELIEF[1] and high - low >= 10


@dataclass(frozen=True)
class CogProfile:
    """How one COG is written: compression by tier, resampling by kind."""

    compress: str
    warp_resampling: Resampling
    overview_resampling: Resampling
    level: int | None = None
    quality: int | None = None
    predictor: bool = False

    def creation_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "BLOCKSIZE": BLOCK_SIZE,
            "COMPRESS": self.compress,
            "OVERVIEW_RESAMPLING": self.overview_resampling.name.upper(),
            "NUM_THREADS": "ALL_CPUS",
            "BIGTIFF": "IF_SAFER",
        }
        if self.level is not None:
            options["LEVEL"] = self.level
        if self.quality is not None:
            options["QUALITY"] = self.quality
        if self.predictor:
            options["PREDICTOR"] = "YES"  # horizontal differencing for integers, floating point for floats
        return options


RESAMPLING = {  # kind: (warp, overviews)
    "categorical": (Resampling.nearest, Resampling.mode),
    "rgb": (Resampling.cubic, Resampling.cubic),
    "rgba": (Resampling.cubic, Resampling.cubic),
    "dem": (Resampling.bilinear, Resampling.average),
    "continuous": (Resampling.bilinear, Resampling.average),
    "multispectral": (Resampling.bilinear, Resampling.average),
}


def cog_profile(kind: str, tier: str, path: str) -> CogProfile:
    warp, overviews = RESAMPLING[kind]
    if tier == "analysis":
        # With the predictor, level 1 compresses within a few percent of level 6 in a little over
        # half the time (bench/raster_cog.py); most of the gain comes from the predictor.
        return CogProfile("DEFLATE", warp, overviews, level=1, predictor=True)
    if tier == "archive":
        return CogProfile("ZSTD", warp, overviews, level=15, predictor=True)
    if kind == "rgb":
        return CogProfile("JPEG", warp, overviews, quality=85)
    if kind == "rgba":
        return CogProfile("WEBP", warp, overviews, quality=85)
    raise InvalidInput(
        f"{path}: the visualization tier compresses 8-bit RGB imagery lossily, but this raster is {kind}.",
        "Use tier analysis (lossless, the default) or archive for this raster.",
    )
