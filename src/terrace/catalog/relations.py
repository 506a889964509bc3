"""Moving, renaming and dropping a release's tables and views, with their catalog rows."""

from __future__ import annotations

from psycopg import sql

from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.db.roles import SERVING_ROLE
from terrace.errors import Conflict


def relation_kind(conn: Connection, schema: str, name: str) -> str | None:
    """'r' (table), 'v' (view), 'm' (materialized view), or None when absent."""
    row = conn.execute(queries("releases")["relation_kind"], {"schema": schema, "name": name}).fetchone()
    return None if row is None else str(row["kind"])


def _keyword(kind: str | None) -> sql.SQL:
    return sql.SQL("VIEW" if kind == "v" else "TABLE")


def move_relation(conn: Connection, schema_from: str, name_from: str, schema_to: str, name_to: str) -> None:
    """Move a table or view to another schema under another name; never overwrites."""
    kind = relation_kind(conn, schema_from, name_from)
    if kind is None:
        raise Conflict(
            f"Output {schema_from}.{name_from} is missing.",
            "Run the catalog consistency check; resubmit the release with overwrite to rebuild it.",
        )
    if relation_kind(conn, schema_to, name_to) is not None:
        raise Conflict(
            f"{schema_to}.{name_to} already exists; it is never overwritten.",
            "Choose another version_id, or unpublish the release that owns that table first.",
        )
    keyword = _keyword(kind)
    if name_from != name_to:
        conn.execute(
            sql.SQL("ALTER {} {} RENAME TO {}").format(
                keyword, sql.Identifier(schema_from, name_from), sql.Identifier(name_to)
            )
        )
    conn.execute(
        sql.SQL("ALTER {} {} SET SCHEMA {}").format(
            keyword, sql.Identifier(schema_from, name_to), sql.Identifier(schema_to)
        )
    )
    if schema_to == SERVED_SCHEMA:
        grant_serving(conn, name_to)
    elif schema_from == SERVED_SCHEMA:
        conn.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(
                sql.Identifier(schema_to, name_to), sql.Identifier(SERVING_ROLE)
            )
        )
    conn.execute(
        queries("releases")["move_catalog_row"],
        {"schema_from": schema_from, "name_from": name_from, "schema_to": schema_to, "name_to": name_to},
    )


def grant_serving(conn: Connection, name: str) -> None:
    """Let the serving role read a relation of the served schema: it reads nothing else."""
    conn.execute(
        sql.SQL("GRANT SELECT ON {} TO {}").format(
            sql.Identifier(SERVED_SCHEMA, name), sql.Identifier(SERVING_ROLE)
        )
    )


def drop_relation(conn: Connection, schema: str, name: str) -> None:
    """Drop a table or view (if present) and its catalog row."""
    kind = relation_kind(conn, schema, name)
    if kind is not None:
        conn.execute(sql.SQL("DROP {} {}").format(_keyword(kind), sql.Identifier(schema, name)))
    conn.execute(queries("releases")["delete_catalog_row"], {"schema": schema, "name": name})
