"""Stage 4 of process_vector: one task per chunk COPYs it into its staging table.

The chunk's Arrow columns already have the table's types; ADBC's PostgreSQL driver streams them
as binary COPY (geometry as WKB into PostGIS' binary input), so no row passes through Python or
through text. objectid is numbered per table in chunk order. A retry first deletes the rows of
its own batch, so a chunk is never loaded twice.
"""

from __future__ import annotations

from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.ipc as ipc
from psycopg import sql

from terrace.ingest.vector.params import VectorParams
from terrace.orchestration.definitions import Result, TaskContext


def plan_loads(params: object, results: list[Result]) -> list[dict[str, Any]]:
    (staged,) = results
    next_objectid: dict[int, int] = {}
    loads = []
    for chunk in staged["chunks"]:
        first = next_objectid.get(chunk["family"], 1)
        next_objectid[chunk["family"]] = first + chunk["rows"]
        loads.append(
            {
                "chunk": chunk["path"],
                "staging": staged["tables"][str(chunk["family"])],
                "first_objectid": first,
                "columns": staged["columns"],
                "geometry_column": staged["geometry_column"],
            }
        )
    return loads


def load(ctx: TaskContext) -> Result:
    p = ctx.params
    schema = VectorParams.model_validate(ctx.job_params).target_schema
    batch_id = p["chunk"].rsplit("/", 1)[-1].removesuffix(".arrow")
    table = ipc.open_file(pa.py_buffer(ctx.storage.get("silver", p["chunk"]))).read_all()
    table = table.select([*p["columns"], "geom"]).rename_columns([*p["columns"], p["geometry_column"]])
    rows = len(table)
    table = table.add_column(
        0, "objectid", pa.array(np.arange(p["first_objectid"], p["first_objectid"] + rows, dtype=np.int64))
    ).append_column("etl_batch_id", pa.repeat(pa.scalar(batch_id), rows))
    if ctx.attempt > 1:  # an earlier attempt may have committed this chunk
        with psycopg.connect(ctx.database_url) as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE etl_batch_id = %s").format(
                    sql.Identifier(schema, p["staging"])
                ),
                (batch_id,),
            )
    with adbc.connect(ctx.database_url) as conn:
        with conn.cursor() as cursor:
            cursor.adbc_ingest(p["staging"], table, mode="append", db_schema_name=schema)
        conn.commit()
    return {"staging": p["staging"], "rows": rows, "batch": batch_id}
