"""The output grid of a raster and, for large ones, its cut into overlapping 512-multiple tiles."""

from __future__ import annotations

import pyproj
from pydantic import BaseModel
from pyproj.exceptions import ProjError
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.transform import Affine

from terrace.errors import InvalidInput
from terrace.ingest.raster.params import NATIVE
from terrace.ingest.raster.validate import Source


class Grid(BaseModel):
    """Where the output pixels lie; `warp` is False when they are the source's own pixels."""

    crs: str
    transform: list[float]
    width: int
    height: int
    warp: bool

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform)


class Window(BaseModel):
    """A tile of the output grid: its offsets, its size and its place in the tile matrix."""

    col_off: int
    row_off: int
    width: int
    height: int
    row: int
    col: int

    @property
    def name(self) -> str:
        return f"r{self.row:03d}_c{self.col:03d}"


def target_crs(source: Source, requested: str) -> CRS:
    if requested == NATIVE:
        return CRS.from_string(source.crs)
    try:
        return CRS.from_user_input(requested)
    except CRSError as exc:
        raise InvalidInput(
            f"target_crs {requested!r} is not a CRS: {exc}",
            "Use an EPSG code such as EPSG:3857, or 'native'.",
        ) from None


def require_transformable(source: Source, target: CRS) -> None:
    """InvalidInput when PROJ knows no way from the source's CRS to the target or to WGS 84 (the
    catalogue's bounding boxes), e.g. from a CRS of Mars."""
    for to in dict.fromkeys([target.to_string(), "EPSG:4326"]):
        try:
            pyproj.Transformer.from_crs(
                pyproj.CRS.from_user_input(source.crs), pyproj.CRS.from_user_input(to)
            )
        except ProjError as exc:
            reason = str(exc).split("proj_create_operations: ")[-1].split(". You may")[0].rstrip(".)")
            name = pyproj.CRS.from_user_input(source.crs).name
            raise InvalidInput(
                f"{source.path}: its CRS ({name}) cannot be transformed to {to}: {reason}.",
                "Terrace publishes rasters of the Earth; check the file's CRS (gdalsrsinfo) and fix it "
                "with gdal_edit -a_srs if it is wrong.",
            ) from None


def needs_warp(source: Source, requested: str) -> bool:
    """Reprojecting, straightening a rotated geotransform or placing pixels by their ground
    control points all go through the warper."""
    return source.rotated or source.by_gcps or target_crs(source, requested) != CRS.from_string(source.crs)


def native_grid(source: Source) -> Grid:
    return Grid(
        crs=source.crs, transform=source.transform, width=source.width, height=source.height, warp=False
    )


def _offsets(length: int, size: int, overlap: int) -> list[int]:
    offsets = [0]
    while offsets[-1] + size < length:
        offsets.append(offsets[-1] + size - overlap)
    return offsets


def windows(grid: Grid, size: int, overlap: int) -> list[Window]:
    """Tiles of `size` pixels (the last of a row or column shorter) sharing `overlap` pixels."""
    return [
        Window(
            col_off=x,
            row_off=y,
            width=min(size, grid.width - x),
            height=min(size, grid.height - y),
            row=row,
            col=col,
        )
        for row, y in enumerate(_offsets(grid.height, size, overlap))
        for col, x in enumerate(_offsets(grid.width, size, overlap))
    ]


def window_grid(grid: Grid, window: Window) -> Grid:
    """The grid of one tile: same CRS and resolution, shifted origin."""
    shifted = grid.affine @ Affine.translation(window.col_off, window.row_off)
    return Grid(
        crs=grid.crs, transform=list(shifted)[:6], width=window.width, height=window.height, warp=grid.warp
    )
