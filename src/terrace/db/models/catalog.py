"""geo.table_catalog: service-layer metadata of served tables (replicable: no internal ids)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import SqlFunction, Trigger, created_at, metadata, updated_at
from terrace.db.models.common import SET_UPDATED_AT

# Served releases' tables and views live in SERVED_SCHEMA, drafts and revoked ones in DRAFT_SCHEMA;
# the catalog (in the served schema) describes both.
SERVED_SCHEMA = "geo"
DRAFT_SCHEMA = "geo_draft"
ACCESS_LEVELS = ("public", "ouo", "restricted")
access_level_enum = pg.ENUM(*ACCESS_LEVELS, name="access_level", schema=SERVED_SCHEMA, metadata=metadata)

table_catalog = sa.Table(
    "table_catalog",
    metadata,
    sa.Column("schema_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("bbox", pg.ARRAY(sa.Float(precision=53))),
    sa.Column("feature_count", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("geometry_type", sa.Text),
    sa.Column("srid", sa.Integer, nullable=False, server_default=sa.text("4326")),
    sa.Column("table_group", sa.Text),
    sa.Column("stac_item_id", sa.Text),
    sa.Column("stac_collection_id", sa.Text),
    sa.Column("keywords", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("access_level", access_level_enum, nullable=False, server_default="ouo"),
    # Roles that may see a `restricted` table (a role includes those below it; admin sees all).
    sa.Column("granted_roles", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("properties", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    created_at(),
    updated_at(),
    sa.Index("ix_table_catalog_table_group", "table_group"),
    schema=SERVED_SCHEMA,
)

VISIBLE_TO = SqlFunction("geo", "visible_to", "geo.access_level, text[], text[], text[]", "visible_to.sql")

TRIGGERS = (Trigger("trg_table_catalog_updated_at", table_catalog, SET_UPDATED_AT, "BEFORE UPDATE"),)
