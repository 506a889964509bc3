"""exactextract over one chunk of zones: the raster (and the weights raster, if any) read once for
the window the zones cover, coverage-weighted statistics per zone (exactextract's raster-sequential
strategy, which walks the raster once in strips), collected as Arrow columns."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np
import pyarrow as pa
import rasterio
from exactextract._exactextract import Feature
from exactextract.feature import FeatureSource
from exactextract.operation import Operation
from exactextract.processor import RasterSequentialProcessor
from exactextract.raster import RasterSource
from exactextract.writer import Writer
from rasterio.windows import Window, from_bounds

from terrace.analytics.zonal.inputs import GRID_TOLERANCE
from terrace.analytics.zonal.stats import StatColumn

# Raster cells read at once for a chunk's window (all bands); beyond, exactextract reads the file.
MAX_WINDOW_CELLS = 64 * 1024**2
INDEX = "zone"  # the field that carries a zone's position in its chunk
CLASSES = "@classes"  # suffix of the hidden `unique` statistic that names a frac column's classes


class WindowedBand(RasterSource):
    """One band of a raster as exactextract sees it whole, with the window the zones of a chunk
    cover read once. Values, mask, scale and offset are those exactextract's own rasterio source
    gives, and the grid is the whole raster's, so the statistics are the same."""

    def __init__(self, ds: Any, band: int, window: Window | None, name: str) -> None:
        super().__init__()
        self.set_name(name)  # exactextract tells sources apart by name
        self.ds, self.band = ds, band
        self.scale, self.offset = ds.scales[band - 1], ds.offsets[band - 1]
        self.scaled = self.scale != 1.0 or self.offset != 0.0
        self.is_float = ds.dtypes[band - 1].startswith("float")
        self.window = window
        self.data = None if window is None else self._read(window)

    def res(self) -> tuple[float, float]:
        b = self.ds.bounds
        return (b.right - b.left) / self.ds.width, (b.top - b.bottom) / self.ds.height

    def extent(self) -> tuple[float, float, float, float]:
        b = self.ds.bounds
        return b.left, b.bottom, b.right, b.top

    def srs_wkt(self) -> str | None:
        return self.ds.crs.wkt if self.ds.crs else None

    def nodata_value(self) -> float | int | None:
        nodata = self.ds.nodata
        if nodata is None or self.scaled:
            return None
        return nodata if self.is_float else int(nodata)

    def read_window(self, x0: int, y0: int, nx: int, ny: int) -> Any:
        """The cells asked for: from the window in memory (cells outside it, which no zone of the
        chunk touches, masked), or from the file when there is no window."""
        w = self.window
        if self.data is None or w is None:
            return self._read(Window(x0, y0, nx, ny))
        left, top = max(x0, w.col_off), max(y0, w.row_off)
        right, bottom = min(x0 + nx, w.col_off + w.width), min(y0 + ny, w.row_off + w.height)
        if (left, top, right, bottom) == (x0, y0, x0 + nx, y0 + ny):
            return self.data[y0 - w.row_off : bottom - w.row_off, x0 - w.col_off : right - w.col_off]
        cells = np.ma.masked_all((ny, nx), dtype=self.data.dtype)
        if left < right and top < bottom:
            cells[top - y0 : bottom - y0, left - x0 : right - x0] = self.data[
                top - w.row_off : bottom - w.row_off, left - w.col_off : right - w.col_off
            ]
        return cells

    def _read(self, window: Window) -> Any:
        data = self.ds.read(self.band, window=window, masked=True)
        if self.scaled:
            data = data.astype(np.float64) * self.scale + self.offset
        return data if np.ndim(data.mask) else data.data


def covering_window(ds: Any, bounds: Sequence[float]) -> Window | None:
    """The raster window the bounds cover (a cell of margin), None when they miss the raster or
    the window is too large to hold."""
    whole = Window(0, 0, ds.width, ds.height)
    wanted = from_bounds(*bounds, transform=ds.transform)
    left, top = math.floor(wanted.col_off) - 1, math.floor(wanted.row_off) - 1
    right = math.ceil(wanted.col_off + wanted.width) + 1
    bottom = math.ceil(wanted.row_off + wanted.height) + 1
    grown = Window(left, top, right - left, bottom - top)
    try:
        window = grown.intersection(whole)
    except rasterio.errors.WindowError:
        return None
    if window.width * window.height * ds.count > MAX_WINDOW_CELLS:
        return None
    return window


