"""Stage 5 of process_vector: check counts, complete and index the tables, take the final names,
register them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from terrace.catalog.identity import sanitize_identifier
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import InvalidInput
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.tables import INDEXES, build_indexes, complete_table, publish
from terrace.orchestration.definitions import Result, TaskContext

MAX_SPLIT_VALUES = 20


def finalize(ctx: TaskContext) -> Result:
    """Checkpointed in the transaction that publishes the tables: a retry after that commit (its
    result lost with its worker) returns the same result instead of failing on renamed tables."""
    params = VectorParams.model_validate(ctx.job_params)
    result = ctx.checkpoint_data("published") or _publish(ctx, params)
    for folder in ("chunks", "parts"):
        ctx.storage.delete_folder("silver", f"{params.work_prefix}/{folder}")
    return result


def _publish(ctx: TaskContext, params: VectorParams) -> Result:
    summary = json.loads(ctx.storage.get("silver", f"{params.work_prefix}/summary.json"))
    schema = params.target_schema
    produced: list[dict[str, Any]] = []
    source = summary["source"]
    constants = {
        "source_file": source["file"],
        "source_format": source["format"],
        "source_crs": source["crs"],
        "etl_job_id": ctx.job_id,
    }
    with ThreadPoolExecutor(max_workers=len(INDEXES)) as pool:
        for table in summary["tables"]:
            build_indexes(pool, ctx.database_url, schema, table["staging"], params.geometry_column)
        # the source's digest is read on the core ANALYZE leaves free
        digest = pool.submit(ctx.storage.sha256, params.container, params.path)
        with psycopg.connect(ctx.database_url, row_factory=dict_row) as conn:
            for table in summary["tables"]:
                _check_count(conn, schema, table)
                complete_table(
                    conn, schema, table["staging"], table["expected"], params.geometry_column, constants
                )
                publish(conn, schema, table["staging"], table["table_name"])
            summary["source"]["sha256"] = digest.result()
            _register_all(conn, ctx, params, summary, produced)
            outputs = {"repair_report": summary["repair_report"], "source": summary["source"]}
            result = {"tables": produced, "warnings": summary["warnings"], "outputs": outputs}
            ctx.checkpoint("published", result, conn)
    return result


def _register_all(
    conn: Connection,
    ctx: TaskContext,
    params: VectorParams,
    summary: dict[str, Any],
    produced: list[dict[str, Any]],
) -> None:
    """The catalog and tracking rows of every table, and its split_column views."""
    for table in summary["tables"]:
        role = "geometry_split" if table["suffix"] else "primary"
        produced.append(
            _register(conn, ctx, params, summary, table, table["table_name"], role, table["suffix"])
        )
        if params.split_column:
            produced += _split_views(conn, ctx, params, summary, table)


def _check_count(conn: Connection, schema: str, table: dict[str, Any]) -> None:
    loaded = conn.execute(
        sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(schema, table["staging"]))
    )
    count = loaded.fetchone()["n"]  # type: ignore[index]
    if count != table["expected"]:
        raise RuntimeError(f"{table['staging']} holds {count} rows; {table['expected']} were prepared")


def _register(
    conn: Connection,
    ctx: TaskContext,
    params: VectorParams,
    summary: dict[str, Any],
    table: dict[str, Any],
    name: str,
    role: str,
    suffix: str,
    count: int | None = None,
) -> dict[str, Any]:
    features = table["expected"] if count is None else count
    conn.execute(
        queries("vector")["catalog_row"],
        {
            "schema_name": params.target_schema,
            "table_name": name,
            "title": params.title or name,
            "description": params.description,
            "bbox": table["bbox"],
            "feature_count": features,
            "geometry_type": table["geometry_type"],
            "table_group": params.table_name,
            "keywords": params.keywords,
            "access_level": params.access_level,
            "properties": Jsonb({"release_id": params.release_id, "geometry_column": params.geometry_column}),
        },
    )
    conn.execute(
        queries("vector")["tracking_row"],
        {
            "job_id": ctx.job_id,
            "table_name": name,
            "schema_name": params.target_schema,
            "source_file": summary["source"]["file"],
            "source_format": summary["source"]["format"],
            "source_crs": summary["source"]["crs"],
            "source_sha256": summary["source"]["sha256"],
            "feature_count": features,
            "dropped_count": sum(
                w["count"]
                for w in summary["warnings"]
                if w["code"].endswith("_DROPPED") and w["code"] != "ALL_NULL_COLUMN_DROPPED"
            ),
            "warnings": Jsonb(summary["warnings"]),
            "timings": Jsonb({}),
        },
    )
    return {
        "table_name": name,
        "schema_name": params.target_schema,
        "geometry_type": table["geometry_type"],
        "feature_count": features,
        "table_role": role,
        "table_suffix": suffix,
    }


def _split_views(
    conn: Connection, ctx: TaskContext, params: VectorParams, summary: dict[str, Any], table: dict[str, Any]
) -> list[dict[str, Any]]:
    """One view per distinct value of split_column (at most 20), each its own collection."""
    column = next(
        (
            c["name"]
            for c in summary["columns"]
            if c["source"] == params.split_column or c["name"] == params.split_column
        ),
        None,
    )
    if column is None:
        raise InvalidInput(
            f"split_column {params.split_column!r} is not a column of the file.",
            "Name one of: " + ", ".join(c["source"] for c in summary["columns"]) + ".",
        )
    base = sql.Identifier(params.target_schema, table["table_name"])
    values = conn.execute(
        sql.SQL(
            "SELECT {col} AS value, count(*) AS n FROM {t} WHERE {col} IS NOT NULL "
            "GROUP BY 1 ORDER BY 1 LIMIT {limit}"
        ).format(col=sql.Identifier(column), t=base, limit=sql.Literal(MAX_SPLIT_VALUES + 1))
    ).fetchall()
    if len(values) > MAX_SPLIT_VALUES:
        raise InvalidInput(
            f"split_column {params.split_column!r} has more than {MAX_SPLIT_VALUES} values.",
            "Choose a column with at most 20 distinct values.",
        )
    views = []
    for row in values:
        suffix = table["suffix"] + "_" + sanitize_identifier(str(row["value"]))[:20]
        name = params.table_name + suffix
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {} WHERE {} = {}").format(
                sql.Identifier(params.target_schema, name),
                base,
                sql.Identifier(column),
                sql.Literal(row["value"]),
            )
        )
        views.append(_register(conn, ctx, params, summary, table, name, "view", suffix, row["n"]))
    return views
