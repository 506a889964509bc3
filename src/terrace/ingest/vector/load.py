"""Stage 4 of process_vector: one task per chunk COPYs it into its staging table.

The chunk's Arrow columns already have the table's types; ADBC's PostgreSQL driver streams them
as binary COPY (geometry as WKB into PostGIS' binary input), so no row passes through Python or
through text. objectid is numbered per table in chunk order. A retry first deletes the rows of
its own batch, so a chunk is never loaded twice.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from psycopg import sql

from terrace.ingest.vector.contracts import Loaded, LoadTask, Staged
from terrace.ingest.vector.params import VectorParams
from terrace.observability.metrics import FEATURES_INGESTED
from terrace.orchestration.definitions import TaskContext


def plan_loads(params: VectorParams, results: list[Staged]) -> list[LoadTask]:
    (staged,) = results
    next_objectid: dict[int, int] = {}
    loads = []
    for chunk in staged.chunks:
        first = next_objectid.get(chunk.family, 1)
        next_objectid[chunk.family] = first + chunk.rows
        loads.append(
            LoadTask(
                chunk=chunk.path,
                staging=staged.tables[chunk.family],
                first_objectid=first,
                columns=staged.columns,
                geometry_column=staged.geometry_column,
            )
        )
    return loads


def load(ctx: TaskContext[VectorParams, LoadTask]) -> Loaded:
    task, schema = ctx.task, ctx.params.target_schema
    batch_id = task.chunk.rsplit("/", 1)[-1].removesuffix(".arrow")
    table = ipc.open_file(pa.py_buffer(ctx.storage.get("silver", task.chunk))).read_all()
    table = table.select([*task.columns, "geom"]).rename_columns([*task.columns, task.geometry_column])
    rows = len(table)
    table = table.add_column(
        0, "objectid", pa.array(np.arange(task.first_objectid, task.first_objectid + rows, dtype=np.int64))
    ).append_column("etl_batch_id", pa.repeat(pa.scalar(batch_id), rows))
    if ctx.attempt > 1:  # an earlier attempt may have committed this chunk
        with ctx.connect() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE etl_batch_id = %s").format(
                    sql.Identifier(schema, task.staging)
                ),
                (batch_id,),
            )
    with ctx.adbc() as conn:
        with conn.cursor() as cursor:
            cursor.adbc_ingest(task.staging, table, mode="append", db_schema_name=schema)
        ctx.fence(conn)  # an attempt that lost its lease must not append over the retry's rows
        conn.commit()
    FEATURES_INGESTED.labels(ctx.job_type).inc(rows)
    return Loaded(staging=task.staging, rows=rows, batch=batch_id)
