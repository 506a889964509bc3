"""Small seeded rasters for the raster tests, written with rasterio into a test's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import Affine, from_origin

UTM_ORIGIN = from_origin(500_000, 4_000_000, 30, 30)  # EPSG:32633, 30 m pixels


def smooth(rng: np.random.Generator, shape: tuple[int, int], cells: int = 8) -> npt.NDArray[np.float64]:
    """Values in [0, 1] that vary smoothly, like terrain or imagery (compressible, unlike noise)."""
    coarse = rng.random((cells, cells))
    rows = np.linspace(0, cells - 1, shape[0])
    cols = np.linspace(0, cells - 1, shape[1])
    across = np.array([np.interp(cols, np.arange(cells), line) for line in coarse])
    return np.array([np.interp(rows, np.arange(cells), column) for column in across.T]).T


def write(
    path: Path,
    data: npt.NDArray[Any],
    *,
    crs: str | None = "EPSG:32633",
    transform: Affine = UTM_ORIGIN,
    nodata: float | None = None,
    **profile: Any,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
        **profile,
    }
    with rasterio.open(path, "w", **options) as ds:
        ds.write(data)
    return path


def rgb(path: Path, size: int = 512, seed: int = 1, **options: Any) -> Path:
    rng = np.random.default_rng(seed)
    bands = np.stack([smooth(rng, (size, size)) for _ in range(3)])
    return write(path, (bands * 250 + 3).astype("uint8"), photometric="RGB", **options)


def rgba(path: Path, size: int = 512) -> Path:
    rng = np.random.default_rng(2)
    data = (np.stack([smooth(rng, (size, size)) for _ in range(3)]) * 255).astype("uint8")
    alpha = np.full((1, size, size), 255, dtype="uint8")
    alpha[:, : size // 4] = 0
    write(path, np.concatenate([data, alpha]))
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return path


def dem(
    path: Path, size: int = 512, nodata: float | None = -9999.0, low: float = 20.0, **options: Any
) -> Path:
    rng = np.random.default_rng(3)
    heights = (smooth(rng, (size, size)) * 1500 + low).astype("float32")
    if nodata is not None:
        heights[:20, :20] = nodata
    return write(path, heights[np.newaxis], nodata=nodata, **options)


def continuous(path: Path, size: int = 512) -> Path:
    """An index such as NDVI: floats between -1 and 1."""
    rng = np.random.default_rng(4)
    return write(path, (smooth(rng, (size, size)) * 2 - 1).astype("float32")[np.newaxis], nodata=-9999.0)


def categorical(path: Path, size: int = 512) -> Path:
    rng = np.random.default_rng(5)
    classes = (smooth(rng, (size, size)) * 5).astype("uint8") + 1
    write(path, classes[np.newaxis], nodata=0)
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(
            1, {0: (0, 0, 0, 0), 1: (0, 128, 0, 255), 2: (0, 0, 255, 255), 3: (200, 200, 0, 255)}
        )
    return path


def multispectral(path: Path, size: int = 512) -> Path:
    rng = np.random.default_rng(6)
    bands = np.stack([smooth(rng, (size, size)) for _ in range(5)])
    return write(path, (bands * 10_000).astype("uint16"), nodata=0)
