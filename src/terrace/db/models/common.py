"""Objects every schema shares: the updated_at trigger function."""

from __future__ import annotations

from terrace.db.models.base import SqlFunction

SET_UPDATED_AT = SqlFunction("app", "set_updated_at", "", "set_updated_at.sql")
