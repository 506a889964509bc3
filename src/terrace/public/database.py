"""The public target database: PostGIS, pgSTAC, the served schema's catalog, and its read-only role."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import sqlalchemy as sa
from psycopg import sql

from terrace.db import schema
from terrace.db.database import _ensure_extensions, _ensure_pgstac
from terrace.db.models.base import metadata
from terrace.db.models.catalog import SERVED_SCHEMA, VISIBLE_TO, table_catalog
from terrace.db.pool import connect
from terrace.db.queries import queries
from terrace.db.roles import READ_ROLE_TIMEOUT, role_url
from terrace.errors import SetupError
from terrace.public.target import READER_ROLE

# Only what the serving layer reads: `geo.table_catalog` and the visibility function. The target
# has no `app` schema; jobs, releases and audit stay in the main database.
PUBLIC_METADATA = sa.MetaData(naming_convention=metadata.naming_convention)
table_catalog.to_metadata(PUBLIC_METADATA)
MODEL = schema.SchemaModel(
    metadata=PUBLIC_METADATA, owned_schemas=(), shared_schemas=(SERVED_SCHEMA,), functions=(VISIBLE_TO,)
)


def ensure_public_database(url: str) -> list[str]:
    """Bring the target to a working state as its owner; additive and idempotent like `ensure`."""
    done = _ensure_extensions(url) + _ensure_pgstac(url) + schema.ensure(url, MODEL)
    q = queries("public")
    with connect(url) as conn:
        if conn.execute(q["role_exists"], {"role": READER_ROLE}).fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(READER_ROLE)))
            done.append(f"created role {READER_ROLE}")
        conn.execute(
            sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
                sql.Identifier(READER_ROLE), sql.Literal(READ_ROLE_TIMEOUT)
            )
        )
        conn.execute(q["grant_reader"])
    return done


def create_sibling_database(url: str, name: str) -> str:
    """Database `name` on the server of `url` (created as that owner if missing); returns its URL."""
    with connect(url, autocommit=True) as conn:
        if conn.execute(queries("public")["database_exists"], {"name": name}).fetchone() is None:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise SetupError(
                    f"The owner of TERRACE_DATABASE_URL may not create the public zone's database {name}.",
                    "Create it as the server's admin, or point TERRACE_PUBLIC_DATABASE_URL at another one.",
                ) from exc
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def enable_reader_login(url: str, password: str) -> str:
    """Let the reader log in with this password (given as the owner); returns its URL."""
    with connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(READER_ROLE), sql.Literal(password)
            )
        )
    return role_url(url, READER_ROLE, password)