class _Zone(Feature):
    def __init__(self, index: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self.index, self.wkb = index, wkb

    def geometry(self) -> bytes:
        return self.wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> int:
        return self.index

    def fields(self) -> list[str]:
        return [INDEX]


class _Zones(FeatureSource):
    def __init__(self, wkbs: Sequence[bytes]) -> None:
        super().__init__()
        self.wkbs = wkbs

    def count(self) -> int:
        return len(self.wkbs)

    def __iter__(self) -> Iterator[_Zone]:
        return (_Zone(i, wkb) for i, wkb in enumerate(self.wkbs))

    def srs_wkt(self) -> None:
        return None


class _Row(Feature):
    def __init__(self) -> None:
        Feature.__init__(self)
        self.values: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def get(self, name: str) -> Any:
        return self.values[name]

    def set_geometry(self, _: Any) -> None:
        return None

    def set_geometry_format(self) -> str:
        return "wkb"

    def fields(self) -> list[str]:
        return list(self.values)


class _Collect(Writer):
    """Keeps each zone's results, in the order exactextract finishes them."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def add_operation(self, _: Any) -> None:
        return None

    def add_column(self, _: str) -> None:
        return None

    def write(self, feature: Any) -> None:
        row = _Row()
        feature.copy_to(row)
        self.rows.append(row.values)

    def features(self) -> list[dict[str, Any]]:
        return self.rows


def extract(
    path: str,
    weights_path: str | None,
    wkbs: Sequence[bytes],
    bounds: Sequence[float] | None,
    columns: list[StatColumn],
    progress: Callable[[float], None],
) -> dict[str, pa.Array]:
    """The statistics of each zone (WKB in the raster's CRS) as one Arrow array per column, in
    the zones' order; `bounds` is the zones' extent (None for no zone). The weighted statistics
    weigh each cell by band 1 of the raster at `weights_path`, on a grid compatible with the
    raster's (exactextract walks both on the finer one)."""
    with ExitStack() as files:
        ds = files.enter_context(rasterio.open(path))
        window = _window(ds, bounds)
        bands = [WindowedBand(ds, band, window, f"b{band}") for band in range(1, ds.count + 1)]
        weights = None
        if weights_path is not None:
            wds = files.enter_context(rasterio.open(weights_path))
            weights = WindowedBand(wds, 1, _window(wds, bounds), "weights")
        operations = []
        for column in columns:
            source, weigh = bands[column.band - 1], weights if column.weighted else None
            operations.append(Operation(column.stat, column.name, source, weigh))
            if column.per_class:
                operations.append(Operation("unique", column.name + CLASSES, source, weigh))
        # exactextract keeps bare pointers to these: they must outlive `process`.
        zones, writer = _Zones(wkbs), _Collect()
        processor = RasterSequentialProcessor(zones, writer, operations, [INDEX])
        processor.set_grid_compat_tol(GRID_TOLERANCE)  # the tolerance submit checked the weights with
        processor.show_progress(True)
        processor.set_progress_fn(lambda fraction, _: progress(fraction))
        processor.process()
        writer.finish()
    rows = sorted(writer.rows, key=lambda row: row[INDEX])
    return {column.name: _array(column, rows) for column in columns}


def _window(ds: Any, bounds: Sequence[float] | None) -> Window | None:
    return covering_window(ds, bounds) if bounds is not None else None


def _array(column: StatColumn, rows: list[dict[str, Any]]) -> pa.Array:
    """One column; a statistic exactextract leaves unset (the max of a zone without data) is null."""
    values = [row.get(column.name) for row in rows]
    if column.per_class:
        classes = [row.get(column.name + CLASSES) for row in rows]
        maps = [
            {_class(c): float(f) for c, f in zip(cs, fs, strict=True)}
            if cs is not None and fs is not None
            else {}
            for cs, fs in zip(classes, values, strict=True)
        ]
        return pa.array([json.dumps(m) for m in maps], pa.string())
    if column.pg_type == "bigint":
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    numbers = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return pa.array(numbers, from_pandas=True)


def _class(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
