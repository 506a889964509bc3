"""Stage 3 of zonal_statistics: one table in the draft schema from the staging table (zone id,
statistics with per-class fractions as columns, geometry), indexed, catalogued, named for the
release; checkpointed in the transaction that makes it, so a retry returns the same result."""

from __future__ import annotations

from psycopg import sql
from psycopg.types.json import Jsonb

from terrace.analytics.zonal.params import Aggregated, AssembleTask, ZonalOutputs, ZonalParams
from terrace.analytics.zonal.stats import StatColumn, class_suffix, stat_columns
from terrace.db.pool import Connection, fetch_one
from terrace.db.queries import queries
from terrace.errors import InvalidInput
from terrace.ingest.vector.contracts import ProducedTable
from terrace.ingest.vector.tables import drop_table, require_free
from terrace.orchestration.definitions import TaskContext

MAX_CLASSES = 100
GEOMETRY_COLUMN = "geom"

Context = TaskContext[ZonalParams, AssembleTask]


def assemble(ctx: Context) -> Aggregated:
    return ctx.checkpoint_data("published", Aggregated) or _assemble(ctx)


def _assemble(ctx: Context) -> Aggregated:
    params, task = ctx.params, ctx.task
    schema, name = params.target_schema, params.table_name
    staging = sql.Identifier(schema, task.staging)
    table = sql.Identifier(schema, name)
    with ctx.connect() as conn:
        staged = fetch_one(conn, sql.SQL("SELECT count(*) AS n FROM {}").format(staging))["n"]
        if staged != task.zones:
            raise RuntimeError(f"{task.staging} holds {staged} zones; {task.zones} were planned")
        require_free(conn, schema, name)
        selected = [_selected(conn, staging, column) for column in stat_columns(params.stats, task.bands)]
        conn.execute(
            sql.SQL(
                "CREATE TABLE {table} AS SELECT row_number() OVER (ORDER BY zone_id) AS objectid, zone_id, "
                "{columns}, ST_Multi(geom)::geometry(MultiPolygon, 4326) AS {geometry} "
                "FROM {staging} ORDER BY zone_id"
            ).format(
                table=table,
                columns=sql.SQL(", ").join(selected),
                geometry=sql.Identifier(GEOMETRY_COLUMN),
                staging=staging,
            )
        )
        _index(conn, table, name)
        bbox = fetch_one(
            conn,
            sql.SQL(
                "SELECT ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)] AS bbox "
                "FROM (SELECT ST_Extent({}) AS e FROM {}) AS extent"
            ).format(sql.Identifier(GEOMETRY_COLUMN), table),
        )["bbox"]
        _catalog(conn, params, name, bbox, task.zones)
        drop_table(conn, schema, task.staging)
        result = Aggregated(
            tables=[
                ProducedTable(
                    table_name=name,
                    schema_name=schema,
                    geometry_type="MULTIPOLYGON",
                    feature_count=task.zones,
                    table_role="primary",
                    table_suffix="",
                )
            ],
            warnings=[],
            outputs=ZonalOutputs(
                raster_release_id=params.raster_release_id,
                weights_release_id=params.weights_release_id,
                zones=params.zones,
                stats=params.stats,
            ),
        )
        ctx.checkpoint("published", result, conn)
    return result


def _selected(conn: Connection, staging: sql.Identifier, column: StatColumn) -> sql.Composable:
    """A statistic's column; a per-class one becomes one column per class found (0 where absent)."""
    source = sql.Identifier(column.name)
    if not column.per_class:
        return source
    rows = conn.execute(
        sql.SQL("SELECT DISTINCT jsonb_object_keys({}::jsonb) AS class FROM {}").format(source, staging)
    ).fetchall()
    classes = sorted((row["class"] for row in rows), key=float)
    if len(classes) > MAX_CLASSES:
        raise InvalidInput(
            f"{column.stat} found {len(classes)} classes in band {column.band}; at most {MAX_CLASSES} fit.",
            "Ask for frac of a categorical raster, or use majority, minority and variety instead.",
        )
    return (
        sql.SQL(", ").join(
            sql.SQL("coalesce(({}::jsonb ->> {})::double precision, 0) AS {}").format(
                source, sql.Literal(value), sql.Identifier(f"{column.name}_{class_suffix(value)}")
            )
            for value in classes
        )
        if classes
        else sql.SQL("NULL::double precision AS {}").format(sql.Identifier(column.name))
    )


def _index(conn: Connection, table: sql.Identifier, name: str) -> None:
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (objectid)").format(table))
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
            sql.Identifier(f"{name}_geom"), table, sql.Identifier(GEOMETRY_COLUMN)
        )
    )
    conn.execute(sql.SQL("ANALYZE {}").format(table))


def _catalog(conn: Connection, params: ZonalParams, name: str, bbox: list[float], zones: int) -> None:
    conn.execute(
        queries("vector")["catalog_row"],
        {
            "schema_name": params.target_schema,
            "table_name": name,
            "title": params.title or name,
            "description": params.description,
            "bbox": bbox,
            "feature_count": zones,
            "geometry_type": "MULTIPOLYGON",
            "table_group": name,
            "keywords": ["zonal statistics"],
            "access_level": params.require_access_level(),
            "properties": Jsonb({"release_id": params.release_id, "geometry_column": GEOMETRY_COLUMN}),
        },
    )
