"""Assets (stable identity of a dataset+resource) and their releases (versioned submissions)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import SqlFunction, Trigger, created_at, metadata, updated_at
from terrace.db.models.catalog import access_level_enum
from terrace.db.models.common import SET_UPDATED_AT

TIMESTAMP = pg.TIMESTAMP(timezone=True)
DATA_TYPES = ("vector", "raster", "raster_collection")
PROCESSING_STATES = ("pending", "processing", "completed", "failed")
APPROVAL_STATES = ("pending_review", "approved", "rejected", "revoked")
CLEARANCE_STATES = ("uncleared", "ouo", "public")
TABLE_ROLES = ("primary", "geometry_split", "view")
AUDIT_ACTIONS = ("approve", "reject", "revoke", "unpublish", "resubmit", "clearance")

data_type_enum = pg.ENUM(*DATA_TYPES, name="data_type", schema="app", metadata=metadata)
processing_enum = pg.ENUM(*PROCESSING_STATES, name="processing_status", schema="app", metadata=metadata)
approval_enum = pg.ENUM(*APPROVAL_STATES, name="approval_state", schema="app", metadata=metadata)
clearance_enum = pg.ENUM(*CLEARANCE_STATES, name="clearance_state", schema="app", metadata=metadata)
table_role_enum = pg.ENUM(*TABLE_ROLES, name="table_role", schema="app", metadata=metadata)
audit_action_enum = pg.ENUM(*AUDIT_ACTIONS, name="audit_action", schema="app", metadata=metadata)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("asset_id", sa.Text, primary_key=True),
    sa.Column("platform_id", sa.Text, nullable=False),
    sa.Column("dataset_id", sa.Text, nullable=False),
    sa.Column("resource_id", sa.Text, nullable=False),
    sa.Column("data_type", data_type_enum, nullable=False),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("platform_id", "dataset_id", "resource_id"),
    schema="app",
)

asset_releases = sa.Table(
    "asset_releases",
    metadata,
    sa.Column("release_id", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("app.assets.asset_id"), nullable=False),
    sa.Column("submission_key", sa.Text, nullable=False),
    sa.Column("version_id", sa.Text),
    sa.Column("suggested_version_id", sa.Text),
    sa.Column("version_ordinal", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("previous_release_id", sa.Text, sa.ForeignKey("app.asset_releases.release_id")),
    sa.Column("job_id", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("access_level", access_level_enum, nullable=False),
    # Roles that may see the release once served when its access level is `restricted`.
    sa.Column("granted_roles", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("source", pg.JSONB, nullable=False),
    sa.Column("processing_options", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("outputs", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("warnings", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("processing_status", processing_enum, nullable=False, server_default="pending"),
    sa.Column("processing_started_at", TIMESTAMP),
    sa.Column("processing_completed_at", TIMESTAMP),
    sa.Column("last_error", pg.JSONB),
    sa.Column("approval_state", approval_enum, nullable=False, server_default="pending_review"),
    sa.Column("reviewer", sa.Text),
    sa.Column("reviewed_at", TIMESTAMP),
    sa.Column("approval_notes", sa.Text),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("clearance_state", clearance_enum, nullable=False, server_default="uncleared"),
    sa.Column("is_served", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("revoked_at", TIMESTAMP),
    sa.Column("revoked_by", sa.Text),
    sa.Column("revocation_reason", sa.Text),
    sa.Column("unpublished_at", TIMESTAMP),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("asset_id", "version_ordinal"),
    # A version id names one release of an asset for good: revoked releases keep theirs.
    sa.Index(
        "uq_asset_releases_version",
        "asset_id",
        "version_id",
        unique=True,
        postgresql_where=sa.text("version_id IS NOT NULL"),
    ),
    sa.Index("ix_asset_releases_job_id", "job_id"),
    sa.Index(
        "ix_asset_releases_pending", "asset_id", postgresql_where=sa.text("approval_state = 'pending_review'")
    ),
    sa.CheckConstraint(
        "(version_id IS NOT NULL) = (approval_state IN ('approved', 'revoked'))", name="version_when_approved"
    ),
    sa.CheckConstraint(
        "approval_state <> 'approved' OR processing_status = 'completed'", name="approved_is_processed"
    ),
    sa.CheckConstraint("NOT is_served OR approval_state = 'approved'", name="served_is_approved"),
    schema="app",
)

release_tables = sa.Table(
    "release_tables",
    metadata,
    sa.Column(
        "release_id",
        sa.Text,
        sa.ForeignKey("app.asset_releases.release_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("geometry_type", sa.Text, nullable=False),
    sa.Column("feature_count", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    sa.Column("table_role", table_role_enum, nullable=False, server_default="primary"),
    sa.Column("table_suffix", sa.Text, nullable=False, server_default=""),
    created_at(),
    schema="app",
)

api_requests = sa.Table(
    "api_requests",
    metadata,
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column(
        "release_id",
        sa.Text,
        sa.ForeignKey("app.asset_releases.release_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("submitted_by", sa.Text, nullable=False),
    sa.Column("payload", pg.JSONB, nullable=False),
    # The X-Request-ID of the HTTP request, which the job, its events and its log lines carry.
    sa.Column("http_request_id", sa.Text),
    created_at(),
    sa.Index("ix_api_requests_job_id", "job_id"),
    sa.Index("ix_api_requests_release_id", "release_id"),
    schema="app",
)

approval_audit = sa.Table(
    "approval_audit",
    metadata,
    sa.Column("event_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("release_id", sa.Text, nullable=False),
    sa.Column("action", audit_action_enum, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    created_at(),
    sa.Index("ix_approval_audit_release_id", "release_id"),
    schema="app",
)

RELEASE_VISIBLE_TO = SqlFunction(
    "app", "release_visible_to", "text, text[], text[], boolean, text", "release_visible_to.sql"
)

TRIGGERS = (
    Trigger("trg_assets_updated_at", assets, SET_UPDATED_AT, "BEFORE UPDATE"),
    Trigger("trg_asset_releases_updated_at", asset_releases, SET_UPDATED_AT, "BEFORE UPDATE"),
)
