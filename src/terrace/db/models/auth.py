"""API keys: hashed secrets with one role each, and an optional expiry."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import created_at, metadata

ROLES = ("reader", "submitter", "reviewer", "admin")
role_enum = pg.ENUM(*ROLES, name="role", schema="app", metadata=metadata)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", role_enum, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    created_at(),
    sa.Column("last_used_at", pg.TIMESTAMP(timezone=True)),
    sa.Column("revoked_at", pg.TIMESTAMP(timezone=True)),
    # Unset: the key works until revoked.
    sa.Column("expires_at", pg.TIMESTAMP(timezone=True)),
    sa.Index("ix_api_keys_active_role", "role", postgresql_where=sa.text("revoked_at IS NULL")),
    schema="app",
)
