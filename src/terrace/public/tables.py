"""Copying a served table from the main database to the target: DDL from the source's catalog,
rows by binary COPY streamed from one connection into the other (memory bounded by one chunk)."""

from __future__ import annotations

from psycopg import sql

from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict


def copy_relation(source: Connection, target: Connection, name: str) -> None:
    """Recreate `geo.{name}` on the target with the source's columns, rows, key and indexes (a view
    with its definition), replacing a relation of that name."""
    q = queries("public")
    relation = sql.Identifier(SERVED_SCHEMA, name)
    regclass = {"relation": relation.as_string(source)}
    found = source.execute(q["relation_kind"], regclass).fetchone()
    if found is None:
        raise Conflict(
            f"Served table {SERVED_SCHEMA}.{name} is missing, so it cannot be exported.",
            "Run the catalog consistency check; the export is retried when the release is cleared again.",
        )
    drop_relation(target, name)
    if found["kind"] == "v":
        # The definition PostgreSQL prints names the tables by schema, identical on the target.
        target.execute(sql.SQL("CREATE VIEW {} AS ").format(relation) + sql.SQL(found["view_definition"]))
        return
    columns = source.execute(q["table_columns"], regclass).fetchall()
    target.execute(
        sql.SQL("CREATE TABLE {} ({})").format(
            relation,
            sql.SQL(", ").join(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(c["name"]),
                    sql.SQL(c["type"]),
                    sql.SQL(" NOT NULL" if c["not_null"] else ""),
                )
                for c in columns
            ),
        )
    )
    names = sql.SQL(", ").join(sql.Identifier(c["name"]) for c in columns)
    _stream_rows(source, target, relation, names)
    # Indexes after the rows: one build each instead of an update per row.
    for index in source.execute(q["table_indexes"], regclass).fetchall():
        target.execute(sql.SQL(index["definition"]))
        if index["constraint_name"]:
            key = sql.Identifier(index["constraint_name"])
            target.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
                    relation, key, key
                )
            )
    target.execute(sql.SQL("ANALYZE {}").format(relation))


def _stream_rows(
    source: Connection, target: Connection, relation: sql.Identifier, names: sql.Composable
) -> None:
    copy_out = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(relation, names)
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(relation, names)
    with source.cursor().copy(copy_out) as rows_out, target.cursor().copy(copy_in) as rows_in:
        for chunk in rows_out:
            rows_in.write(chunk)


def drop_relation(target: Connection, name: str) -> None:
    """Drop `geo.{name}` on the target if present; views reading a dropped table go with it."""
    kind = target.execute(
        queries("public")["relation_kind"],
        {"relation": sql.Identifier(SERVED_SCHEMA, name).as_string(target)},
    ).fetchone()
    if kind is not None:
        keyword = sql.SQL("VIEW" if kind["kind"] == "v" else "TABLE")
        target.execute(sql.SQL("DROP {} {} CASCADE").format(keyword, sql.Identifier(SERVED_SCHEMA, name)))
