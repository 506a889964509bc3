"""Web UI sessions: one row per signed-in browser, deleted at sign-out, so a copied cookie dies too."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.auth import role_enum
from terrace.db.models.base import created_at, metadata

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # SHA-256 of the random session id the cookie carries: the table alone signs nobody in.
    sa.Column("session_hash", sa.Text, primary_key=True),
    # Signed in with an API key (looked up on every request) or through the OpenID provider, whose
    # token's `sub` and role the session keeps until it expires or the user signs out.
    sa.Column("key_id", sa.Text, sa.ForeignKey("app.api_keys.key_id", ondelete="CASCADE")),
    sa.Column("subject", sa.Text),
    sa.Column("role", role_enum),
    created_at(),
    sa.Column("expires_at", pg.TIMESTAMP(timezone=True), nullable=False),
    sa.Index("ix_web_sessions_expires_at", "expires_at"),
    sa.CheckConstraint("(key_id IS NULL) <> (subject IS NULL)", name="key_or_subject"),
    sa.CheckConstraint("(subject IS NULL) = (role IS NULL)", name="subject_has_role"),
    schema="app",
)
