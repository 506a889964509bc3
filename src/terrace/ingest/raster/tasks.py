"""The raster task handlers: inspect a source, write one COG, catalogue what the job wrote."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import rasterio

from terrace.ingest.raster import metadata
from terrace.ingest.raster.cog import warped_grid, write_cog
from terrace.ingest.raster.contracts import (
    Catalogued,
    CatalogueTask,
    Inspection,
    InspectTask,
    Outputs,
    Piece,
    Stac,
    Written,
    WrittenCog,
)
from terrace.ingest.raster.kinds import RESAMPLING, cog_profile, detect_kind
from terrace.ingest.raster.mosaic import mosaic_vrt
from terrace.ingest.raster.outputs import object_url, remove, staged
from terrace.ingest.raster.params import RasterJob, RasterOptions
from terrace.ingest.raster.preview import write_thumbnail
from terrace.ingest.raster.quality import check, read_sample
from terrace.ingest.raster.stats import band_statistics, rescale_range, sha256
from terrace.ingest.raster.tiling import Grid, native_grid, needs_warp, require_transformable, target_crs
from terrace.ingest.raster.validate import Source, inspect
from terrace.ingest.release import JobWarning, Location, require_own_outputs
from terrace.orchestration.definitions import TaskContext
from terrace.stac.items import build_collection, build_item
from terrace.stac.pgstac import require_collection
from terrace.storage import Storage

SILVER = "silver"


def inspect_source(ctx: TaskContext[RasterJob, InspectTask]) -> Inspection:
    """Stage 1: validate one source, check its quality, detect its kind, choose its output grid."""
    params = ctx.params
    params.require_access_level()
    with ctx.connect() as conn:
        require_own_outputs(conn, params)
        if params.collection_must_exist:
            require_collection(conn, params.stac_collection_id)
    path = ctx.task.path
    with ctx.storage.local_copy(params.container, path) as local:
        source = inspect(local, path, params.crs, params.nodata)
        uri = source.open_uri(str(local))
        sample = read_sample(uri)
        kind = params.kind or detect_kind(source, sample)
        check(source, sample, kind)
        cog_profile(kind, params.tier, path)  # a tier this kind cannot have fails here, not per tile
        require_transformable(source, target_crs(source, params.target_crs))
        warp = needs_warp(source, params.target_crs)
        keep = source.is_cog and not warp and not (source.crs_given or source.nodata_given)
        grid = None if keep else _grid(uri, source, params.target_crs, warp)
    return Inspection(
        source=source, kind=kind, grid=grid, warnings=_warnings(source, warp, keep, params.target_crs)
    )


def _grid(uri: str, source: Source, target: str, warp: bool) -> Grid:
    return warped_grid(uri, target_crs(source, target)) if warp else native_grid(source)


def _warnings(source: Source, warp: bool, keep: bool, target: str) -> list[JobWarning]:
    found = []
    if keep:
        found.append(("REGISTERED_AS_IS", f"{source.path} is already a valid COG."))
    if source.by_gcps:
        placed = f"{source.gcp_count} ground control points"
        found.append(("GCPS_WARPED", f"{source.path}: warped by its {placed} to a north-up grid."))
    elif source.rotated:
        found.append(("ROTATION_REMOVED", f"{source.path}: rotated grid warped to a north-up grid."))
    elif warp:
        found.append(("REPROJECTED", f"{source.path}: {source.crs} to {target}."))
    if source.crs_given:
        found.append(("CRS_FROM_OPTIONS", f"{source.path}: CRS {source.crs} as given."))
    if source.nodata_given:
        found.append(("NODATA_FROM_OPTIONS", f"{source.path}: nodata {source.nodata}."))
    return [JobWarning(code=code, message=message) for code, message in found]


def make_cog(ctx: TaskContext[RasterJob, Piece]) -> Written:
    """Stage 2: write one COG and its thumbnail to silver, then record its app.cog_metadata row."""
    params, piece = ctx.params, ctx.task
    tag = hashlib.sha256(f"{ctx.task_id}:{ctx.attempt}".encode()).hexdigest()[:12]
    with ctx.connect() as conn:
        metadata.require_writable(conn, params, SILVER, params.prefix)
    try:
        # GDAL reads the source where it is, in the ranges it needs (one window of a tiled source)
        with rasterio.Env(**ctx.storage.gdal_options):
            with staged(ctx.storage, SILVER, piece.path, tag) as output:
                _write(ctx.storage, params.container, piece, params.tier, output)
                row = _row(ctx, params, piece, output)
                with staged(ctx.storage, SILVER, piece.thumbnail_path, tag) as png:
                    write_thumbnail(output, png, row["rescale"], piece.source.colormap)
        with ctx.connect() as conn:
            metadata.store(conn, row)
    except BaseException:
        # Whatever this attempt wrote goes: a retry writes it again, a failed job leaves nothing.
        remove(ctx.storage, SILVER, piece.thumbnail_path)
        remove(ctx.storage, SILVER, piece.path)
        raise
    return Written(path=piece.path, part=piece.part, warnings=piece.warnings)


def _write(storage: Storage, container: str, piece: Piece, tier: str, output: Path) -> None:
    if piece.grid is None:  # a valid COG already: registered as it is
        storage.download(container, piece.source.path, output)
        return
    profile = cog_profile(piece.kind, tier, piece.source.path)
    source = storage.gdal_path(container, piece.source.path)
    write_cog(source, piece.source, piece.grid, piece.window, profile, output)


def _row(
    ctx: TaskContext[RasterJob, Piece], params: RasterOptions, piece: Piece, output: Path
) -> dict[str, Any]:
    statistics = band_statistics(output)
    described = metadata.describe_cog(output)
    return {
        **described,
        "container": SILVER,
        "path": piece.path,
        "job_id": ctx.job_id,
        "release_id": params.release_id,
        "dataset_id": params.dataset_id,
        "resource_id": params.resource_id,
        "collection_id": params.stac_collection_id,
        "part": piece.part,
        "source_container": params.container,
        "source_path": piece.source.path,
        "kind": piece.kind,
        "tier": params.tier,
        "rewritten": piece.grid is not None,
        "resampling": RESAMPLING[piece.kind][1].name,
        "statistics": statistics,
        "rescale": rescale_range(piece.kind, described["dtype"], statistics),
        "colormap": {str(k): v for k, v in piece.source.colormap.items()} if piece.source.colormap else None,
        "thumbnail_path": piece.thumbnail_path,
        "size_bytes": output.stat().st_size,
        "sha256": sha256(output),
        "acquired_at": piece.source.acquired_at,
    }


def catalogue(ctx: TaskContext[RasterJob, CatalogueTask]) -> Catalogued:
    """Stage 3: the STAC items and collection of everything the job wrote (and a VRT mosaic of
    several COGs). Nothing enters pgSTAC here: that happens when the release is approved."""
    params = ctx.params
    with ctx.connect() as conn:
        metadata.require_writable(conn, params, SILVER, params.prefix)
        rows = metadata.cogs_of_job(conn, ctx.job_id)
    href = lambda container, path: object_url(ctx.storage, container, path)  # noqa: E731
    items = [build_item(row, href, title=params.title) for row in rows]
    mosaic = f"{params.prefix}/mosaic.vrt" if len(rows) > 1 else None
    if mosaic:
        ctx.storage.put(SILVER, mosaic, mosaic_vrt(rows, mosaic))
    collection = build_collection(
        params.stac_collection_id,
        items,
        title=params.title,
        description=params.description,
        mosaic_href=href(SILVER, mosaic) if mosaic else None,
    )
    blobs = [p for row in rows for p in (row["path"], row["thumbnail_path"])] + ([mosaic] if mosaic else [])
    outputs = Outputs(
        blobs=[Location(container=SILVER, path=p) for p in blobs],
        cogs=[WrittenCog(path=r["path"], sha256=r["sha256"], size_bytes=r["size_bytes"]) for r in rows],
        stac=Stac(collection=collection.to_dict(), items=[i.to_dict() for i in items]),
        mosaic=Location(container=SILVER, path=mosaic) if mosaic else None,
    )
    return Catalogued(outputs=outputs, warnings=ctx.task.warnings)
