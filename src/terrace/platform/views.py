"""How a release looks to API clients: its state, the tables it owns, and where it is served."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from terrace.catalog.releases import Release, release_tables
from terrace.catalog.stac_items import PUBLISHED
from terrace.db.models.catalog import SERVED_SCHEMA
from terrace.db.pool import Connection
from terrace.public.export import EXPORT_OUTPUT
from terrace.stac.items import item_id

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
    """The release with its outputs (one entry per release table), service URLs, and its copy in
    the public zone (state, time, target)."""
    fields = {
        **{name: getattr(release, name) for name in RELEASE_FIELDS},
        "public_export": (release.outputs or {}).get(EXPORT_OUTPUT),
    }
    if release.data_type != "vector":
        return {
            **fields,
            "warnings": release.warnings,
            "outputs": raster_outputs(release),
            "services": raster_services(release),
        }
    tables = release_tables(conn, release.release_id)
    return {
        **fields,
        "warnings": release.warnings,
        "outputs": tables,
        "services": services(tables, release),
    }


def raster_outputs(release: Release) -> dict[str, Any]:
    """The COGs written, the STAC items awaiting approval and those published."""
    outputs = release.outputs or {}
    stac = outputs.get("stac") or {}
    return {
        "cogs": outputs.get("cogs", []),
        "mosaic": outputs.get("mosaic"),
        "stac_collection": (stac.get("collection") or {}).get("id"),
        "stac_items": [item["id"] for item in stac.get("items", [])],
        "stac_published": outputs.get(PUBLISHED),
    }


def raster_services(release: Release) -> list[dict[str, str]]:
    """Served tile URLs for the published items of an approved release; for a draft, the
    reviewer-only preview of each COG."""
    outputs = release.outputs or {}
    published = outputs.get(PUBLISHED)
    if published:
        return [_served_item(published["collection_id"], item) for item in published["item_ids"]]
    if release.approval_state != "pending_review":
        return []
    cogs = outputs.get("cogs", [])
    return [_draft_cog(release.release_id, index, cog["path"]) for index, cog in enumerate(cogs)]


def _served_item(collection_id: str, item_id: str) -> dict[str, str]:
    item = f"/tiles/collections/{collection_id}/items/{item_id}"
    return {
        "stac_item": f"/stac/collections/{collection_id}/items/{item_id}",
        "tiles": f"{item}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?assets=data",
        "tilejson": f"{item}/WebMercatorQuad/tilejson.json?assets=data",
        "preview": f"{item}/preview?assets=data",
        "viewer": f"/interface/catalog/stac/{collection_id}/{item_id}",
    }


def _draft_cog(release_id: str, index: int, path: str) -> dict[str, str]:
    """The reviewer-only preview of a draft COG, addressed by its release and place (by part)."""
    cog = f"/tiles/drafts/releases/{quote(release_id, safe='')}/cogs/{index}"
    return {
        "cog": path,
        "tiles": f"{cog}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}",
        "tilejson": f"{cog}/WebMercatorQuad/tilejson.json",
        "preview": f"{cog}/preview",
    }


def services(tables: list[dict[str, Any]], release: Release) -> list[dict[str, str]]:
    """Where served tables are published, with their STAC items; drafts and revoked tables are
    not served anywhere."""
    published = (release.outputs or {}).get(PUBLISHED) or {"collection_id": None, "item_ids": []}
    found = []
    for table in tables:
        if table["schema_name"] != SERVED_SCHEMA:
            continue
        name = table["table_name"]
        service = {
            "table_name": name,
            "collection": f"/features/collections/{name}",
            "items": f"/features/collections/{name}/items",
            "tiles": f"/features/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}",
        }
        item = item_id(
            release.dataset_id,
            release.resource_id,
            str(release.version_id),
            table["table_suffix"].lstrip("_"),
        )
        if item in published["item_ids"]:
            service["stac_item"] = f"/stac/collections/{published['collection_id']}/items/{item}"
        found.append(service)
    return found
