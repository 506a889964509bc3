"""Stage 1 of zonal_statistics: check the inputs are still served, cut the zones into bands of
`chunk_size` (south to north, so that each task reads its own part of the raster), create the
staging table."""

from __future__ import annotations

from terrace.analytics.zonal.inputs import raster_file, zone_table
from terrace.analytics.zonal.params import Chunk, ComputeTask, Planned, ZonalParams
from terrace.analytics.zonal.stats import stat_columns
from terrace.analytics.zonal.tables import count_query, create_staging, staging_name
from terrace.db.pool import fetch_one
from terrace.errors import InvalidInput
from terrace.ingest.release import require_own_outputs
from terrace.ingest.vector.tables import drop_table, require_free
from terrace.orchestration.definitions import NoInput, TaskContext


def plan(ctx: TaskContext[ZonalParams, NoInput]) -> Planned:
    params, schema = ctx.params, ctx.params.target_schema
    staging = staging_name(ctx.job_id)
    with ctx.connect() as conn:
        require_own_outputs(conn, params)
        require_free(conn, schema, params.table_name)
        raster = raster_file(conn, params.raster_release_id)
        if params.weights_release_id is not None:
            raster_file(conn, params.weights_release_id)  # still served
        zones = zone_table(conn, params.zones)
        count = fetch_one(conn, count_query(zones), zones.params)["zones"]
        if not count:
            raise InvalidInput(
                "The zones hold no zone.", "Name a grid resolution or a release that has zones."
            )
        drop_table(conn, schema, staging)  # left by an earlier attempt
        create_staging(conn, schema, staging, stat_columns(params.stats, raster.bands))
    size = params.chunk_size
    chunks = [
        Chunk(index=i, first=first, last=min(first + size - 1, count))
        for i, first in enumerate(range(1, count + 1, size))
    ]
    return Planned(staging=staging, chunks=chunks, bands=raster.bands)


def plan_computes(params: ZonalParams, results: list[Planned]) -> list[ComputeTask]:
    (planned,) = results
    return [ComputeTask(staging=planned.staging, chunk=c, bands=planned.bands) for c in planned.chunks]
