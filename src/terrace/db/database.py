"""The whole Terrace database: extensions, pgSTAC (installed by pypgstac) and the models' schema."""

from __future__ import annotations

from importlib import resources

from psycopg import sql
from pypgstac import __version__ as PGSTAC_VERSION
from pypgstac.db import PgstacDB
from pypgstac.migrate import Migrate

from terrace.db import models, roles, schema
from terrace.db.pool import Connection, connect, fetch_one
from terrace.db.schema import Difference, SchemaModel

MODEL = SchemaModel(
    metadata=models.metadata,
    owned_schemas=("app",),
    shared_schemas=(models.catalog.SERVED_SCHEMA, models.catalog.DRAFT_SCHEMA),
    functions=models.FUNCTIONS,
    triggers=models.TRIGGERS,
)
EXTENSIONS = ("postgis",)
# Dropped and recreated together by rebuild: job ids and STAC items reference each other.
REBUILT_SCHEMAS = ("app", "pgstac")
# Schemas kept as static SQL files (idempotent), applied whole by ensure; the tables each creates.
STATIC_SCHEMAS = {"h3.sql": ("h3.grids", "h3.cells")}


def ensure_database(url: str) -> list[str]:
    """Bring any database to a working state; additive and idempotent."""
    done = _ensure_extensions(url)
    done += _ensure_pgstac(url)
    done += schema.ensure(url, MODEL)
    done += _ensure_static(url)
    served_model_tables = [
        table.name for table in MODEL.metadata.tables.values() if table.schema == models.catalog.SERVED_SCHEMA
    ]
    done += roles.ensure_roles(url, served_model_tables)
    return done


def rebuild_database(url: str) -> list[str]:
    """Drop and recreate `app` and `pgstac`; `geo` and its data are never touched."""
    with connect(url) as conn:
        for name in REBUILT_SCHEMAS:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    return [f"dropped schema {name}" for name in REBUILT_SCHEMAS] + ensure_database(url)


def database_drift(url: str) -> list[Difference]:
    """Everything that differs from what `ensure_database` would produce."""
    with connect(url) as conn:
        installed = {row["extname"] for row in conn.execute("SELECT extname FROM pg_extension")}
        version = pgstac_version(conn)
    found = [Difference("missing_extension", name) for name in EXTENSIONS if name not in installed]
    if version != PGSTAC_VERSION:
        found.append(Difference("pgstac_version", "pgstac", f"database {version}, expected {PGSTAC_VERSION}"))
    with connect(url) as conn:
        found += [Difference("missing_table", table) for table in _missing_static_tables(conn)]
    return found + schema.drift(url, MODEL)


def pgstac_version(conn: Connection) -> str | None:
    """The installed pgSTAC version, or None where pgSTAC is not installed."""
    row = conn.execute("SELECT to_regprocedure('pgstac.get_version()') IS NOT NULL AS ok").fetchone()
    if not row or not row["ok"]:
        return None
    row = conn.execute("SELECT pgstac.get_version() AS version").fetchone()
    return row["version"] if row else None


def _ensure_extensions(url: str) -> list[str]:
    done = []
    with connect(url) as conn:
        installed = {row["extname"] for row in conn.execute("SELECT extname FROM pg_extension")}
        for name in EXTENSIONS:
            if name not in installed:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
                done.append(f"created extension {name}")
    return done


def _missing_static_tables(conn: Connection) -> list[str]:
    tables = [table for tables in STATIC_SCHEMAS.values() for table in tables]
    row = fetch_one(
        conn,
        "SELECT array_agg(t) FILTER (WHERE to_regclass(t) IS NULL) AS missing "
        "FROM unnest(%(tables)s::text[]) t",
        {"tables": tables},
    )
    return row["missing"] or []


def _ensure_static(url: str) -> list[str]:
    """Apply each static schema file (idempotent as a whole); reports those that created tables."""
    with connect(url) as conn:
        missing = set(_missing_static_tables(conn))
        for file in STATIC_SCHEMAS:
            conn.execute(resources.files("terrace.db.sql").joinpath(file).read_text().encode())
    return [f"applied {file}" for file, tables in STATIC_SCHEMAS.items() if missing & set(tables)]


def _ensure_pgstac(url: str) -> list[str]:
    with connect(url) as conn:
        if pgstac_version(conn) == PGSTAC_VERSION:
            return []
    db = PgstacDB(dsn=url)
    try:
        Migrate(db).run_migration()
    finally:
        # PgstacDB keeps a connection checked out of its pool; close both so that nothing
        # lingers (a template database cannot be cloned while anyone is connected).
        if db.connection is not None:
            db.connection.close()
        db.close()
    return [f"migrated pgstac to {PGSTAC_VERSION}"]
