"""DDL of loaded tables: objectid identity key, typed columns, geometry, standard metadata columns."""

from __future__ import annotations

from psycopg import sql

from terrace.catalog.relations import relation_kind
from terrace.db.pool import Connection
from terrace.errors import Conflict
from terrace.ingest.vector.columns import Column

GEOMETRY_TYPES = ("MultiPoint", "MultiLineString", "MultiPolygon")
SUFFIXES = ("_point", "_line", "_polygon")


def staging_name(job_id: str, family: int) -> str:
    """Loads go to a name of the job's own; finalize renames it to the release's table name."""
    return f"stg_{job_id[:12]}{SUFFIXES[family]}"


def require_free(conn: Connection, schema: str, name: str) -> None:
    if relation_kind(conn, schema, name) is not None:
        raise Conflict(
            f"Table {schema}.{name} already exists; Terrace never overwrites a table.",
            "Submit with overwrite=true to replace your draft, or use another resource_id.",
        )


def create_table(
    conn: Connection,
    schema: str,
    name: str,
    columns: list[Column],
    family: int,
    geometry_column: str,
    keep_z: bool,
    constants: dict[str, str],
) -> None:
    """The table a load fills; constant metadata arrives through column defaults."""
    geometry_type = GEOMETRY_TYPES[family] + ("Z" if keep_z else "")
    definitions: list[sql.Composable] = [sql.SQL("objectid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")]
    definitions += [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in columns]
    definitions.append(
        sql.SQL("{} geometry({}, 4326)").format(sql.Identifier(geometry_column), sql.SQL(geometry_type))
    )
    definitions += [
        sql.SQL("created_at timestamptz NOT NULL DEFAULT now()"),
        sql.SQL("updated_at timestamptz NOT NULL DEFAULT now()"),
    ]
    for column in ("source_file", "source_format", "source_crs", "etl_job_id"):
        definitions.append(
            sql.SQL("{} text DEFAULT {}").format(sql.Identifier(column), sql.Literal(constants[column]))
        )
    definitions += [
        sql.SQL("stac_item_id text"),
        sql.SQL("stac_collection_id text"),
        sql.SQL("etl_batch_id text"),
    ]
    table = sql.Identifier(schema, name)
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(definitions)))


def drop_table(conn: Connection, schema: str, name: str) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, name)))


def index_and_publish(conn: Connection, schema: str, staging: str, final: str, geometry_column: str) -> None:
    """Spatial and metadata indexes (built after the load, not maintained during it), the
    updated_at trigger, statistics; then the final name."""
    table = sql.Identifier(schema, staging)
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(table, sql.Identifier(geometry_column)))
    conn.execute(sql.SQL("CREATE INDEX ON {} (etl_batch_id)").format(table))
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER set_updated_at BEFORE UPDATE ON {} FOR EACH ROW "
            "EXECUTE FUNCTION app.set_updated_at()"
        ).format(table)
    )
    require_free(conn, schema, final)
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(table, sql.Identifier(final)))
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, final)))
