"""app.vector_etl_tracking: where each loaded table came from and how long each step took."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import created_at, metadata

vector_etl_tracking = sa.Table(
    "vector_etl_tracking",
    metadata,
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("source_format", sa.Text, nullable=False),
    sa.Column("source_crs", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.Text, nullable=False),
    sa.Column("feature_count", sa.BigInteger, nullable=False),
    sa.Column("dropped_count", sa.BigInteger, nullable=False),
    sa.Column("warnings", pg.JSONB, nullable=False),
    sa.Column("timings", pg.JSONB, nullable=False),
    created_at(),
    schema="app",
)
