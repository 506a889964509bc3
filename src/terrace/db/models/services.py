"""The external service registry: services Terrace's users depend on, and their health checks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from terrace.db.models.base import NOW, created_at, metadata

SERVICE_TYPES = (
    "ogcapi-features",
    "ogcapi-tiles",
    "ogcapi-records",
    "stac-api",
    "wms",
    "wmts",
    "wfs",
    "arcgis-mapserver",
    "arcgis-featureserver",
    "arcgis-imageserver",
    "cog",
)
service_type_enum = pg.ENUM(*SERVICE_TYPES, name="service_type", schema="app", metadata=metadata)
CHECK_STATUSES = ("up", "degraded", "down")
check_status_enum = pg.ENUM(*CHECK_STATUSES, name="check_status", schema="app", metadata=metadata)

services = sa.Table(
    "services",
    metadata,
    sa.Column("service_id", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("service_type", service_type_enum, nullable=False),
    # What health checks fetch: the landing page, capabilities document, `?f=json` or the COG.
    sa.Column("check_url", sa.Text, nullable=False),
    # What the probe found: title, version, layers (names), layer_count, crs, extent.
    sa.Column("capabilities", pg.JSONB, nullable=False),
    # The key that registered it (its id; kept when the key is revoked, so no foreign key).
    sa.Column("registered_by", sa.Text, nullable=False),
    created_at(),
    schema="app",
)

service_checks = sa.Table(
    "service_checks",
    metadata,
    sa.Column("check_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "service_id", sa.Text, sa.ForeignKey("app.services.service_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("status", check_status_enum, nullable=False),
    sa.Column("latency_ms", sa.Float(precision=53)),
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("checked_at", pg.TIMESTAMP(timezone=True), nullable=False, server_default=NOW),
    sa.Index("ix_service_checks_service_id_checked_at", "service_id", "checked_at"),
    schema="app",
)
