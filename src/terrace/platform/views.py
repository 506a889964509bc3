"""How a release looks to API clients: its state, the tables it owns, and where it is served."""

from __future__ import annotations

from typing import Any

from terrace.catalog.relations import SERVED_SCHEMA
from terrace.catalog.releases import Release, release_tables
from terrace.db.pool import Connection

RELEASE_FIELDS = (
    "release_id",
    "asset_id",
    "dataset_id",
    "resource_id",
    "data_type",
    "version_id",
    "suggested_version_id",
    "version_ordinal",
    "revision",
    "previous_release_id",
    "job_id",
    "title",
    "description",
    "access_level",
    "processing_status",
    "processing_started_at",
    "processing_completed_at",
    "approval_state",
    "reviewer",
    "reviewed_at",
    "approval_notes",
    "rejection_reason",
    "clearance_state",
    "is_served",
    "revoked_at",
    "revoked_by",
    "revocation_reason",
    "unpublished_at",
    "created_at",
    "updated_at",
)


def describe(conn: Connection, release: Release) -> dict[str, Any]:
    """The release with its outputs (one entry per release table) and service URLs."""
    tables = release_tables(conn, release["release_id"])
    return {
        **{name: release[name] for name in RELEASE_FIELDS},
        "warnings": release["warnings"],
        "outputs": tables,
        "services": services(tables),
    }


def services(tables: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Where served tables are published; drafts and revoked tables are not served anywhere."""
    return [
        {
            "table_name": name,
            "collection": f"/features/collections/{name}",
            "items": f"/features/collections/{name}/items",
            "tiles": f"/features/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}",
        }
        for name in (t["table_name"] for t in tables if t["schema_name"] == SERVED_SCHEMA)
    ]
