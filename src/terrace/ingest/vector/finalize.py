"""Stage 5 of process_vector: check counts, complete and index the tables, take the final names,
register them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from psycopg import sql
from psycopg.types.json import Jsonb

from terrace.catalog.identity import sanitize_identifier
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import InvalidInput
from terrace.ingest.vector.contracts import (
    DigestedSource,
    Outputs,
    ProducedTable,
    Published,
    StagingTable,
    Summary,
)
from terrace.ingest.vector.params import VectorParams
from terrace.ingest.vector.tables import INDEXES, build_indexes, complete_table, publish
from terrace.orchestration.definitions import NoInput, TaskContext

MAX_SPLIT_VALUES = 20

Context = TaskContext[VectorParams, NoInput]


def finalize(ctx: Context) -> Published:
    """Checkpointed in the transaction that publishes the tables: a retry after that commit (its
    result lost with its worker) returns the same result instead of failing on renamed tables."""
    result = ctx.checkpoint_data("published", Published) or _publish(ctx)
    # The work files are spent once published; the repair report stays, owned by the release.
    for folder in ("chunks", "parts"):
        ctx.storage.delete_folder("silver", f"{ctx.params.work_prefix}/{folder}")
    for spent in ("inspect.json", "summary.json"):
        ctx.storage.delete("silver", f"{ctx.params.work_prefix}/{spent}")
    return result


def _publish(ctx: Context) -> Published:
    params = ctx.params
    summary = Summary.model_validate_json(ctx.storage.get("silver", f"{params.work_prefix}/summary.json"))
    schema = params.target_schema
    constants = {
        "source_file": summary.source.file,
        "source_format": summary.source.format,
        "source_crs": summary.source.crs,
        "etl_job_id": ctx.job_id,
    }
    with ThreadPoolExecutor(max_workers=len(INDEXES)) as pool:
        for table in summary.tables:
            build_indexes(
                pool, partial(ctx.connect, autocommit=True), schema, table.staging, params.geometry_column
            )
        # the source's digest is read on the core ANALYZE leaves free
        digest = pool.submit(ctx.storage.sha256, params.container, params.path)
        with ctx.connect() as conn:
            for table in summary.tables:
                _check_count(conn, schema, table)
                complete_table(conn, schema, table.staging, table.expected, params.geometry_column, constants)
                publish(conn, schema, table.staging, table.table_name)
            source = DigestedSource(**dict(summary.source), sha256=digest.result())
            produced = _register_all(conn, ctx, summary, source)
            result = Published(
                tables=produced,
                columns=summary.columns,
                warnings=summary.warnings,
                outputs=Outputs(repair_report=summary.repair_report, source=source),
            )
            ctx.checkpoint("published", result, conn)
    return result


def _register_all(
    conn: Connection, ctx: Context, summary: Summary, source: DigestedSource
) -> list[ProducedTable]:
    """The catalog and tracking rows of every table, and its split_column views."""
    produced = []
    for table in summary.tables:
        role = "geometry_split" if table.suffix else "primary"
        produced.append(_register(conn, ctx, summary, source, table, table.table_name, role, table.suffix))
        if ctx.params.split_column:
            produced += _split_views(conn, ctx, summary, source, table)
    return produced


def _check_count(conn: Connection, schema: str, table: StagingTable) -> None:
    loaded = conn.execute(
        sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(schema, table.staging))
    )
    count = loaded.fetchone()["n"]  # type: ignore[index]
    if count != table.expected:
        raise RuntimeError(f"{table.staging} holds {count} rows; {table.expected} were prepared")


def _register(
    conn: Connection,
    ctx: Context,
    summary: Summary,
    source: DigestedSource,
    table: StagingTable,
    name: str,
    role: str,
    suffix: str,
    count: int | None = None,
) -> ProducedTable:
    params = ctx.params
    features = table.expected if count is None else count
    conn.execute(
        queries("vector")["catalog_row"],
        {
            "schema_name": params.target_schema,
            "table_name": name,
            "title": params.title or name,
            "description": params.description,
            "bbox": table.bbox,
            "feature_count": features,
            "geometry_type": table.geometry_type,
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
            "source_file": source.file,
            "source_format": source.format,
            "source_crs": source.crs,
            "source_sha256": source.sha256,
            "feature_count": features,
            "dropped_count": sum(
                w.count or 0
                for w in summary.warnings
                if w.code.endswith("_DROPPED") and w.code != "ALL_NULL_COLUMN_DROPPED"
            ),
            "warnings": Jsonb([w.model_dump(mode="json") for w in summary.warnings]),
            "timings": Jsonb({}),
        },
    )
    return ProducedTable(
        table_name=name,
        schema_name=params.target_schema,
        geometry_type=table.geometry_type,
        feature_count=features,
        table_role=role,
        table_suffix=suffix,
    )


def _split_views(
    conn: Connection, ctx: Context, summary: Summary, source: DigestedSource, table: StagingTable
) -> list[ProducedTable]:
    """One view per distinct value of split_column (at most 20), each its own collection."""
    params = ctx.params
    column = next(
        (c.name for c in summary.columns if params.split_column in (c.source, c.name)),
        None,
    )
    if column is None:
        raise InvalidInput(
            f"split_column {params.split_column!r} is not a column of the file.",
            "Name one of: " + ", ".join(c.source for c in summary.columns) + ".",
        )
    base = sql.Identifier(params.target_schema, table.table_name)
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
        suffix = table.suffix + "_" + sanitize_identifier(str(row["value"]))[:20]
        name = params.table_name + suffix
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {} WHERE {} = {}").format(
                sql.Identifier(params.target_schema, name),
                base,
                sql.Identifier(column),
                sql.Literal(row["value"]),
            )
        )
        views.append(_register(conn, ctx, summary, source, table, name, "view", suffix, row["n"]))
    return views
