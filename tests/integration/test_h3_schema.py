"""The `h3` schema: made by ensure from its static file, reported missing by drift, kept by rebuild,
and open to the application role only."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from terrace.db.database import database_drift, ensure_database, rebuild_database
from terrace.db.roles import RoleUrls


def test_drift_reports_a_dropped_h3_table_and_ensure_restores_it(owner_database_url: str) -> None:
    with psycopg.connect(owner_database_url) as conn:
        conn.execute("DROP TABLE h3.cells")
    assert [(d.kind, d.object) for d in database_drift(owner_database_url)] == [("missing_table", "h3.cells")]
    assert ensure_database(owner_database_url) == ["applied h3.sql"]
    assert database_drift(owner_database_url) == []


def test_rebuild_keeps_the_grids(owner_database_url: str) -> None:
    with psycopg.connect(owner_database_url) as conn:
        conn.execute(
            "INSERT INTO h3.grids (name, resolutions, area, status) VALUES ('kept', '{5}', %s, 'ready')",
            (Jsonb({"bbox": [0, 0, 1, 1]}),),
        )
    rebuild_database(owner_database_url)
    with psycopg.connect(owner_database_url) as conn:
        assert conn.execute("SELECT name FROM h3.grids").fetchall() == [("kept",)]


def test_only_the_application_role_reaches_h3(databases: RoleUrls) -> None:
    with psycopg.connect(databases.app) as conn:
        conn.execute("INSERT INTO h3.grids (name, resolutions, area) VALUES ('mine', '{5}', '{}')")
        conn.execute("DELETE FROM h3.grids")
    for url in (databases.serving, databases.preview):
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM h3.cells")
