"""Each process's database role can do its job and nothing more: tried with each role's own connection."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from terrace.catalog.relations import move_relation
from terrace.db.models.catalog import DRAFT_SCHEMA, SERVED_SCHEMA
from terrace.db.pool import connect
from terrace.db.roles import RoleUrls

DENIED = psycopg.errors.InsufficientPrivilege


def attempt(url: str, statement: str) -> type[Exception] | None:
    """The error class a statement fails with as the role of `url`, or None when it succeeds."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return type(exc)
    return None


@pytest.fixture
def draft_and_served(databases: RoleUrls) -> None:
    """A draft table and a served one, made and moved by the application role as approval does."""
    with connect(databases.app) as conn:
        for name in ("floods_ord1", "floods_ord2"):
            conn.execute(sql.SQL("CREATE TABLE {} (objectid int)").format(sql.Identifier(DRAFT_SCHEMA, name)))
            conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(sql.Identifier(DRAFT_SCHEMA, name)))
        move_relation(conn, DRAFT_SCHEMA, "floods_ord1", SERVED_SCHEMA, "floods_v1")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT key_hash FROM app.api_keys",
        "SELECT count(*) FROM app.asset_releases",
        "SELECT * FROM geo_draft.floods_ord2",
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT lo_export(lo_create(0), '/tmp/terrace-attack')",
        "SELECT lo_import('/etc/hostname')",
        "COPY (SELECT 1) TO '/tmp/terrace-attack'",
        "CREATE TABLE geo.planted (id int)",
        "DELETE FROM geo.table_catalog",
        "DELETE FROM geo.floods_v1",
        "DELETE FROM pgstac.items",
    ],
)
def test_the_serving_role_reads_nothing_but_served_data(
    databases: RoleUrls, draft_and_served: None, statement: str
) -> None:
    assert attempt(databases.serving, statement) is DENIED


def test_the_serving_role_reads_served_tables_the_catalog_and_pgstac(
    databases: RoleUrls, draft_and_served: None
) -> None:
    with psycopg.connect(databases.serving) as conn:
        assert conn.execute("SELECT objectid FROM geo.floods_v1").fetchall() == [(1,)]
        assert conn.execute("SELECT count(*) FROM geo.table_catalog").fetchone() is not None
        conn.execute("SET search_path TO pgstac, public")  # as stac-fastapi and titiler connect
        assert conn.execute("SELECT pgstac.search('{}')").fetchone() is not None
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)


def test_a_relation_leaving_the_served_schema_is_no_longer_readable(
    databases: RoleUrls, draft_and_served: None
) -> None:
    with connect(databases.app) as conn:
        move_relation(conn, SERVED_SCHEMA, "floods_v1", DRAFT_SCHEMA, "floods_v1")
    assert attempt(databases.serving, "SELECT * FROM geo_draft.floods_v1") is DENIED


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT key_hash FROM app.api_keys",
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT lo_import('/etc/hostname')",
        "CREATE TABLE geo_draft.planted (id int)",
        "DELETE FROM geo_draft.floods_ord2",
    ],
)
def test_the_preview_role_only_reads_drafts(
    databases: RoleUrls, draft_and_served: None, statement: str
) -> None:
    assert attempt(databases.preview, statement) is DENIED


def test_the_preview_role_reads_drafts(databases: RoleUrls, draft_and_served: None) -> None:
    with psycopg.connect(databases.preview) as conn:
        assert conn.execute("SELECT objectid FROM geo_draft.floods_ord2").fetchall() == [(1,)]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT lo_import('/etc/hostname')",
        "SELECT lo_export(lo_create(0), '/tmp/terrace-attack')",
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "CREATE EXTENSION IF NOT EXISTS dblink",
        "ALTER ROLE terrace_app SUPERUSER",
        "DROP SCHEMA app CASCADE",
    ],
)
def test_the_application_role_is_no_superuser(databases: RoleUrls, statement: str) -> None:
    assert attempt(databases.app, statement) is DENIED


def test_the_application_role_is_not_a_superuser(databases: RoleUrls) -> None:
    with psycopg.connect(databases.app) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (
            False,
        )
