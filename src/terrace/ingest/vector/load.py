"""Stage 2 of process_vector: one task per chunk COPYs it into its staging table.

The chunk becomes CSV inside Arrow's C++ writer and streams to COPY, so no Python loop touches a
row. A retry first deletes the rows of its own batch (a scan, but retries are rare, and no index
slows down every first attempt): a chunk is never loaded twice.
"""

from __future__ import annotations

import io

import psycopg
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from psycopg import sql

from terrace.orchestration.definitions import Result, TaskContext


def plan_loads(params: object, results: list[Result]) -> list[dict[str, object]]:
    (prepared,) = results
    return [
        {
            "chunk": chunk["path"],
            "staging": prepared["tables"][str(chunk["family"])],
            "columns": prepared["columns"],
            "geometry_column": prepared["geometry_column"],
        }
        for chunk in prepared["chunks"]
    ]


def load(ctx: TaskContext) -> Result:
    p = ctx.params
    batch_id = p["chunk"].rsplit("/", 1)[-1].removesuffix(".parquet")
    table = pq.read_table(io.BytesIO(ctx.storage.get("silver", p["chunk"])), columns=[*p["columns"], "geom"])
    table = table.append_column("etl_batch_id", pa.array([batch_id] * len(table), pa.string()))
    buffer = io.BytesIO()
    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))
    target = sql.Identifier(ctx.job_params["target_schema"], p["staging"])
    names = [*p["columns"], p["geometry_column"], "etl_batch_id"]
    with psycopg.connect(ctx.database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        if ctx.attempt > 1:  # an earlier attempt may have committed this chunk
            conn.execute(sql.SQL("DELETE FROM {} WHERE etl_batch_id = %s").format(target), (batch_id,))
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            target, sql.SQL(", ").join(map(sql.Identifier, names))
        )
        with conn.cursor().copy(statement) as copy:
            copy.write(buffer.getbuffer())
    return {"staging": p["staging"], "rows": len(table), "batch": batch_id}
