"""The generator handles every construct the models use: a synthetic model exercises each one."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import NOW, SqlFunction, Trigger
from terrace.db.models.common import SET_UPDATED_AT
from terrace.db.schema import SchemaModel, drift, ensure


def build_model(states: tuple[str, ...] = ("draft", "done")) -> SchemaModel:
    metadata = sa.MetaData()
    state = pg.ENUM(*states, name="state", schema="gen", metadata=metadata)
    parent = sa.Table(
        "parent",
        metadata,
        sa.Column("tenant", sa.Text, primary_key=True),
        sa.Column("code", sa.Integer, primary_key=True),
        sa.Column("state", state, nullable=False, server_default="draft"),
        sa.Column("attrs", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW),
        sa.Index("ix_parent_pending", "tenant", postgresql_where=sa.text("state = 'draft'")),
        schema="gen",
    )
    sa.Table(
        "child",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant", "code"],
            ["gen.parent.tenant", "gen.parent.code"],
            name="fk_child_parent",
            ondelete="CASCADE",
        ),
        schema="gen",
    )
    trigger = Trigger("trg_parent_updated_at", parent, SET_UPDATED_AT, "BEFORE UPDATE")
    return SchemaModel(
        metadata, owned_schemas=("gen", "app"), functions=(SET_UPDATED_AT,), triggers=(trigger,)
    )


@pytest.fixture
def model_url(empty_database_url: str) -> str:
    ensure(empty_database_url, build_model())
    return empty_database_url


def test_every_construct_is_created_and_matches(model_url: str) -> None:
    assert drift(model_url, build_model()) == []
    with psycopg.connect(model_url, autocommit=True) as conn:
        conn.execute("INSERT INTO gen.parent (tenant, code) VALUES ('a', 1)")
        conn.execute("INSERT INTO gen.child (tenant, code) VALUES ('a', 1)")
        row = conn.execute("SELECT state::text, attrs, created_at IS NOT NULL FROM gen.parent").fetchone()
        assert row == ("draft", {}, True)
        conn.execute("UPDATE gen.parent SET attrs = '{\"x\": 1}'")
        changed = conn.execute("SELECT updated_at > created_at FROM gen.parent").fetchone()
        assert changed == (True,)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO gen.child (tenant, code) VALUES ('a', 2)")


def test_a_new_enum_value_is_drift_and_ensure_adds_it(model_url: str) -> None:
    grown = build_model(("draft", "done", "archived"))
    assert [(d.kind, d.detail) for d in drift(model_url, grown)] == [("missing_enum_value", "archived")]
    assert ensure(model_url, grown) == ["added value 'archived' to enum gen.state"]
    assert drift(model_url, grown) == []


def test_dropped_foreign_key_and_partial_index_are_reported_and_restored(model_url: str) -> None:
    with psycopg.connect(model_url) as conn:
        conn.execute("ALTER TABLE gen.child DROP CONSTRAINT fk_child_parent")
        conn.execute("DROP INDEX gen.ix_parent_pending")
    found = {(d.kind, d.object) for d in drift(model_url, build_model())}
    assert ("missing_constraint", "gen.child.fk_child_parent") in found
    assert ("missing_index", "gen.ix_parent_pending") in found
    ensure(model_url, build_model())
    assert drift(model_url, build_model()) == []


def test_a_changed_default_and_type_are_reported(model_url: str) -> None:
    with psycopg.connect(model_url) as conn:
        conn.execute("ALTER TABLE gen.parent ALTER COLUMN code TYPE bigint")
        conn.execute("ALTER TABLE gen.parent ALTER COLUMN attrs SET DEFAULT '[]'::jsonb")
    found = {(d.kind, d.object) for d in drift(model_url, build_model())}
    assert ("type_mismatch", "gen.parent.code") in found
    assert ("default_mismatch", "gen.parent.attrs") in found


def test_a_missing_function_is_reported(model_url: str) -> None:
    extra = SqlFunction("app", "nowhere", "", "set_updated_at.sql")
    model = build_model()
    model = SchemaModel(
        model.metadata, model.owned_schemas, functions=(*model.functions, extra), triggers=model.triggers
    )
    assert [(d.kind, d.object) for d in drift(model_url, model)] == [("missing_function", "app.nowhere()")]
