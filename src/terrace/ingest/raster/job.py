"""The raster jobs: inspect (one task per file) → COGs (one task per file or tile) → catalogue.

`process_raster` takes one file, `process_raster_collection` several that must be homogeneous.
A raster whose output exceeds `tile_threshold_bytes` uncompressed is cut into tiles written by
parallel tasks and catalogued as one collection with a mosaic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from terrace.db.pool import Connection
from terrace.ingest.raster import metadata
from terrace.ingest.raster.collection import check_homogeneous, output_stems
from terrace.ingest.raster.outputs import remove
from terrace.ingest.raster.params import RasterCollectionParams, RasterOptions, RasterParams
from terrace.ingest.raster.tasks import catalogue, inspect_source, make_cog
from terrace.ingest.raster.tiling import Grid, windows
from terrace.ingest.raster.validate import Source
from terrace.orchestration.definitions import JobType, Result, Stage
from terrace.storage import Storage


def plan_inspections(params: RasterParams | RasterCollectionParams, _: list[Result]) -> list[dict[str, Any]]:
    return [{"path": path} for path in params.paths]


def plan_cogs(params: RasterParams | RasterCollectionParams, inspected: list[Result]) -> list[dict[str, Any]]:
    """One task per file, or per tile of a file too large for one task; a collection is checked
    for homogeneity first, so that no COG is written for a collection that would be refused."""
    if len(inspected) > 1:
        check_homogeneous(inspected)
    stems = output_stems(params.paths)
    named = len(stems) > 1
    return [
        piece
        for stem, result in zip(stems, inspected, strict=True)
        for piece in _pieces(params, result, stem, named)
    ]


def _pieces(params: RasterOptions, inspected: Result, stem: str, named: bool) -> list[dict[str, Any]]:
    common = {key: inspected[key] for key in ("source", "kind", "grid", "warnings")}
    part = stem if named else ""
    if inspected["grid"] is None or _output_bytes(inspected) <= params.tile_threshold_bytes:
        return [{**common, "window": None, "part": part, "path": f"{params.prefix}/{stem}.tif"}]
    tiles = windows(Grid.model_validate(inspected["grid"]), params.tile_size, params.tile_overlap)
    tiled = {"code": "TILED", "message": f"{stem}: {len(tiles)} tiles of up to {params.tile_size} pixels."}
    return [
        {
            **common,
            "warnings": [*inspected["warnings"], tiled],
            "window": tile.model_dump(),
            "part": f"{part}_{tile.name}" if part else tile.name,
            "path": f"{params.prefix}/{stem}_{tile.name}.tif",
        }
        for tile in tiles
    ]


def _output_bytes(inspected: Result) -> int:
    source, grid = Source.model_validate(inspected["source"]), inspected["grid"]
    return grid["width"] * grid["height"] * source.count * np.dtype(source.dtype).itemsize


def plan_catalogue(params: RasterOptions, written: list[Result]) -> list[dict[str, Any]]:
    warnings = [w for result in written for w in result["warnings"]]
    return [{"warnings": [w for i, w in enumerate(warnings) if w not in warnings[:i]]}]


def _catalogued(params: RasterOptions, results: list[Result]) -> Result:
    return results[0]


def forget_outputs(conn: Connection, storage: Storage, params: RasterOptions, job_id: str) -> None:
    """A failed job leaves nothing behind: the COGs and thumbnails it wrote go with their rows."""
    for row in metadata.forget_job(conn, job_id):
        for path in (row["path"], row["thumbnail_path"]):
            if path:
                remove(storage, row["container"], path)


STAGES = (
    Stage("inspect", inspect_source, plan_inspections),
    Stage("cog", make_cog, plan_cogs),
    Stage("catalogue", catalogue, plan_catalogue),
)


def _raster_job(name: str, parameters: type[RasterOptions]) -> JobType:
    """Both raster jobs run the same stages; only what names their files differs."""
    return JobType(
        name=name,
        parameters=parameters,
        stages=STAGES,
        finalize=_catalogued,
        on_failure=forget_outputs,
        max_attempts=3,
        backoff_base_seconds=5.0,
        backoff_max_seconds=120.0,
    )


PROCESS_RASTER = _raster_job("process_raster", RasterParams)
PROCESS_RASTER_COLLECTION = _raster_job("process_raster_collection", RasterCollectionParams)
