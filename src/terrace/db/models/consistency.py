"""The catalog consistency check's reports and findings, and the audit of its repairs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import created_at, metadata
from terrace.db.models.orchestration import job_events

TIMESTAMP = pg.TIMESTAMP(timezone=True)

catalog_findings = sa.Table(
    "catalog_findings",
    metadata,
    sa.Column("finding_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, sa.ForeignKey("app.jobs.job_id", ondelete="CASCADE"), nullable=False),
    # The check (task) that found it: a retried task replaces exactly its own findings.
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("release_id", sa.Text),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("repair", sa.Text, nullable=False),
    created_at(),
    # Each object is reported once per kind and run.
    sa.UniqueConstraint("job_id", "kind", "object"),
    schema="app",
)

catalog_reports = sa.Table(
    "catalog_reports",
    metadata,
    sa.Column("job_id", sa.Text, sa.ForeignKey("app.jobs.job_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("checked_at", TIMESTAMP, nullable=False),
    sa.Column("counts", pg.JSONB, nullable=False),
    sa.Column("requested_by", sa.Text),
    sa.Index("ix_catalog_reports_checked_at", "checked_at"),
    schema="app",
)

catalog_audit = sa.Table(
    "catalog_audit",
    metadata,
    sa.Column("audit_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),  # the repair job
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("release_id", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),  # done | failed
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    created_at(),
    sa.Index("ix_catalog_audit_job_id", "job_id"),
    schema="app",
)

# The check reads a job's cleanup failures and repairs among millions of other events.
sa.Index(
    "ix_job_events_cleanup",
    job_events.c.job_id,
    job_events.c.event_id,
    postgresql_where=sa.text("kind IN ('cleanup_failed', 'cleanup_repaired')"),
)
