"""Approve, reject, revoke and "latest" on real tables, with releases created directly in SQL."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from terrace.catalog import identity, review
from terrace.catalog.relations import relation_kind
from terrace.errors import Conflict, InvalidInput


def make_release(conn: psycopg.Connection, ordinal: int, suffixes: tuple[str, ...] = ("",)) -> str:
    """A processed draft release of floods/jakarta owning one table per suffix in geo_draft."""
    asset = identity.asset_id("floods", "jakarta")
    release = identity.release_id(asset, f"key{ordinal}")
    conn.execute(
        "INSERT INTO app.assets (asset_id, platform_id, dataset_id, resource_id, data_type) "
        "VALUES (%s, 'terrace', 'floods', 'jakarta', 'vector') ON CONFLICT DO NOTHING",
        (asset,),
    )
    conn.execute(
        "INSERT INTO app.asset_releases (release_id, asset_id, submission_key, version_ordinal, access_level,"
        " source, processing_status) VALUES (%s, %s, %s, %s, 'public', %s, 'completed')",
        (release, asset, f"key{ordinal}", ordinal, Jsonb({"container": "bronze", "path": "x.gpkg"})),
    )
    base = identity.draft_table_base("floods", "jakarta", ordinal)
    for suffix in suffixes:
        name = base + suffix
        conn.execute(
            sql.SQL("CREATE TABLE {} (objectid int PRIMARY KEY, ordinal int)").format(
                sql.Identifier("geo_draft", name)
            )
        )
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES (1, %s)").format(sql.Identifier("geo_draft", name)), (ordinal,)
        )
        conn.execute(
            "INSERT INTO geo.table_catalog (schema_name, table_name, title, access_level, bbox) "
            "VALUES ('geo_draft', %s, 'Jakarta floods', 'public', '{106.7,-6.3,106.9,-6.1}')",
            (name,),
        )
        conn.execute(
            "INSERT INTO app.release_tables (release_id, table_name, schema_name, geometry_type, "
            "table_role, table_suffix) VALUES (%s, %s, 'geo_draft', 'MULTIPOLYGON', %s, %s)",
            (release, name, "geometry_split" if suffix else "primary", suffix),
        )
    return release


@pytest.fixture
def conn(database_url: str):
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True) as connection:
        yield connection


def latest_ordinal(conn: psycopg.Connection) -> int | None:
    if relation_kind(conn, "geo", "floods_jakarta_latest") is None:
        return None
    return conn.execute("SELECT ordinal FROM geo.floods_jakarta_latest").fetchone()["ordinal"]


def test_approve_moves_tables_to_stable_names_and_latest_follows(conn: psycopg.Connection) -> None:
    first = make_release(conn, 1)
    with conn.transaction():
        approved = review.approve(conn, first, actor="alice", clearance_state="public", notes="looks good")
    assert approved.version_id == "v1" and approved.is_served and approved.reviewer == "alice"
    assert relation_kind(conn, "geo", "floods_jakarta_v1") == "r"
    assert relation_kind(conn, "geo_draft", "floods_jakarta_ord1") is None
    assert latest_ordinal(conn) == 1
    catalog = conn.execute(
        "SELECT table_name FROM geo.table_catalog WHERE schema_name = 'geo' ORDER BY 1"
    ).fetchall()
    assert [r["table_name"] for r in catalog] == ["floods_jakarta_latest", "floods_jakarta_v1"]

    second = make_release(conn, 2)
    with conn.transaction():
        review.approve(conn, second, actor="alice")
    assert latest_ordinal(conn) == 2
    assert relation_kind(conn, "geo", "floods_jakarta_v1") == "r"

    with conn.transaction():
        revoked = review.revoke(conn, second, actor="bob", reason="wrong extent")
    assert revoked.approval_state == "revoked" and not revoked.is_served
    assert latest_ordinal(conn) == 1
    assert relation_kind(conn, "geo", "floods_jakarta_v2") is None
    audit = conn.execute(
        "SELECT action::text, actor, reason FROM app.approval_audit ORDER BY event_id"
    ).fetchall()
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("approve", "alice"),
        ("approve", "alice"),
        ("revoke", "bob"),
    ]


def test_split_tables_move_together_with_suffixes(conn: psycopg.Connection) -> None:
    release = make_release(conn, 1, ("_point", "_line", "_polygon"))
    with conn.transaction():
        review.approve(conn, release, actor="alice", version_id="2024.1")
    for suffix in ("_point", "_line", "_polygon"):
        assert relation_kind(conn, "geo", f"floods_jakarta_2024_1{suffix}") == "r"
        assert relation_kind(conn, "geo", f"floods_jakarta_latest{suffix}") == "v"


def test_transitions_that_do_not_exist_are_refused(conn: psycopg.Connection) -> None:
    release = make_release(conn, 1)
    with pytest.raises(Conflict, match="it is pending_review"):
        review.revoke(conn, release, actor="bob", reason="x")
    with pytest.raises(InvalidInput, match="reason is required"):
        review.reject(conn, release, actor="bob", reason=" ")
    with conn.transaction():
        review.reject(conn, release, actor="bob", reason="no attributes")
    with pytest.raises(Conflict, match="it is rejected"):
        review.approve(conn, release, actor="alice")


def test_unprocessed_release_cannot_be_approved(conn: psycopg.Connection) -> None:
    release = make_release(conn, 1)
    conn.execute("UPDATE app.asset_releases SET processing_status = 'processing'")
    with pytest.raises(Conflict, match="processing is processing"):
        review.approve(conn, release, actor="alice")


def test_a_failed_approval_changes_nothing(conn: psycopg.Connection) -> None:
    release = make_release(conn, 1)
    conn.execute("CREATE TABLE geo.floods_jakarta_v1 (id int)")  # squatter on the served name
    with pytest.raises(Conflict, match="never overwritten"), conn.transaction():
        review.approve(conn, release, actor="alice")
    state = conn.execute("SELECT approval_state::text, version_id FROM app.asset_releases").fetchone()
    assert state == {"approval_state": "pending_review", "version_id": None}
    assert relation_kind(conn, "geo_draft", "floods_jakarta_ord1") == "r"


def test_concurrent_approvals_with_the_same_version_one_wins(
    database_url: str, conn: psycopg.Connection
) -> None:
    releases = [make_release(conn, 1), make_release(conn, 2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(release: str) -> None:
        with psycopg.connect(database_url, row_factory=dict_row) as own:
            barrier.wait()
            try:
                with own.transaction():
                    review.approve(own, release, actor="alice", version_id="v9")
                outcomes.append("approved")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(r,)) for r in releases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "conflict"]
    assert (
        conn.execute("SELECT count(*) AS n FROM app.asset_releases WHERE version_id = 'v9'").fetchone()["n"]
        == 1
    )


def test_long_names_stay_within_postgres_limits() -> None:
    base = identity.served_table_base("d" * 80, "r" * 80, "v1")
    assert len(base + "_polygon") <= 63 and base.endswith("_v1")
    assert base != identity.served_table_base("d" * 80, "r" * 79 + "x", "v1")


def test_unpublish_removes_every_table_and_needs_force_for_approved(conn: psycopg.Connection) -> None:
    from terrace.catalog.unpublish import plan, unpublish

    release = make_release(conn, 1, ("_point", "_line", "_polygon"))
    with conn.transaction():
        review.approve(conn, release, actor="alice")
    with pytest.raises(Conflict, match="is approved and served"):
        unpublish(conn, release, actor="admin")
    from terrace.catalog.releases import find_release

    listed = plan(conn, find_release(conn, release))
    assert sorted(listed.tables) == [f"geo.floods_jakarta_v1{s}" for s in ("_line", "_point", "_polygon")]
    with conn.transaction():
        removed = unpublish(conn, release, actor="admin", force_approved=True)
    assert removed.tables == listed.tables
    left = conn.execute(
        "SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'floods_jakarta%'"
    ).fetchone()
    assert left["n"] == 0
    assert (
        conn.execute("SELECT count(*) AS n FROM pg_views WHERE viewname LIKE 'floods%'").fetchone()["n"] == 0
    )
    assert conn.execute("SELECT count(*) AS n FROM geo.table_catalog").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM app.release_tables").fetchone()["n"] == 0
    state = conn.execute(
        "SELECT approval_state::text, unpublished_at IS NOT NULL AS gone FROM app.asset_releases"
    )
    assert state.fetchone() == {"approval_state": "revoked", "gone": True}
