"""Schema management: ensure, drift and rebuild against a real database."""

from __future__ import annotations

import psycopg

from terrace.db.database import database_drift, ensure_database, rebuild_database


def kinds(differences: list) -> set[tuple[str, str]]:
    return {(d.kind, d.object) for d in differences}


def test_ensure_on_an_empty_database_leaves_no_drift(empty_database_url: str) -> None:
    actions = ensure_database(empty_database_url)
    assert "created extension postgis" in actions
    assert "created table app.api_keys" in actions
    assert database_drift(empty_database_url) == []


def test_ensure_twice_is_a_no_op(owner_database_url: str) -> None:
    database_url = owner_database_url
    assert ensure_database(database_url) == []


def test_drift_reports_a_dropped_column_and_ensure_restores_it(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("ALTER TABLE app.api_keys DROP COLUMN last_used_at")
    assert ("missing_column", "app.api_keys.last_used_at") in kinds(database_drift(database_url))
    assert ensure_database(database_url) == ["added column app.api_keys.last_used_at"]
    assert database_drift(database_url) == []


def test_ensure_allows_null_where_the_models_made_a_column_optional(owner_database_url: str) -> None:
    """A database made before `app.schedules.last_run_at` became optional accepts new schedules."""
    with psycopg.connect(owner_database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.schedules ALTER COLUMN last_run_at SET NOT NULL")
    assert [str(d) for d in database_drift(owner_database_url)] == [
        "nullable_mismatch: app.schedules.last_run_at (database False, models True)"
    ]
    assert "allowed NULL in app.schedules.last_run_at" in ensure_database(owner_database_url)
    assert database_drift(owner_database_url) == []


def test_drift_reports_an_extra_index_that_ensure_leaves_alone(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE INDEX extra_hostname ON app.workers (hostname)")
    assert ("extra_index", "app.extra_hostname") in kinds(database_drift(database_url))
    ensure_database(database_url)
    assert ("extra_index", "app.extra_hostname") in kinds(database_drift(database_url))


def test_drift_reports_a_missing_trigger_and_an_outdated_function(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TRIGGER trg_table_catalog_updated_at ON geo.table_catalog")
        conn.execute(
            "CREATE OR REPLACE FUNCTION app.set_updated_at() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$"
        )
    found = kinds(database_drift(database_url))
    assert ("missing_trigger", "geo.table_catalog.trg_table_catalog_updated_at") in found
    assert ("outdated_function", "app.set_updated_at()") in found
    ensure_database(database_url)
    assert database_drift(database_url) == []


def test_drift_ignores_runtime_tables_in_geo(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE geo.floods_jakarta_v1 (objectid bigint PRIMARY KEY)")
    assert database_drift(database_url) == []


def test_rebuild_recreates_app_and_pgstac_and_never_touches_geo(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE geo.kept (id int)")
        conn.execute("INSERT INTO geo.kept VALUES (42)")
        conn.execute(
            "INSERT INTO app.workers (worker_id, hostname, pid, concurrency) VALUES ('w', 'h', 1, 1)"
        )
    actions = rebuild_database(database_url)
    assert actions[:2] == ["dropped schema app", "dropped schema pgstac"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT id FROM geo.kept").fetchall() == [(42,)]
        assert conn.execute("SELECT count(*) FROM app.workers").fetchone() == (0,)
    assert database_drift(database_url) == []


def test_drift_reports_a_pgstac_version_mismatch(owner_database_url: str) -> None:
    database_url = owner_database_url
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM pgstac.migrations")
        conn.execute("INSERT INTO pgstac.migrations (version) VALUES ('0.9.0')")
    found = [d for d in database_drift(database_url) if d.kind == "pgstac_version"]
    assert found and "database 0.9.0" in found[0].detail
