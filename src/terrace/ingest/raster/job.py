"""The raster jobs: inspect (one task per file) → COGs (one task per file or tile) → catalogue.

`process_raster` takes one file, `process_raster_collection` several that must be homogeneous.
A raster whose output exceeds `tile_threshold_bytes` uncompressed is cut into tiles written by
parallel tasks and catalogued as one collection with a mosaic.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from terrace.db.pool import Connection
from terrace.ingest.raster import metadata
from terrace.ingest.raster.collection import check_homogeneous, output_stems
from terrace.ingest.raster.contracts import Catalogued, CatalogueTask, Inspection, InspectTask, Piece, Written
from terrace.ingest.raster.outputs import remove
from terrace.ingest.raster.params import RasterCollectionParams, RasterJob, RasterOptions, RasterParams
from terrace.ingest.raster.tasks import catalogue, inspect_source, make_cog
from terrace.ingest.raster.tiling import Grid, windows
from terrace.ingest.raster.validate import Source
from terrace.ingest.release import JobWarning
from terrace.orchestration.definitions import JobType, Stage
from terrace.storage import Storage


def plan_inspections(params: RasterJob, _: list[BaseModel]) -> list[InspectTask]:
    return [InspectTask(path=path) for path in params.paths]


def plan_cogs(params: RasterJob, inspected: list[Inspection]) -> list[Piece]:
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


def _pieces(params: RasterOptions, inspected: Inspection, stem: str, named: bool) -> list[Piece]:
    source, kind, grid, part = inspected.source, inspected.kind, inspected.grid, stem if named else ""
    if grid is None or _output_bytes(source, grid) <= params.tile_threshold_bytes:
        path = f"{params.prefix}/{stem}.tif"
        return [
            Piece(
                source=source,
                kind=kind,
                grid=grid,
                window=None,
                part=part,
                path=path,
                warnings=inspected.warnings,
            )
        ]
    tiles = windows(grid, params.tile_size, params.tile_overlap)
    tiled = JobWarning(
        code="TILED", message=f"{stem}: {len(tiles)} tiles of up to {params.tile_size} pixels."
    )
    return [
        Piece(
            source=source,
            kind=kind,
            grid=grid,
            warnings=[*inspected.warnings, tiled],
            window=tile,
            part=f"{part}_{tile.name}" if part else tile.name,
            path=f"{params.prefix}/{stem}_{tile.name}.tif",
        )
        for tile in tiles
    ]


def _output_bytes(source: Source, grid: Grid) -> int:
    return grid.width * grid.height * source.count * np.dtype(source.dtype).itemsize


def plan_catalogue(params: RasterOptions, written: list[Written]) -> list[CatalogueTask]:
    warnings = [w for result in written for w in result.warnings]
    return [CatalogueTask(warnings=[w for i, w in enumerate(warnings) if w not in warnings[:i]])]


def _catalogued(params: RasterOptions, results: list[Catalogued]) -> Catalogued:
    (catalogued,) = results
    return catalogued


def forget_outputs(conn: Connection, storage: Storage, params: RasterOptions, job_id: str) -> None:
    """A failed job leaves nothing behind: the COGs and thumbnails it wrote go with their rows."""
    for row in metadata.forget_job(conn, job_id):
        for path in (row["path"], row["thumbnail_path"]):
            if path:
                remove(storage, row["container"], path)


STAGES = (
    Stage("inspect", inspect_source, plan_inspections, InspectTask, Inspection),
    Stage("cog", make_cog, plan_cogs, Piece, Written),
    Stage("catalogue", catalogue, plan_catalogue, CatalogueTask, Catalogued),
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
