"""Open a source raster and check what every later step relies on: readable, whole, georeferenced."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import numpy as np
import rasterio
from pydantic import BaseModel
from rasterio.crs import CRS
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioIOError
from rasterio.io import DatasetReader
from rio_cogeo.cogeo import cog_validate

from terrace.errors import InvalidInput
from terrace.ingest.archives import check_archive

if TYPE_CHECKING:
    from terrace.ingest.raster.tiling import Window

# Formats that hold their own pixels. Others are refused, above all VRT (and its kin), whose
# pixels come from whatever files or URLs its text names: the server's own files included.
SELF_CONTAINED_DRIVERS = frozenset(
    {"GTiff", "COG", "JP2OpenJPEG", "HFA", "ENVI", "JPEG", "PNG", "MBTiles", "GRIB", "NTv2", "GTX"}
)
UNSERVABLE_TYPES = {"int64", "uint64", "complex64", "complex128", "complex_int16", "complex_int32"}


class Source(BaseModel):
    """What inspection learnt about one source raster (a task result, so JSON-friendly)."""

    path: str
    driver: str
    size_bytes: int
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    crs: str
    transform: list[float]
    colorinterp: list[str]
    descriptions: list[str | None]
    colormap: dict[int, list[int]] | None
    is_cog: bool
    acquired_at: datetime | None = None  # from the TIFF's DATETIME tag, when it has one
    crs_given: bool = False  # the CRS came from the job's `crs` option
    gcp_count: int = 0  # georeferenced by ground control points rather than a geotransform
    nodata_given: bool = False  # the nodata value came from the job's `nodata` option

    @property
    def uncompressed_bytes(self) -> int:
        return self.width * self.height * self.count * np.dtype(self.dtype).itemsize

    @property
    def rotated(self) -> bool:
        return self.transform[1] != 0 or self.transform[3] != 0

    @property
    def by_gcps(self) -> bool:
        return self.gcp_count > 0

    @property
    def is_float(self) -> bool:
        return np.issubdtype(np.dtype(self.dtype), np.floating)

    def open_uri(self, gdal_path: str, window: Window | None = None) -> str:
        """The file GDAL opens by `gdal_path`, or a vrt:// view of it with the CRS or nodata the
        job supplied, or a window."""
        options = {}
        if self.crs_given:
            options["a_srs"] = self.crs
        if self.nodata_given:
            options["a_nodata"] = "nan" if self.nodata is None or np.isnan(self.nodata) else repr(self.nodata)
        if window is not None:
            options["srcwin"] = f"{window.col_off},{window.row_off},{window.width},{window.height}"
        return f"vrt://{gdal_path}?{urlencode(options, safe=':,')}" if options else gdal_path


def _fail(name: str, problem: str, remediation: str) -> InvalidInput:
    return InvalidInput(f"{name}: {problem}", remediation)


@contextmanager
def open_raster(local: Path, name: str) -> Iterator[DatasetReader]:
    """The dataset, or a clear InvalidInput when GDAL cannot read the file as a raster."""
    if local.stat().st_size == 0:
        raise _fail(name, "the file is empty (0 bytes).", "Upload the complete file again.")
    check_archive(local)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(local)
    except RasterioIOError as exc:
        raise _fail(
            name,
            f"GDAL cannot read it as a raster ({exc}).",
            "Submit a GeoTIFF, JPEG2000 or another raster format GDAL reads; vector data goes "
            "through process_vector.",
        ) from None
    with dataset:
        if dataset.driver not in SELF_CONTAINED_DRIVERS:
            raise _fail(
                name,
                f"GDAL reads it as a {dataset.driver} dataset, a format Terrace does not take "
                "(it takes GeoTIFF, JPEG2000, ERDAS Imagine, ENVI, JPEG, PNG, MBTiles, GRIB and PROJ grids).",
                "Convert it to a GeoTIFF (gdal_translate -of COG) and submit that.",
            )
        yield dataset


def inspect(local: Path, name: str, crs: str | None, nodata: float | None) -> Source:
    """Describe the source, raising InvalidInput for anything the pipeline cannot process."""
    with open_raster(local, name) as ds:
        if ds.count == 0:
            raise _fail(name, "it has no raster bands.", "Submit a file with at least one band.")
        _check_types(ds, name)
        _check_whole(ds, local, name)
        crs_given, crs_text = _crs(ds, name, crs)
        by_gcps = ds.transform.is_identity and bool(ds.gcps[0])
        nodata_given = ds.nodata is None and nodata is not None
        colormap = _colormap(ds)
        source = Source(
            path=name,
            driver=ds.driver,
            size_bytes=local.stat().st_size,
            width=ds.width,
            height=ds.height,
            count=ds.count,
            dtype=ds.dtypes[0],
            nodata=nodata if nodata_given else ds.nodata,
            crs=crs_text,
            transform=list(ds.transform)[:6],
            colorinterp=[c.name for c in ds.colorinterp],
            descriptions=list(ds.descriptions),
            colormap=colormap,
            # A COG is kept as it is only when it holds everything itself: not placed by sidecars
            is_cog=ds.driver == "GTiff" and len(ds.files) == 1 and cog_validate(str(local), quiet=True)[0],
            acquired_at=_acquired_at(ds.tags().get("TIFFTAG_DATETIME")),
            crs_given=crs_given,
            gcp_count=len(ds.gcps[0]) if by_gcps else 0,
            nodata_given=nodata_given,
        )
    _check_nodata(source)
    return source


def _check_types(ds: DatasetReader, name: str) -> None:
    types = set(ds.dtypes)
    if types & UNSERVABLE_TYPES:
        raise _fail(
            name,
            f"its data type {', '.join(sorted(types))} cannot be served as tiles.",
            "Convert it to 32-bit (e.g. gdal_translate -ot Float32 or -ot Int32) and submit again.",
        )
    if len(types) > 1:
        raise _fail(
            name,
            f"its bands have different data types ({', '.join(sorted(types))}).",
            "Convert all bands to one data type and submit again.",
        )


def _check_whole(ds: DatasetReader, local: Path, name: str) -> None:
    """A truncated GeoTIFF opens fine but its last blocks point past the end of the file."""
    if ds.driver != "GTiff":
        return
    end = 0
    bands = [1] if ds.interleaving is None or ds.interleaving.name == "PIXEL" else list(ds.indexes)
    rows, cols = ds.block_shapes[0]
    for band in bands:
        for y in range(0, -(-ds.height // rows)):
            for x in range(0, -(-ds.width // cols)):
                offset = ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=band)
                size = ds.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", bidx=band)
                if offset and size:
                    end = max(end, int(offset) + int(size))
    if end > local.stat().st_size:
        raise _fail(
            name,
            f"the GeoTIFF is truncated: its data ends at byte {end} but the file has "
            f"{local.stat().st_size} bytes.",
            "Upload the complete file again.",
        )


def _crs(ds: DatasetReader, name: str, given: str | None) -> tuple[bool, str]:
    """The CRS of the ground control points or of the geotransform, else the one given."""
    gcps, gcp_crs = ds.gcps
    if ds.transform.is_identity and not gcps:
        raise _fail(
            name,
            "it has no georeferencing (no geotransform and no ground control points), so nothing "
            "places its pixels on the Earth.",
            "Georeference the file (e.g. with a world file or gdal_translate -a_ullr) and submit again.",
        )
    found = gcp_crs if ds.transform.is_identity and gcp_crs is not None else ds.crs
    if found is not None:
        return False, found.to_string()
    if given is None:
        raise _fail(
            name,
            "it has no coordinate reference system.",
            "Give its CRS in the `crs` processing option, e.g. EPSG:32633.",
        )
    try:
        return True, CRS.from_user_input(given).to_string()
    except CRSError as exc:
        raise InvalidInput(
            f"crs {given!r} is not a CRS: {exc}", "Use an EPSG code such as EPSG:4326."
        ) from None


def _acquired_at(tag: str | None) -> datetime | None:
    try:
        return datetime.strptime(tag or "", "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:  # no tag, or one that is not a TIFF date: the item falls back to processing time
        return None


def _colormap(ds: DatasetReader) -> dict[int, list[int]] | None:
    if ds.count != 1:
        return None
    try:
        return {int(k): list(v) for k, v in ds.colormap(1).items()}
    except ValueError:  # rasterio's way of saying the band has no color table
        return None


def _check_nodata(source: Source) -> None:
    """An integer raster's nodata value must be one of its possible values."""
    if source.nodata is None or source.is_float:
        return
    info = np.iinfo(np.dtype(source.dtype))
    if np.isnan(source.nodata) or not (info.min <= source.nodata <= info.max) or source.nodata % 1:
        raise InvalidInput(
            f"{source.path}: its nodata value {source.nodata} cannot occur in {source.dtype} data, "
            "so it conflicts with the data type.",
            f"Set a nodata value between {info.min} and {info.max} (e.g. gdal_edit -a_nodata) "
            "and submit again.",
        )
