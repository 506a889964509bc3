"""Stage 2 of zonal_statistics: one task per band of zones computes their statistics with
exactextract and COPYs them, with each zone's id and geometry, into the staging table. A retry
first deletes the rows of its own chunk, so a chunk is never loaded twice."""

from __future__ import annotations

import pyarrow as pa
import shapely
from psycopg import sql

from terrace.analytics.zonal.extract import extract
from terrace.analytics.zonal.inputs import WGS84, RasterFile, raster_file, zone_table
from terrace.analytics.zonal.params import AssembleTask, Computed, ComputeTask, ZonalParams
from terrace.analytics.zonal.stats import stat_columns
from terrace.analytics.zonal.tables import zones_query
from terrace.ingest.raster.outputs import object_url
from terrace.orchestration.definitions import TaskContext
from terrace.storage import Storage

Context = TaskContext[ZonalParams, ComputeTask]


def compute(ctx: Context) -> Computed:
    params, task = ctx.params, ctx.task
    with ctx.connect() as conn:
        raster = raster_file(conn, params.raster_release_id)
        weights = None if params.weights_release_id is None else raster_file(conn, params.weights_release_id)
        zones = zone_table(conn, params.zones)
        query = zones_query(zones, raster.srid())
        band = {"first": task.chunk.first, "last": task.chunk.last}
        rows = conn.execute(query, {**zones.params, **band}, binary=True).fetchall()
    geometries = [bytes(row["geom"]) for row in rows]
    # zones in the raster's CRS, which is EPSG:4326 unless it was submitted with target_crs native
    projected = [bytes(row["projected"]) for row in rows] if raster.srid() != WGS84 else geometries
    extent = shapely.total_bounds(shapely.from_wkb(projected)).tolist() if projected else None
    columns = stat_columns(params.stats, task.bands)
    statistics = extract(
        gdal_path(ctx.storage, raster),
        None if weights is None else gdal_path(ctx.storage, weights),
        projected,
        extent,
        columns,
        lambda fraction: ctx.progress(fraction * 100, f"chunk {task.chunk.index + 1}"),
    )
    table = pa.table(
        {
            "chunk": pa.repeat(pa.scalar(task.chunk.index, pa.int32()), len(rows)),
            "zone_id": pa.array([row["zone_id"] for row in rows], pa.int64()),
            "geom": pa.array(geometries, pa.binary()),
            **statistics,
        }
    )
    _load(ctx, table)
    return Computed(staging=task.staging, bands=task.bands, chunk=task.chunk.index, zones=len(rows))


def gdal_path(storage: Storage, raster: RasterFile) -> str:
    """Where GDAL reads the raster: the file on local storage, else the storage's URL."""
    local = storage.local_path(raster.container, raster.path)
    return str(local) if local is not None else object_url(storage, raster.container, raster.path)


def _load(ctx: Context, table: pa.Table) -> None:
    schema, staging = ctx.params.target_schema, ctx.task.staging
    if ctx.attempt > 1:  # an earlier attempt may have committed this chunk
        with ctx.connect() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE chunk = %s").format(sql.Identifier(schema, staging)),
                (ctx.task.chunk.index,),
            )
    with ctx.adbc() as conn:
        with conn.cursor() as cursor:
            cursor.adbc_ingest(staging, table, mode="append", db_schema_name=schema)
        conn.commit()


def plan_assemble(params: ZonalParams, results: list[Computed]) -> list[AssembleTask]:
    first = results[0]
    return [AssembleTask(staging=first.staging, bands=first.bands, zones=sum(r.zones for r in results))]
