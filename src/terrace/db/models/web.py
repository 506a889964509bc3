"""State of the HTTP API shared by its processes: web UI sessions and rate-limit counters."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.auth import role_enum
from terrace.db.models.base import created_at, metadata

# One row per signed-in browser, deleted at sign-out, so a copied cookie dies too.
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

# Fixed-window request counters of the rate limits, one row per caller, route group and limit;
# every API process counts in the same row, so a limit holds however many processes serve.
rate_limit_counters = sa.Table(
    "rate_limit_counters",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("expires_at", pg.TIMESTAMP(timezone=True), nullable=False),
    sa.Index("ix_rate_limit_counters_expires_at", "expires_at"),
    schema="app",
)
