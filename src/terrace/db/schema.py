"""Schema management from the models: ensure (additive, idempotent) and drift (a report).

Tables, columns, indexes and constraints come from SQLAlchemy metadata and are compared with
Alembic's autogenerate; enums, SQL functions and triggers are checked here, since Alembic does
not compare them. A function carries the SHA-256 of its file as its comment, so an outdated
body shows as drift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from psycopg import sql
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import AddConstraint

from terrace.db.models.base import SqlFunction, Trigger


@dataclass(frozen=True)
class SchemaModel:
    """What the models own: every table of `owned_schemas`, and their own tables elsewhere."""

    metadata: sa.MetaData
    owned_schemas: tuple[str, ...]
    shared_schemas: tuple[str, ...] = ()
    functions: tuple[SqlFunction, ...] = ()
    triggers: tuple[Trigger, ...] = ()

    @property
    def schemas(self) -> tuple[str, ...]:
        return self.owned_schemas + self.shared_schemas


@dataclass(frozen=True)
class Difference:
    """One way the live database differs from the models."""

    kind: str
    object: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.object}" + (f" ({self.detail})" if self.detail else "")


def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)


def ensure(url: str, model: SchemaModel) -> list[str]:
    """Create what is missing and allow NULL where the models now do, in one transaction; never
    drop, narrow or tighten. Returns what was done."""
    done: list[str] = []
    engine = engine_for(url)
    with engine.begin() as conn:
        for schema in model.schemas:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        done += _ensure_enums(conn, model)
        missing = [t for t in model.metadata.sorted_tables if not _has_table(conn, t)]
        model.metadata.create_all(conn, tables=missing)
        done += [f"created table {t.fullname}" for t in missing]
        done += _add_missing_parts(conn, model)
        done += _ensure_functions(conn, model.functions)
        done += _ensure_triggers(conn, model.triggers)
    engine.dispose()
    return done


def drift(url: str, model: SchemaModel) -> list[Difference]:
    """Every difference between the live database and the models; empty when they match."""
    engine = engine_for(url)
    with engine.connect() as conn:
        found = [_describe(d) for d in _alembic_diffs(conn, model)]
        found += _enum_drift(conn, model)
        found += _function_drift(conn, model.functions)
        found += _trigger_drift(conn, model.triggers)
    engine.dispose()
    return found


def _alembic_diffs(conn: sa.Connection, model: SchemaModel) -> Iterator[Any]:
    def include_name(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
        if type_ == "schema":
            return name in model.schemas
        if type_ == "table":
            schema = parents.get("schema_name")
            return schema in model.owned_schemas or f"{schema}.{name}" in model.metadata.tables
        return True

    context = MigrationContext.configure(
        conn,
        opts={
            "include_schemas": True,
            "include_name": include_name,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    for diff in compare_metadata(context, model.metadata):
        # Column modifications come grouped in a list per column.
        yield from diff if isinstance(diff, list) else [diff]


def _add_missing_parts(conn: sa.Connection, model: SchemaModel) -> list[str]:
    operations = Operations(MigrationContext.configure(conn))
    done = []
    for diff in _alembic_diffs(conn, model):
        kind = diff[0]
        if kind == "add_column":
            _, schema, table, column = diff
            operations.add_column(table, column._copy(), schema=schema)
            done.append(f"added column {schema}.{table}.{column.name}")
        elif kind == "add_index":
            diff[1].create(conn)
            done.append(f"created index {diff[1].name}")
        elif kind in ("add_constraint", "add_fk"):
            conn.execute(AddConstraint(diff[1]))
            done.append(f"added constraint {diff[1].name}")
        elif kind == "modify_nullable" and diff[6] is True:
            # A column the models made optional: loosening NOT NULL loses nothing.
            _, schema, table, column, existing, _, _ = diff
            operations.alter_column(table, column, schema=schema, nullable=True, **existing)
            done.append(f"allowed NULL in {schema}.{table}.{column}")
    return done


def _describe(diff: Any) -> Difference:
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        return Difference(_state(kind) + "_table", diff[1].fullname)
    if kind in ("add_column", "remove_column"):
        _, schema, table, column = diff
        return Difference(_state(kind) + "_column", f"{schema}.{table}.{column.name}")
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        return Difference(_state(kind) + "_index", f"{index.table.schema}.{index.name}")
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        return Difference(_state(kind) + "_constraint", f"{constraint.table.fullname}.{constraint.name}")
    if kind.startswith("modify_"):
        _, schema, table, column, _existing, old, new = diff
        what = kind.removeprefix("modify_")
        return Difference(
            f"{what}_mismatch", f"{schema}.{table}.{column}", f"database {old!r}, models {new!r}"
        )
    return Difference("other", repr(diff))


def _state(kind: str) -> str:
    return "missing" if kind.startswith("add_") else "extra"


def _enums(model: SchemaModel) -> dict[tuple[str, str], tuple[str, ...]]:
    found = {}
    for table in model.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.name:
                schema = column.type.schema or table.schema or "public"
                found[(schema, column.type.name)] = tuple(column.type.enums)
    return found


def _enum_labels(conn: sa.Connection, schema: str, name: str) -> list[str] | None:
    row = conn.execute(
        sa.text(
            "SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels "
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "LEFT JOIN pg_enum e ON e.enumtypid = t.oid "
            "WHERE n.nspname = :schema AND t.typname = :name GROUP BY t.oid"
        ),
        {"schema": schema, "name": name},
    ).first()
    return None if row is None else list(row.labels or [])


def _ensure_enums(conn: sa.Connection, model: SchemaModel) -> list[str]:
    done = []
    for (schema, name), labels in _enums(model).items():
        existing = _enum_labels(conn, schema, name)
        if existing is None:
            sa.Enum(*labels, name=name, schema=schema).create(conn)
            done.append(f"created enum {schema}.{name}")
            continue
        for label in labels:
            if label not in existing:
                _driver(conn).execute(
                    sql.SQL("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}").format(
                        sql.Identifier(schema, name), sql.Literal(label)
                    )
                )
                done.append(f"added value {label!r} to enum {schema}.{name}")
    return done


def _enum_drift(conn: sa.Connection, model: SchemaModel) -> list[Difference]:
    found = []
    for (schema, name), labels in _enums(model).items():
        existing = _enum_labels(conn, schema, name)
        if existing is None:
            found.append(Difference("missing_enum", f"{schema}.{name}"))
            continue
        found += [
            Difference("missing_enum_value", f"{schema}.{name}", v) for v in labels if v not in existing
        ]
        found += [Difference("extra_enum_value", f"{schema}.{name}", v) for v in existing if v not in labels]
    return found


def _function_source(function: SqlFunction) -> str:
    return resources.files("terrace.db.sql").joinpath(function.file).read_text()


def _file_digest(function: SqlFunction) -> str:
    return hashlib.sha256(_function_source(function).encode()).hexdigest()


def _function_state(conn: sa.Connection, function: SqlFunction) -> str:
    """'missing', 'outdated' (file changed, or body replaced by hand) or 'current'.

    The comment records the file's digest and the md5 of the body as ensure defined it.
    """
    row = conn.execute(
        sa.text(
            "SELECT obj_description(p.oid, 'pg_proc') AS tag, md5(p.prosrc) AS body "
            "FROM pg_proc p WHERE p.oid = to_regprocedure(:fn)"
        ),
        {"fn": function.regprocedure},
    ).first()
    if row is None:
        return "missing"
    return "current" if row.tag == f"terrace {_file_digest(function)} {row.body}" else "outdated"


def _ensure_functions(conn: sa.Connection, functions: tuple[SqlFunction, ...]) -> list[str]:
    done = []
    for function in functions:
        if _function_state(conn, function) == "current":
            continue
        _driver(conn).execute(_function_source(function).encode())
        body = conn.execute(
            sa.text("SELECT md5(prosrc) FROM pg_proc WHERE oid = to_regprocedure(:fn)"),
            {"fn": function.regprocedure},
        ).scalar()
        _driver(conn).execute(
            sql.SQL("COMMENT ON FUNCTION {}({}) IS {}").format(
                sql.Identifier(function.schema, function.name),
                sql.SQL(function.signature),
                sql.Literal(f"terrace {_file_digest(function)} {body}"),
            )
        )
        done.append(f"defined function {function.regprocedure}")
    return done


def _function_drift(conn: sa.Connection, functions: tuple[SqlFunction, ...]) -> list[Difference]:
    found = []
    for function in functions:
        state = _function_state(conn, function)
        if state != "current":
            found.append(Difference(f"{state}_function", function.regprocedure))
    return found


def _trigger_exists(conn: sa.Connection, trigger: Trigger) -> bool:
    return bool(
        conn.execute(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
                "AND n.nspname = :schema AND c.relname = :table AND t.tgname = :name)"
            ),
            {"schema": trigger.table.schema, "table": trigger.table.name, "name": trigger.name},
        ).scalar()
    )


def _ensure_triggers(conn: sa.Connection, triggers: tuple[Trigger, ...]) -> list[str]:
    done = []
    for trigger in triggers:
        if _trigger_exists(conn, trigger):
            continue
        _driver(conn).execute(
            sql.SQL("CREATE TRIGGER {} {} ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
                sql.Identifier(trigger.name),
                sql.SQL(trigger.timing),
                sql.Identifier(trigger.table.schema or "public", trigger.table.name),
                sql.Identifier(trigger.function.schema, trigger.function.name),
            )
        )
        done.append(f"created trigger {trigger.name}")
    return done


def _trigger_drift(conn: sa.Connection, triggers: tuple[Trigger, ...]) -> list[Difference]:
    return [
        Difference("missing_trigger", f"{t.table.fullname}.{t.name}")
        for t in triggers
        if not _trigger_exists(conn, t)
    ]


def _has_table(conn: sa.Connection, table: sa.Table) -> bool:
    return sa.inspect(conn).has_table(table.name, schema=table.schema)


def _driver(conn: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under SQLAlchemy's, in the same transaction."""
    return conn.connection.driver_connection  # type: ignore[return-value]
