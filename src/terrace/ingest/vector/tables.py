"""DDL of loaded tables: objectid identity key, typed columns, geometry, standard metadata columns."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager

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
) -> None:
    """The table the loads fill: only what differs row by row (no index, no default, no
    identity), so COPY writes nothing but the rows, and no autovacuum run competes with the
    load; `complete_table` adds the rest."""
    geometry_type = GEOMETRY_TYPES[family] + ("Z" if keep_z else "")
    definitions: list[sql.Composable] = [sql.SQL("objectid bigint NOT NULL")]
    definitions += [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in columns]
    definitions.append(
        sql.SQL("{} geometry({}, 4326)").format(sql.Identifier(geometry_column), sql.SQL(geometry_type))
    )
    definitions.append(sql.SQL("etl_batch_id text"))
    table = sql.Identifier(schema, name)
    conn.execute(
        sql.SQL("CREATE TABLE {} ({}) WITH (autovacuum_enabled = false)").format(
            table, sql.SQL(", ").join(definitions)
        )
    )


# The indexes of a loaded table, by name suffix; each is built on one core, and builds of one
# table do not block each other.
INDEXES = {
    "pkey": "CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} (objectid)",
    "geom": "CREATE INDEX IF NOT EXISTS {name} ON {table} USING gist ({geometry})",
    "batch": "CREATE INDEX IF NOT EXISTS {name} ON {table} (etl_batch_id)",
}


# Sort memory of one index build: a million rows' spatial keys sort in memory instead of on disk.
INDEX_MEMORY = sql.SQL("SET maintenance_work_mem = '256MB'")


def build_indexes(
    pool: Executor,
    connect: Callable[[], AbstractContextManager[Connection]],
    schema: str,
    name: str,
    geometry_column: str,
) -> None:
    """Build the key, spatial and batch indexes of a loaded table at once, one connection each."""

    def build(statement: sql.Composed) -> None:
        with connect() as conn:
            conn.execute(INDEX_MEMORY)
            conn.execute(statement)

    statements = [
        sql.SQL(template).format(
            name=sql.Identifier(f"{name}_{suffix}"),
            table=sql.Identifier(schema, name),
            geometry=sql.Identifier(geometry_column),
        )
        for suffix, template in INDEXES.items()
    ]
    for future in [pool.submit(build, statement) for statement in statements]:
        future.result()


def complete_table(
    conn: Connection, schema: str, name: str, rows: int, geometry_column: str, constants: dict[str, str]
) -> None:
    """After the load and `build_indexes`: the objectid key and identity, the standard metadata
    columns (constants become column defaults, which PostgreSQL keeps in the catalog instead of
    rewriting rows), the updated_at trigger."""
    table = sql.Identifier(schema, name)
    key = sql.Identifier(f"{name}_pkey")
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(table, key, key)
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ALTER objectid ADD GENERATED ALWAYS AS IDENTITY (START WITH {})").format(
            table, sql.Literal(rows + 1)
        )
    )
    added: list[sql.Composable] = [
        sql.SQL("ADD created_at timestamptz NOT NULL DEFAULT now()"),
        sql.SQL("ADD updated_at timestamptz NOT NULL DEFAULT now()"),
    ]
    added += [
        sql.SQL("ADD {} text DEFAULT {}").format(sql.Identifier(column), sql.Literal(constants[column]))
        for column in ("source_file", "source_format", "source_crs", "etl_job_id")
    ]
    added += [
        sql.SQL("ADD stac_item_id text"),
        sql.SQL("ADD stac_collection_id text"),
        sql.SQL("RESET (autovacuum_enabled)"),
    ]
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(table, sql.SQL(", ").join(added)))
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER set_updated_at BEFORE UPDATE ON {} FOR EACH ROW "
            "EXECUTE FUNCTION app.set_updated_at()"
        ).format(table)
    )


def drop_table(conn: Connection, schema: str, name: str) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, name)))


def publish(conn: Connection, schema: str, staging: str, final: str) -> None:
    """The staging table takes its final name, with fresh statistics."""
    require_free(conn, schema, final)
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(schema, staging), sql.Identifier(final))
    )
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, final)))
