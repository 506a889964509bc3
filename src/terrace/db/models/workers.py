"""Worker processes seen by the database (heartbeats), for health and the janitor."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import NOW, metadata

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("worker_id", sa.Text, primary_key=True),
    sa.Column("hostname", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("started_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW),
    sa.Column("last_seen_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW),
    sa.Column("stopped_at", pg.TIMESTAMP(timezone=True)),
    sa.Index("ix_workers_last_seen_at", "last_seen_at"),
    schema="app",
)
