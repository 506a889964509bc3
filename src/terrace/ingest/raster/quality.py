"""Quality checks on a sample of the pixels: almost empty, nodata conflicts, absurd values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import ColorInterp

from terrace.errors import InvalidInput
from terrace.ingest.raster.stats import decimated
from terrace.ingest.raster.validate import Source

SAMPLE_EDGE = 1024  # longest side of the decimated read the checks look at
MIN_VALID_FRACTION = 0.01
ABSURD = 1e38  # float rasters whose nodata was never declared hold ±3.4e38


@dataclass
class Sample:
    """A decimated read of the data bands with each band's validity mask (True = valid)."""

    data: npt.NDArray[np.generic]  # (bands, rows, cols)
    masks: npt.NDArray[np.bool_]  # (bands, rows, cols)

    @property
    def valid_fraction(self) -> float:
        """Pixels valid in at least one band, as GDAL's dataset mask counts them."""
        valid = self.masks.any(axis=0)
        return float(valid.mean()) if valid.size else 0.0

    def band_values(self, band: int) -> npt.NDArray[np.generic]:
        return self.data[band][self.masks[band]]


def data_bands(source: Source) -> list[int]:
    """1-based indexes of the bands that hold data (not the alpha band)."""
    return [i + 1 for i, c in enumerate(source.colorinterp) if c != ColorInterp.alpha.name]


def read_sample(uri: str) -> Sample:
    """At most SAMPLE_EDGE pixels on the long side; rasterio picks an overview when there is one."""
    with rasterio.open(uri) as ds:
        data, masks, _ = decimated(ds, SAMPLE_EDGE)
    return Sample(data=data, masks=masks)


def check(source: Source, sample: Sample, kind: str) -> None:
    """Raise InvalidInput for a raster that would publish badly."""
    _check_not_empty(source, sample)
    if source.is_float:
        _check_absurd(source, sample)
    if kind in ("dem", "continuous"):
        _check_nodata_inside_data(source, sample)


def _check_not_empty(source: Source, sample: Sample) -> None:
    if sample.valid_fraction < MIN_VALID_FRACTION:
        raise InvalidInput(
            f"{source.path}: {100 * (1 - sample.valid_fraction):.1f} % of its pixels are nodata; "
            "there is nothing to publish.",
            "Check the nodata value and the extent of the file; submit the file that holds the data.",
        )


def _check_absurd(source: Source, sample: Sample) -> None:
    for band in range(sample.data.shape[0]):
        values = sample.band_values(band)
        if values.size and np.abs(values).max() >= ABSURD:
            raise InvalidInput(
                f"{source.path}: band {band + 1} holds absurd values (±{np.abs(values).max():.3g}), "
                "typically an undeclared nodata value.",
                "Declare that value as nodata (gdal_edit -a_nodata, or the `nodata` option); submit again.",
            )


def _check_nodata_inside_data(source: Source, sample: Sample) -> None:
    """A nodata value in the middle of the data range hides real pixels (e.g. 0 m on a coastal DEM);
    one that no pixel holds (a geoid model's -88.8888) hides nothing."""
    if source.nodata is None or np.isnan(source.nodata):
        return
    for band in range(sample.data.shape[0]):
        values = sample.band_values(band)
        masked = bool((sample.data[band] == source.nodata).any())
        if masked and values.size and values.min() < source.nodata < values.max():
            raise InvalidInput(
                f"{source.path}: its nodata value {source.nodata:g} lies inside the range of its data "
                f"({values.min():g} to {values.max():g}), so real pixels with that value would vanish.",
                "Re-encode the nodata pixels with a value outside the data range (e.g. -9999) "
                "and declare it as nodata, then submit again.",
            )
